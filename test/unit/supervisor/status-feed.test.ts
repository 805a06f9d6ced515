// The feed announces a stack when its status JSON changes, once per change, pokes in one turn coalesced; a
// stack no longer listed is `gone`; the sweep catches what time alone changes; nobody listening costs nothing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StackStatus } from '../../../src/core/model.js';
import type { StackEvent } from '../../../src/supervisor/api.js';
import { StatusFeed } from '../../../src/supervisor/status-feed.js';
import { makeStack } from '../../contract/http/fake-supervisor.js';

const tick = () => new Promise((r) => setImmediate(r));

function setup(initial: StackStatus[], sweepMs = 60_000) {
  let stacks = initial;
  let lists = 0;
  const feed = new StatusFeed({ list: () => { lists++; return stacks; }, sweepMs });
  const seen: StackEvent[] = [];
  return {
    feed, seen,
    set: (next: StackStatus[]) => { stacks = next; },
    lists: () => lists,
    listen: () => feed.subscribe((e) => seen.push(e)),
  };
}

afterEach(() => { vi.useRealTimers(); });

describe('StatusFeed', () => {
  it.each<[string, (s: StackStatus) => Partial<StackStatus>]>([
    ['state', () => ({ state: 'degraded' })],
    ['health', () => ({ health: 'degraded' })],
    ['phase', () => ({ phase: 'reconciling' })],
    ['a container', (s) => ({ containers: s.containers.map((c, i) => (i === 0 ? { ...c, state: 'exited' } : c)) })],
  ])('announces a change of %s with the whole status', async (_what, change) => {
    const t = setup([makeStack('a'), makeStack('b')]);
    t.listen();
    const changed = { ...makeStack('a'), ...change(makeStack('a')) };
    t.set([changed, makeStack('b')]);
    t.feed.poke();
    await tick();
    expect(t.seen).toEqual([{ kind: 'stack', stack: changed }]);
  });

  it('says nothing when a poke changed nothing, and coalesces pokes of one turn into one comparison', async () => {
    const t = setup([makeStack('a')]);
    t.listen();
    const before = t.lists();
    for (let i = 0; i < 10; i++) t.feed.poke();
    await tick();
    expect(t.lists() - before).toBe(1);
    expect(t.seen).toEqual([]);
  });

  it('announces one event per change, not per poke', async () => {
    const t = setup([makeStack('a')]);
    t.listen();
    t.set([makeStack('a', { state: 'failed' })]);
    t.feed.poke();
    await tick();
    t.feed.poke();
    await tick();
    expect(t.seen).toHaveLength(1);
  });

  it('a stack no longer listed is gone; a new one is announced', async () => {
    const t = setup([makeStack('a'), makeStack('b')]);
    t.listen();
    t.set([makeStack('b'), makeStack('c')]);
    t.feed.poke();
    await tick();
    expect(t.seen).toEqual([{ kind: 'stack', stack: makeStack('c') }, { kind: 'gone', name: 'a' }]);
  });

  it('the sweep finds changes nobody poked for (time passing)', () => {
    vi.useFakeTimers();
    const t = setup([makeStack('a', { health: 'progressing', state: 'progressing' })], 1000);
    t.listen();
    t.set([makeStack('a', { health: 'degraded', state: 'degraded' })]);
    vi.advanceTimersByTime(1000);
    expect(t.seen.map((e) => e.kind === 'stack' && e.stack.state)).toEqual(['degraded']);
  });

  it('does no work and holds no timer while nobody listens; the last unsubscribe stops it', async () => {
    vi.useFakeTimers();
    const t = setup([makeStack('a')], 1000);
    t.feed.poke();
    expect(vi.getTimerCount()).toBe(0);
    expect(t.lists()).toBe(0);
    const off1 = t.listen();
    const off2 = t.feed.subscribe(() => undefined);
    expect(t.feed.subscribers).toBe(2);
    off1();
    expect(vi.getTimerCount()).toBe(1);
    off2();
    off2(); // twice is harmless
    expect(t.feed.subscribers).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a listener that throws does not keep the others from hearing', async () => {
    const t = setup([makeStack('a')]);
    t.feed.subscribe(() => { throw new Error('client gone'); });
    t.listen();
    t.set([makeStack('a', { state: 'failed' })]);
    t.feed.poke();
    await tick();
    expect(t.seen).toHaveLength(1);
  });
});
