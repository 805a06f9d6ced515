import { describe, expect, it } from 'vitest';
import { ConfigValueError, MAX_DURATION_MS, parseDuration, writeDuration } from '../../../src/core/duration.js';

describe('parseDuration', () => {
  it.each<[string | number, number]>([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1.5h', 5_400_000],
    [' 5m ', 300_000],
    ['0s', 0],
    ['24d', MAX_DURATION_MS],
    [30, 30_000], // a bare number means seconds
    [0.25, 250],
    ['30', 30_000],
    [0, 0],
  ])('%j → %d ms', (input, ms) => {
    expect(parseDuration(input, 'queue.retryBase')).toBe(ms);
  });

  it.each<[string | number, string]>([
    ['5 minutes', 'expected a duration like 30s, 5m or 1h'],
    ['', 'expected a duration like 30s, 5m or 1h'],
    ['1h 30m', 'expected a duration like 30s, 5m or 1h'],
    ['30m1h', 'expected a duration like 30s, 5m or 1h'], // largest unit first
    ['1h1h', 'expected a duration like 30s, 5m or 1h'],
    ['-5s', 'expected a duration like 30s, 5m or 1h'],
    ['5M', 'expected a duration like 30s, 5m or 1h'],
    ['1w', 'expected a duration like 30s, 5m or 1h'],
    ['s', 'expected a duration like 30s, 5m or 1h'],
    [-1, 'expected a duration like 30s, 5m or 1h'],
    [Number.NaN, 'expected a duration like 30s, 5m or 1h'],
    [Number.POSITIVE_INFINITY, 'expected a duration like 30s, 5m or 1h'],
    ['25d', 'at most 24d'],
    [30 * 86_400, 'at most 24d'],
  ])('%j is refused: %s', (input, expected) => {
    let caught: unknown;
    try {
      parseDuration(input, 'stacks[2].startupTimeout');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigValueError);
    const err = caught as ConfigValueError;
    expect(err.code).toBe('STACKD_CONFIG_VALUE');
    expect(err.path).toBe('stacks[2].startupTimeout');
    expect(err.message).toContain('stacks[2].startupTimeout: ');
    expect(err.message).toContain(`got ${JSON.stringify(input)}`);
    expect(err.message).toContain(expected);
  });

  it('refuses 0 when the setting needs a positive duration', () => {
    expect(() => parseDuration('0s', 'cleanup.gcEvery', { allowZero: false })).toThrow(
      'cleanup.gcEvery: got "0s"; expected a duration greater than 0',
    );
    expect(parseDuration('1ms', 'cleanup.gcEvery', { allowZero: false })).toBe(1);
  });
});

describe('writeDuration: as the config writes it, and parseDuration reads it back', () => {
  it.each<[number, string]>([
    [0, '0s'], [45_000, '45s'], [90_000, '1m30s'], [300_000, '5m'], [3_600_000, '1h'], [5_430_000, '1h30m30s'],
  ])('%d ms → %s', (ms, text) => {
    expect(writeDuration(ms)).toBe(text);
    expect(parseDuration(text, 'x')).toBe(ms);
  });
});
