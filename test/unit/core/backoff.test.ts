import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/core/backoff.js';

describe('backoffDelay', () => {
  it.each<[number, number, number, number]>([
    [1, 10_000, 300_000, 10_000],
    [2, 10_000, 300_000, 20_000],
    [3, 10_000, 300_000, 40_000],
    [5, 10_000, 300_000, 160_000],
    [6, 10_000, 300_000, 300_000], // 320 s capped
    [1000, 10_000, 300_000, 300_000], // 2 ** 999 overflows to Infinity; still the cap
    [1, 10_000, 10_000, 10_000],
    [3, 0, 0, 0],
  ])('attempt %d, base %d, max %d → %d', (attempt, base, max, expected) => {
    expect(backoffDelay(attempt, base, max)).toBe(expected);
  });

  it.each<[number, number]>([
    [0, 20_000], // equal jitter: never below half the nominal delay
    [0.5, 30_000],
    [0.999_999, 40_000],
  ])('with random() = %d, attempt 3 of 10 s → %d', (r, expected) => {
    expect(backoffDelay(3, 10_000, 300_000, () => r)).toBe(expected);
  });

  it('jitter stays within the cap', () => {
    expect(backoffDelay(50, 10_000, 300_000, () => 0.999)).toBeLessThanOrEqual(300_000);
  });

  it.each<[number, number, number, string]>([
    [0, 10, 100, 'Expected `attempt` to be an integer from 1 and up, got `0` (number)'],
    [1.5, 10, 100, 'Expected `attempt` to be an integer from 1 and up, got `1.5`'],
    [Number.NaN, 10, 100, 'got `NaN`'],
    [1, -1, 100, 'Expected `baseMs` to be a finite number from 0 and up, got `-1`'],
    [1, 100, 10, 'Expected `maxMs` to be at least baseMs (100), got `10`'],
  ])('refuses attempt %d, base %d, max %d', (attempt, base, max, message) => {
    expect(() => backoffDelay(attempt, base, max)).toThrow(message);
  });
});
