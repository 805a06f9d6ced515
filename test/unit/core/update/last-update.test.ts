import { describe, expect, it } from 'vitest';
import { lastUpdateOf } from '../../../../src/core/update/last-update.js';
import type { Updated } from '../../../../src/core/update/types.js';

const AT = '2026-11-28T03:00:00.000Z';
const rows = (...u: Updated[]) => u.map((Updated) => ({ Updated }));

describe('lastUpdateOf: the worst of a stack\'s rows', () => {
  it.each([
    [['false'], 'up to date'],
    [['false', 'pending'], 'available'],
    [['pending', 'true', 'false'], 'updated'],
    [['true', 'rolled back'], 'rolled back'],
    [['rolled back', 'failed', 'true'], 'failed'],
    [['skipped', 'false'], 'up to date'],
  ] as [Updated[], string][])('%j → %s', (given, result) => {
    expect(lastUpdateOf(rows(...given), AT)).toEqual({ result, finishedAt: AT });
  });

  it('only skipped services, or none labelled: no last update', () => {
    expect(lastUpdateOf(rows('skipped', 'skipped'), AT)).toBeUndefined();
    expect(lastUpdateOf([], AT)).toBeUndefined();
  });
});
