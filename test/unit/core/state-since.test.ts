import { describe, expect, it } from 'vitest';
import { secondsIn, trackStateSince, type StateSince } from '../../../src/core/state-since.js';

describe('trackStateSince / secondsIn', () => {
  const empty = new Map<string, StateSince>();

  it('a stack first seen starts its clock then; unchanged keeps it; a change restarts it', () => {
    let m = trackStateSince(empty, [{ name: 'a', state: 'degraded' }, { name: 'b', state: 'converged' }], 1_000);
    expect(secondsIn(m, 'a', 'degraded', 1_000)).toBe(0);
    m = trackStateSince(m, [{ name: 'a', state: 'degraded' }, { name: 'b', state: 'converged' }], 61_000);
    expect(secondsIn(m, 'a', 'degraded', 61_000)).toBe(60);
    expect(secondsIn(m, 'b', 'degraded', 61_000)).toBe(0);
    m = trackStateSince(m, [{ name: 'a', state: 'converged' }, { name: 'b', state: 'converged' }], 62_000);
    expect(secondsIn(m, 'a', 'degraded', 70_000)).toBe(0);
    m = trackStateSince(m, [{ name: 'a', state: 'degraded' }], 80_000);
    expect(secondsIn(m, 'a', 'degraded', 90_000)).toBe(10); // a new stretch, not the sum
  });

  it('a stack that left the list is forgotten; an unknown one is 0', () => {
    const m = trackStateSince(trackStateSince(empty, [{ name: 'a', state: 'degraded' }], 0), [], 5_000);
    expect([...m.keys()]).toEqual([]);
    expect(secondsIn(m, 'a', 'degraded', 10_000)).toBe(0);
  });

  it('a clock that went back never gives a negative duration', () => {
    const m = trackStateSince(empty, [{ name: 'a', state: 'degraded' }], 10_000);
    expect(secondsIn(m, 'a', 'degraded', 9_000)).toBe(0);
  });
});
