import { describe, expect, it } from 'vitest';
import { isLockContention, isPaceSample, nextConcurrency } from '../../../src/core/adaptive-concurrency.js';

describe('nextConcurrency', () => {
  const auto = { min: 1, max: 8 };
  it.each([
    // limit, pace (answers, slow), contended → next
    { what: 'a clean run steps up one', limit: 4, answers: 24, slow: 0, contended: false, next: 5 },
    { what: 'no answers seen (a skipped reconcile) counts as clean', limit: 4, answers: 0, slow: 0, contended: false, next: 5 },
    { what: 'never above max', limit: 8, answers: 24, slow: 0, contended: false, next: 8 },
    { what: 'a tenth slow is still clean', limit: 6, answers: 20, slow: 2, contended: false, next: 7 },
    { what: 'more than a tenth slow steps down one', limit: 6, answers: 20, slow: 3, contended: false, next: 5 },
    { what: 'never below min when slow', limit: 1, answers: 10, slow: 10, contended: false, next: 1 },
    { what: 'lock contention halves', limit: 8, answers: 24, slow: 0, contended: true, next: 4 },
    { what: 'lock contention halves, rounding down', limit: 5, answers: 0, slow: 0, contended: true, next: 2 },
    { what: 'lock contention never below min', limit: 1, answers: 0, slow: 0, contended: true, next: 1 },
  ])('$what: $limit → $next', ({ limit, answers, slow, contended, next }) => {
    expect(nextConcurrency(limit, auto, { answers, slow }, contended)).toBe(next);
  });

  it.each([
    { bounds: { min: 3, max: 3 }, contended: true, next: 3 },
    { bounds: { min: 3, max: 3 }, contended: false, next: 3 },
    { bounds: { min: 2, max: 16 }, contended: true, next: 2 },
  ])('bounds $bounds hold (contended $contended)', ({ bounds, contended, next }) => {
    expect(nextConcurrency(3, bounds, { answers: 10, slow: contended ? 0 : 10 }, contended)).toBe(next);
  });
});

describe('isLockContention', () => {
  it.each([
    ['Error response from daemon: database is locked', true],
    ['compose up failed: ... SQLITE_BUSY ...', true],
    ['Error response from daemon: DATABASE IS LOCKED', true],
    ['network fm_default was found but has incorrect label', false],
    ['', false],
    [undefined, false],
  ])('%j → %s', (reason, yes) => {
    expect(isLockContention(reason)).toBe(yes);
  });
});

describe('isPaceSample', () => {
  it.each([
    ['/v1.41/containers/create?name=a-web-1', true],
    ['/v1.41/containers/abc/start', true],
    ['/v1.41/containers/json?all=1&filters=%7B%7D', true],
    ['/v1.41/networks/create', true],
    ['/v1.41/events?filters=x', false],
    ['/v1.41/events', false],
    ['/v1.41/containers/abc/wait?condition=not-running', false],
    ['/v1.41/containers/abc/logs?follow=1', false],
    ['/v1.41/containers/abc/attach?stream=1', false],
    ['/v1.41/containers/abc/stats', false],
    ['/v1.41/containers/waitress/json', true],
  ])('%s → %s', (url, yes) => {
    expect(isPaceSample(url)).toBe(yes);
  });
});
