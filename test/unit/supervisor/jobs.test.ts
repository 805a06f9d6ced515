// JobRegistry: bounded table, joining, long-poll waits (fake timers), and finished jobs staying finished.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../../src/supervisor/api.js';
import { JobRegistry, KEEP_FINISHED } from '../../../src/supervisor/jobs.js';
import { T0 } from './fakes.js';

function registry() {
  let now = T0;
  let n = 0;
  const jobs = new JobRegistry(() => now, () => `j${++n}`);
  return { jobs, advance: (ms: number) => { now += ms; } };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the table stays bounded', () => {
  it(`10 000 finished jobs: at most KEEP_FINISHED (${KEEP_FINISHED}) kept beside the open ones; recent ones found, oldest gone`, () => {
    const { jobs } = registry();
    const open = ['a', 'b', 'c'].map((s) => jobs.create('up', s));
    const finished: Job[] = [];
    for (let i = 0; i < 10_000; i++) {
      const j = jobs.create(i % 3 === 0 ? 'check' : 'stop', `s${i % 50}`);
      jobs.update(j.id, { status: i % 2 ? 'done' : 'failed' });
      finished.push(j);
      expect(jobs.size).toBeLessThanOrEqual(KEEP_FINISHED + open.length);
    }
    expect(jobs.size).toBe(KEEP_FINISHED + open.length);
    for (const o of open) expect(jobs.get(o.id)?.status).toBe('queued');
    for (const j of finished.slice(-KEEP_FINISHED)) expect(jobs.get(j.id)?.status).toMatch(/done|failed/);
    expect(jobs.get(finished[0]?.id ?? '')).toBeUndefined();
    expect(jobs.get(finished[10_000 - KEEP_FINISHED - 1]?.id ?? '')).toBeUndefined();
  });

  it('an open job is never forgotten, however many finish after it', () => {
    const { jobs } = registry();
    const longRunning = jobs.create('gc');
    jobs.update(longRunning.id, { status: 'running' });
    for (let i = 0; i < 3 * KEEP_FINISHED; i++) {
      const j = jobs.create('check', `s${i}`);
      jobs.update(j.id, { status: 'done' });
    }
    expect(jobs.get(longRunning.id)?.status).toBe('running');
    jobs.update(longRunning.id, { status: 'done' });
    expect(jobs.get(longRunning.id)?.status).toBe('done');
    expect(jobs.size).toBe(KEEP_FINISHED);
  });
});

describe('joinable', () => {
  it('same kind and stack, and a status in the list', () => {
    const { jobs } = registry();
    const up = jobs.create('up', 'app');
    expect(jobs.joinable('up', 'app', ['queued'])?.id).toBe(up.id);
    expect(jobs.joinable('stop', 'app', ['queued'])).toBeUndefined();
    expect(jobs.joinable('up', 'web', ['queued'])).toBeUndefined();
    expect(jobs.joinable('up', undefined, ['queued'])).toBeUndefined();
    jobs.update(up.id, { status: 'running' });
    expect(jobs.joinable('up', 'app', ['queued'])).toBeUndefined();
    expect(jobs.joinable('up', 'app', ['queued', 'running'])?.id).toBe(up.id);
    jobs.update(up.id, { status: 'done' });
    expect(jobs.joinable('up', 'app', ['queued', 'running', 'done'])).toBeUndefined();
  });

  it('WAS A BUG: `stackctl update` while `update --dry-run` ran joined the dry run (nothing applied) → variants never join each other', () => {
    const { jobs } = registry();
    const dry = jobs.create('update', undefined, 'dry-run');
    jobs.update(dry.id, { status: 'running' });
    expect(jobs.joinable('update', undefined, ['queued', 'running'])).toBeUndefined();
    expect(jobs.joinable('update', undefined, ['queued', 'running'], 'dry-run')?.id).toBe(dry.id);
    const apply = jobs.create('update');
    expect(jobs.joinable('update', undefined, ['queued', 'running'])?.id).toBe(apply.id);
    // each finishes its own slot only
    jobs.update(dry.id, { status: 'done' });
    expect(jobs.joinable('update', undefined, ['queued', 'running'])?.id).toBe(apply.id);
    expect(jobs.joinable('update', undefined, ['queued', 'running'], 'dry-run')).toBeUndefined();
    jobs.update(apply.id, { status: 'done' });
    expect(jobs.joinable('update', undefined, ['queued', 'running'])).toBeUndefined();
  });

  it("a stack's up after a stop does not join the up before the stop", () => {
    const { jobs } = registry();
    const up1 = jobs.create('up', 'app');
    const stop = jobs.create('stop', 'app');
    expect(jobs.joinable('up', 'app', ['queued'])).toBeUndefined();
    expect(jobs.joinable('stop', 'app', ['queued'])?.id).toBe(stop.id);
    const up2 = jobs.create('up', 'app');
    expect(jobs.joinable('up', 'app', ['queued'])?.id).toBe(up2.id);
    expect(up2.id).not.toBe(up1.id);
    // finishing the old up does not close the newer slot
    jobs.update(up1.id, { status: 'done' });
    expect(jobs.joinable('up', 'app', ['queued'])?.id).toBe(up2.id);
  });

  it('check and gc have their own slots; a stack-less check is not a stack check', () => {
    const { jobs } = registry();
    const all = jobs.create('check');
    const one = jobs.create('check', 'app');
    const gc = jobs.create('gc');
    expect(jobs.joinable('check', undefined, ['queued'])?.id).toBe(all.id);
    expect(jobs.joinable('check', 'app', ['queued'])?.id).toBe(one.id);
    expect(jobs.joinable('gc', undefined, ['queued'])?.id).toBe(gc.id);
    expect(jobs.joinable('up', 'app', ['queued'])).toBeUndefined();
  });

  it('returns copies: changing one does not change the table', () => {
    const { jobs } = registry();
    const j = jobs.create('up', 'app');
    const copy = jobs.joinable('up', 'app', ['queued']);
    if (copy) copy.status = 'done';
    j.status = 'failed';
    expect(jobs.get(j.id)?.status).toBe('queued');
  });
});

describe('wait', () => {
  it('resolves when the job finishes, with the finished job, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const { jobs, advance } = registry();
    const j = jobs.create('up', 'app');
    const waiting = jobs.wait(j.id, 60_000);
    const second = jobs.wait(j.id, 60_000);
    advance(4_200);
    jobs.update(j.id, { status: 'done', result: { result: 'ok', startedAt: '', finishedAt: '', durationMs: 4200 } });
    const [a, b] = await Promise.all([waiting, second]);
    expect(a).toMatchObject({ id: j.id, status: 'done', finishedAt: new Date(T0 + 4_200).toISOString(), result: { result: 'ok' } });
    expect(b).toEqual(a);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves after the timeout with the job as it is then', async () => {
    vi.useFakeTimers();
    const { jobs } = registry();
    const j = jobs.create('up', 'app');
    jobs.update(j.id, { status: 'running' });
    let settled: Job | undefined;
    void jobs.wait(j.id, 30_000).then((r) => { settled = r; });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toMatchObject({ id: j.id, status: 'running' });
    // a finish after the timeout does not reach the old waiter
    jobs.update(j.id, { status: 'done' });
    expect(settled?.status).toBe('running');
  });

  it('an aborted signal ends the wait at once with the job as it is, and leaves no waiter or timer behind', async () => {
    vi.useFakeTimers();
    const { jobs } = registry();
    const j = jobs.create('up', 'app');
    const ac = new AbortController();
    const waiting = jobs.wait(j.id, 3_600_000, ac.signal);
    const other = jobs.wait(j.id, 3_600_000);
    ac.abort();
    expect(await waiting).toMatchObject({ id: j.id, status: 'queued' });
    expect(vi.getTimerCount()).toBe(1); // the other wait's
    jobs.update(j.id, { status: 'done' });
    expect(await other).toMatchObject({ status: 'done' });
    expect(vi.getTimerCount()).toBe(0);
    // a signal aborted before the call answers at once
    const k = jobs.create('stop', 'app');
    expect(await jobs.wait(k.id, 60_000, AbortSignal.abort())).toMatchObject({ status: 'queued' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    { what: 'an unknown id', make: (_jobs: JobRegistry) => 'nope', timeoutMs: 60_000, expected: undefined },
    { what: 'a finished job', make: (jobs: JobRegistry) => { const j = jobs.create('gc'); jobs.update(j.id, { status: 'failed', error: 'x' }); return j.id; }, timeoutMs: 60_000, expected: 'failed' },
    { what: 'timeout 0', make: (jobs: JobRegistry) => jobs.create('gc').id, timeoutMs: 0, expected: 'queued' },
  ])('answers at once for $what', async ({ make, timeoutMs, expected }) => {
    vi.useFakeTimers();
    const { jobs } = registry();
    const id = make(jobs);
    const r = await jobs.wait(id, timeoutMs);
    expect(r?.status).toBe(expected);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('update', () => {
  it('after a job finished, further updates are ignored', () => {
    const { jobs, advance } = registry();
    const j = jobs.create('up', 'app');
    jobs.update(j.id, { status: 'running' });
    jobs.update(j.id, { status: 'failed', error: 'compose up failed' });
    const finishedAt = jobs.get(j.id)?.finishedAt;
    advance(1_000);
    jobs.update(j.id, { status: 'done', error: 'overwritten', finishedAt: 'later' });
    jobs.update(j.id, { status: 'running' });
    expect(jobs.get(j.id)).toMatchObject({ status: 'failed', error: 'compose up failed', finishedAt });
    expect(finishedAt).toBe(new Date(T0).toISOString());
  });

  it('an unknown id is ignored', () => {
    const { jobs } = registry();
    jobs.update('nope', { status: 'done' });
    expect(jobs.get('nope')).toBeUndefined();
    expect(jobs.size).toBe(0);
  });
});
