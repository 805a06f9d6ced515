import { describe, expect, it } from 'vitest';
import type { ReconcileResult } from '../../../src/core/model.js';
import { REASON_CODES, REASONS } from '../../../src/core/reason-codes.js';
import { ReconcileQueue, type RunContext } from '../../../src/supervisor/reconcile-queue.js';

// A run function whose every call stays open until the test settles it, so ordering is explicit.
function controlledRuns() {
  const calls: { ctx: RunContext; settle: (r: ReconcileResult) => void }[] = [];
  const run = (ctx: RunContext) => new Promise<ReconcileResult>((resolve) => calls.push({ ctx, settle: resolve }));
  return { calls, run };
}

const ok = (tag: string): ReconcileResult => ({ result: 'ok', reason: tag, startedAt: '', finishedAt: '', durationMs: 0 });
const failed = (tag: string, reasonCode: ReconcileResult['reasonCode'] = 'compose-failed'): ReconcileResult => ({
  result: 'failed', reasonCode, reason: tag, startedAt: '', finishedAt: '', durationMs: 0,
});
const tick = () => new Promise((r) => setImmediate(r));

function manualTimers() {
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const setTimer = (fn: () => void, ms: number) => {
    const t = { fn, ms, cancelled: false };
    timers.push(t);
    return { cancel: () => { t.cancelled = true; } };
  };
  return { timers, setTimer };
}

function makeQueue(run: (ctx: RunContext) => Promise<ReconcileResult>, extra: Partial<ConstructorParameters<typeof ReconcileQueue>[0]> = {}) {
  return new ReconcileQueue({
    concurrency: 2, retryBaseMs: 1000, retryMaxMs: 8000, run,
    // r = 1 gives the nominal delay (the top of the jitter range), so delays below are exact
    random: () => 1,
    ...extra,
  });
}

describe('coalescing', () => {
  it.each([
    { triggersWhileQueued: 1, triggersWhileRunning: 0, runs: 1 },
    { triggersWhileQueued: 20, triggersWhileRunning: 0, runs: 1 },
    { triggersWhileQueued: 1, triggersWhileRunning: 1, runs: 2 },
    { triggersWhileQueued: 1, triggersWhileRunning: 19, runs: 2 },
  ])('$triggersWhileQueued queued + $triggersWhileRunning during the run → $runs runs', async ({ triggersWhileQueued, triggersWhileRunning, runs }) => {
    const { calls, run } = controlledRuns();
    // concurrency 1 with a blocker keeps the stack "queued" while the first triggers arrive
    const q = makeQueue(run, { concurrency: 1 });
    const blocker = q.trigger('blocker', 'request');
    const first = Array.from({ length: triggersWhileQueued }, () => q.trigger('app', 'request'));
    expect(q.phase('app').phase).toBe('queued');
    calls[0]!.settle(ok('blocker'));
    await blocker;
    await tick();
    expect(calls.map((c) => c.ctx.stack)).toEqual(['blocker', 'app']);
    const later = Array.from({ length: triggersWhileRunning }, () => q.trigger('app', 'request'));
    calls[1]!.settle(ok('run1'));
    const firstVerdicts = await Promise.all(first);
    expect(firstVerdicts.every((v) => v.reason === 'run1')).toBe(true);
    await tick();
    if (runs === 2) {
      expect(calls).toHaveLength(3);
      calls[2]!.settle(ok('run2'));
      const laterVerdicts = await Promise.all(later);
      expect(laterVerdicts.every((v) => v.reason === 'run2')).toBe(true);
    }
    await tick();
    expect(calls.filter((c) => c.ctx.stack === 'app')).toHaveLength(runs);
    expect(q.phase('app').phase).toBe('idle');
  });

  it('a waiter never gets the verdict of a run that started before its request', async () => {
    const { calls, run } = controlledRuns();
    const q = makeQueue(run);
    const early = q.trigger('app', 'request');
    await tick();
    expect(q.phase('app').phase).toBe('reconciling');
    const late = q.trigger('app', 'request');
    calls[0]!.settle(failed('old inputs'));
    expect((await early).reason).toBe('old inputs');
    await tick();
    calls[1]!.settle(ok('new inputs'));
    expect((await late).reason).toBe('new inputs');
  });

  it('runs different stacks in parallel up to the concurrency, one stack never twice at once', async () => {
    const { calls, run } = controlledRuns();
    const q = makeQueue(run, { concurrency: 2 });
    void q.trigger('a', 'request');
    void q.trigger('b', 'request');
    void q.trigger('c', 'request');
    void q.trigger('a', 'request');
    await tick();
    expect(calls.map((c) => c.ctx.stack)).toEqual(['a', 'b']);
    expect(q.phase('c').phase).toBe('queued');
    calls[0]!.settle(ok('a1'));
    await tick();
    await tick();
    // c was queued before a's rerun was enqueued
    expect(calls.map((c) => c.ctx.stack)).toEqual(['a', 'b', 'c']);
    calls[1]!.settle(ok('b1'));
    await tick();
    await tick();
    expect(calls.map((c) => c.ctx.stack)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('records every source a run absorbed', async () => {
    const { calls, run } = controlledRuns();
    const q = makeQueue(run, { concurrency: 1 });
    void q.trigger('blocker', 'request');
    void q.trigger('app', 'start');
    q.poke('app', 'resync');
    void q.trigger('app', 'request');
    calls[0]!.settle(ok(''));
    await tick();
    await tick();
    expect(calls[1]!.ctx.sources).toEqual(['start', 'request']);
  });
});

describe('retry with backoff', () => {
  it.each([
    { failures: 1, expectedDelays: [1000] },
    { failures: 3, expectedDelays: [1000, 2000, 4000] },
    { failures: 5, expectedDelays: [1000, 2000, 4000, 8000, 8000] },
  ])('$failures retryable failures back off $expectedDelays', async ({ failures, expectedDelays }) => {
    const { calls, run } = controlledRuns();
    const { timers, setTimer } = manualTimers();
    const q = makeQueue(run, { setTimer });
    void q.trigger('app', 'request');
    for (let i = 0; i < failures; i++) {
      await tick();
      calls[i]!.settle(failed(`f${i}`));
      await tick();
      expect(q.phase('app').phase).toBe('backoff');
      expect(q.phase('app').retryAt).toBeDefined();
      timers[i]!.fn();
    }
    await tick();
    expect(timers.map((t) => t.ms)).toEqual(expectedDelays);
    expect(calls[failures]!.ctx.sources).toEqual(['retry']);
    expect(calls[failures]!.ctx.attempt).toBe(failures + 1);
    calls[failures]!.settle(ok('recovered'));
    await tick();
    expect(q.phase('app').phase).toBe('idle');
  });

  it('does not retry a failure only a new config can fix', async () => {
    const { calls, run } = controlledRuns();
    const { timers, setTimer } = manualTimers();
    const q = makeQueue(run, { setTimer });
    const v = q.trigger('app', 'request');
    await tick();
    calls[0]!.settle(failed('missing label', 'label-invariant'));
    expect((await v).reasonCode).toBe('label-invariant');
    await tick();
    expect(timers).toHaveLength(0);
    expect(q.phase('app').phase).toBe('idle');
  });

  it.each([
    { source: 'request', how: 'trigger', runsNow: true },
    { source: 'config', how: 'poke', runsNow: true }, // the new config may be the fix the failure waits for
    { source: 'start', how: 'poke', runsNow: true },
    { source: 'resync', how: 'poke', runsNow: false },
    { source: 'event', how: 'poke', runsNow: false },
  ] as const)('a $source ($how) during backoff runs now: $runsNow', async ({ source, how, runsNow }) => {
    const { calls, run } = controlledRuns();
    const { timers, setTimer } = manualTimers();
    const q = makeQueue(run, { setTimer });
    void q.trigger('app', 'request');
    await tick();
    calls[0]!.settle(failed('f'));
    await tick();
    expect(q.phase('app').phase).toBe('backoff');
    if (how === 'trigger') void q.trigger('app', source);
    else q.poke('app', source);
    await tick();
    expect(timers[0]!.cancelled).toBe(runsNow);
    expect(calls).toHaveLength(runsNow ? 2 : 1);
    if (runsNow) expect(calls[1]!.ctx.sources).toEqual([source]);
  });

  it('turns a thrown error into a failed internal result for every waiter', async () => {
    const q = makeQueue(async () => { throw new Error('boom'); }, { setTimer: manualTimers().setTimer });
    const v = await q.trigger('app', 'request');
    expect(v).toMatchObject({ result: 'failed', reasonCode: 'internal', reason: 'internal error: boom' });
  });
});

describe('the one retry policy (core/reason-codes.ts) decides what the queue retries', () => {
  const failures = REASON_CODES.filter((code) => REASONS[code].retry !== 'none');
  it.each(failures)('%s', async (code) => {
    const { calls, run } = controlledRuns();
    const { timers, setTimer } = manualTimers();
    const q = makeQueue(run, { setTimer });
    const v = q.trigger('app', 'request');
    await tick();
    calls[0]!.settle(failed('f', code));
    await v;
    await tick();
    const byClock = REASONS[code].retry === 'clock';
    expect(timers).toHaveLength(byClock ? 1 : 0);
    expect(q.phase('app').phase).toBe(byClock ? 'backoff' : 'idle');
  });
});

describe('jitter', () => {
  it.each([
    { r: 0, attempt1: 500, attempt3: 2000 },
    { r: 0.5, attempt1: 750, attempt3: 3000 },
    { r: 0.999, attempt1: 1000, attempt3: 3998 },
  ])('random $r spreads the delay within [d/2, d): $attempt1, then $attempt3', async ({ r, attempt1, attempt3 }) => {
    const { calls, run } = controlledRuns();
    const { timers, setTimer } = manualTimers();
    const q = makeQueue(run, { setTimer, random: () => r });
    void q.trigger('app', 'request');
    for (let i = 0; i < 3; i++) {
      await tick();
      calls[i]!.settle(failed(`f${i}`));
      await tick();
      timers[i]!.fn();
    }
    expect(timers[0]!.ms).toBe(attempt1);
    expect(timers[2]!.ms).toBe(attempt3);
  });

  it('stacks that failed together get different delays from a real random source', async () => {
    const { calls, run } = controlledRuns();
    const { timers, setTimer } = manualTimers();
    const q = makeQueue(run, { setTimer, concurrency: 20, random: Math.random, retryBaseMs: 60_000, retryMaxMs: 60_000 });
    const names = Array.from({ length: 20 }, (_, i) => `s${i}`);
    for (const n of names) void q.trigger(n, 'request');
    await tick();
    for (const c of calls) c.settle(failed('podman restarted', 'podman-unreachable'));
    await tick();
    expect(timers).toHaveLength(20);
    expect(new Set(timers.map((t) => t.ms)).size).toBeGreaterThan(10);
    expect(timers.every((t) => t.ms >= 30_000 && t.ms <= 60_000)).toBe(true);
  });
});

describe('config pokes and shutdown', () => {
  it('after close() no follow-up run starts and pokes are ignored', async () => {
    const { calls, run } = controlledRuns();
    const { timers, setTimer } = manualTimers();
    const q = makeQueue(run, { setTimer });
    const v = q.trigger('app', 'request');
    await tick();
    void q.trigger('app', 'request'); // a rerun would follow the current run
    const closing = q.close();
    calls[0]!.settle(failed('f'));
    await v;
    await closing;
    q.poke('app', 'resync');
    await tick();
    expect(calls).toHaveLength(1);
    expect(timers).toHaveLength(0);
    await expect(q.trigger('app', 'request')).rejects.toThrow(/shutting down/);
  });

  it('tells each waiter when the run that answers it starts', async () => {
    const { calls, run } = controlledRuns();
    const q = makeQueue(run, { concurrency: 1 });
    const started: string[] = [];
    void q.trigger('blocker', 'request');
    void q.trigger('app', 'request', { onStart: () => started.push('app') });
    await tick();
    expect(started).toEqual([]);
    calls[0]!.settle(ok('b'));
    await tick();
    await tick();
    expect(started).toEqual(['app']);
  });
});

describe('options', () => {
  it.each([0, -1, 1.5, Number.NaN])('refuses concurrency %s with a message naming it', (concurrency) => {
    expect(() => makeQueue(async () => ok(''), { concurrency })).toThrow(/Expected `concurrency` to be an integer from 1 and up, got `/);
  });
});

describe('runExclusive: an update holds the stack slot', () => {
  it('a reconcile triggered during the task waits and runs right after it', async () => {
    const { calls, run } = controlledRuns();
    const q = makeQueue(run);
    const order: string[] = [];
    let finishTask!: () => void;
    const task = q.runExclusive('app', 'updating', () => new Promise<string>((r) => {
      order.push('task start');
      finishTask = () => { order.push('task end'); r('done'); };
    }));
    await tick();
    expect(q.phase('app').phase).toBe('updating');
    const v = q.trigger('app', 'request');
    await tick();
    expect(calls).toHaveLength(0);
    finishTask();
    expect(await task).toBe('done');
    await tick();
    expect(calls).toHaveLength(1);
    order.push('reconcile');
    calls[0]!.settle(ok('after'));
    expect((await v).reason).toBe('after');
    expect(order).toEqual(['task start', 'task end', 'reconcile']);
  });

  it('waits for a running reconcile of the same stack; other stacks are not held up', async () => {
    const { calls, run } = controlledRuns();
    const q = makeQueue(run, { concurrency: 3 });
    void q.trigger('app', 'request');
    await tick();
    let started = false;
    const task = q.runExclusive('app', 'updating', async () => { started = true; return 1; });
    void q.trigger('other', 'request');
    await tick();
    expect(started).toBe(false);
    expect(calls.map((c) => c.ctx.stack)).toEqual(['app', 'other']);
    calls[0]!.settle(ok('r'));
    await task;
    expect(started).toBe(true);
  });

  it('a failing task rejects and frees the slot', async () => {
    const { calls, run } = controlledRuns();
    const q = makeQueue(run);
    await expect(q.runExclusive('app', 'updating', async () => { throw new Error('pull failed'); })).rejects.toThrow('pull failed');
    void q.trigger('app', 'request');
    await tick();
    expect(calls).toHaveLength(1);
    expect(q.phase('app').phase).toBe('reconciling');
  });
});

describe('setConcurrency', () => {
  it('raising it starts waiting stacks at once; lowering it lets running ones finish and holds the rest', async () => {
    const { calls, run } = controlledRuns();
    const q = makeQueue(run, { concurrency: 1 });
    const verdicts = ['a', 'b', 'c', 'd'].map((s) => q.trigger(s, 'request'));
    await tick();
    expect(calls.map((c) => c.ctx.stack)).toEqual(['a']);
    q.setConcurrency(3);
    await tick();
    expect(q.concurrency).toBe(3);
    expect(calls.map((c) => c.ctx.stack)).toEqual(['a', 'b', 'c']);
    q.setConcurrency(1);
    calls[0]!.settle(ok('a'));
    calls[1]!.settle(ok('b'));
    await tick();
    expect(calls).toHaveLength(3); // c still runs: d waits for it
    calls[2]!.settle(ok('c'));
    await tick();
    expect(calls.map((c) => c.ctx.stack)).toEqual(['a', 'b', 'c', 'd']);
    calls[3]!.settle(ok('d'));
    expect((await Promise.all(verdicts)).map((v) => v.reason)).toEqual(['a', 'b', 'c', 'd']);
  });

  it.each([0, 1.5, -1])('refuses %s', (n) => {
    const q = makeQueue(controlledRuns().run);
    expect(() => q.setConcurrency(n)).toThrow(/concurrency/);
  });
});
