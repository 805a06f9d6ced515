// The health watch window and the repair policy in the shell, over the production pipeline (buildPipeline) and
// the in-memory fakes: a deploy opens the window, its end is judged on a fresh listing (one alert), an event's
// observation recovers it (one recovery); `repair: reconcile` re-queues a stack whose container died, once per
// window, and `repair: none` never does. A manual clock and timer: nothing waits.
import { afterEach, describe, expect, it } from 'vitest';
import type { StackConfig } from '../../../src/core/config-types.js';
import type { WatchWindowChange } from '../../../src/core/notify/types.js';
import { HealthWatch } from '../../../src/supervisor/health-watch.js';
import { makeConfig, settle, silentLogger, until, World } from './fakes.js';

const MIN = 60_000;
const stops: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/** Timers that fire only when told. */
class ManualTimers {
  readonly pending: { at: number; fn: () => void; cancelled: boolean }[] = [];
  constructor(private readonly now: () => number) {}
  readonly set = (fn: () => void, ms: number) => {
    const t = { at: this.now() + ms, fn, cancelled: false };
    this.pending.push(t);
    return { cancel: () => { t.cancelled = true; } };
  };
  /** fires every live timer due by now */
  fireDue(): number {
    const due = this.pending.filter((t) => !t.cancelled && t.at <= this.now());
    for (const t of due) {
      t.cancelled = true;
      t.fn();
    }
    return due.length;
  }
  get live(): number[] {
    return this.pending.filter((t) => !t.cancelled).map((t) => t.at);
  }
}

async function setup(over: Partial<StackConfig> = {}) {
  const w = new World();
  const app = w.addStack('app', { over: { healthWindowMs: 5 * MIN, ...over } });
  const config = makeConfig([app]);
  const p = w.pipeline(config);
  const timers = new ManualTimers(w.clock.now);
  const changes: WatchWindowChange[] = [];
  const watch = new HealthWatch({
    store: p.store, logger: silentLogger, now: w.clock.now, setTimer: timers.set,
    stacks: () => p.supervisor.currentConfig.stacks,
    desired: (s) => p.supervisor.desiredOf(s),
    observe: (s) => p.reconciler.observe(s),
    onChange: (c) => changes.push(c),
  });
  stops.push(() => p.supervisor.stop(), () => watch.stop());
  await p.supervisor.start();
  watch.start();
  await until(() => p.results.length === 1, 'the first reconcile');
  const entry = () => [...w.podman.containers.values()].find((e) => e.Labels['com.docker.compose.service'] === 'web');
  /** what podman's event stream would make stackd do: re-list the project */
  const event = async () => p.supervisor.refreshProject('app');
  return { w, p, timers, changes, watch, entry, event };
}

describe('the health watch window', () => {
  it('a deploy left starting past its window: one alert (and the metric source says so), then one recovery', async () => {
    const { w, timers, changes, watch, entry, event } = await setup();
    const deployedAt = w.clock.now();
    Object.assign(entry() ?? {}, { Status: 'starting' });
    await event();
    expect(timers.live).toEqual([deployedAt + 5 * MIN]);
    expect(changes).toEqual([]);

    w.clock.advance(5 * MIN);
    expect(timers.fireDue()).toBe(1);
    await until(() => changes.length === 1, 'the alert');
    expect(changes[0]).toEqual({ stack: 'app', kind: 'alert', windowMs: 5 * MIN, repair: 'none', unwell: [{ service: 'web', kind: 'starting', why: 'not healthy yet (starting)' }] });
    expect(watch.isAlerted('app')).toBe(true);

    // more events while still sick: nothing more
    await event();
    w.clock.advance(MIN);
    await event();
    expect(changes).toHaveLength(1);

    Object.assign(entry() ?? {}, { Status: 'healthy' });
    await event();
    expect(changes.map((c) => c.kind)).toEqual(['alert', 'recover']);
    expect(watch.isAlerted('app')).toBe(false);
    await event();
    expect(changes).toHaveLength(2);
  });

  it('the window\'s end is judged on a fresh listing: a container that got healthy without an event is no alert', async () => {
    const { w, timers, changes, entry, event } = await setup();
    Object.assign(entry() ?? {}, { Status: 'starting' });
    await event();
    Object.assign(entry() ?? {}, { Status: 'healthy' }); // podman knows, stackd has not listed it yet
    w.clock.advance(5 * MIN);
    timers.fireDue();
    await settle();
    expect(changes).toEqual([]);
    expect(timers.live).toEqual([]);
  });

  it('a healthWindow of 0: no window, no alert', async () => {
    const { w, timers, changes, entry, event } = await setup({ healthWindowMs: 0 });
    Object.assign(entry() ?? {}, { Status: 'unhealthy' });
    await event();
    w.clock.advance(60 * MIN);
    await event();
    expect(timers.live).toEqual([]);
    expect(changes).toEqual([]);
  });

  it('a stack the owner stops inside the window is not judged', async () => {
    const { w, p, timers, changes, entry, event } = await setup();
    Object.assign(entry() ?? {}, { Status: 'starting' });
    await event();
    const job = await p.supervisor.request('app', 'stop');
    await p.supervisor.waitJob(job.id, 5_000);
    w.clock.advance(5 * MIN);
    timers.fireDue();
    await settle();
    expect(changes).toEqual([]);
  });
});

describe('the repair policy', () => {
  it('repair: none: a killed container is reported (degraded), never restarted', async () => {
    const { w, p, entry, event } = await setup();
    const upsBefore = w.compose.count('up', 'app');
    Object.assign(entry() ?? {}, { State: 'exited', ExitCode: 137 });
    await event();
    await settle();
    expect(p.supervisor.getStack('app')).toMatchObject({ state: 'degraded' });
    expect(w.compose.count('up', 'app')).toBe(upsBefore);
    expect(p.results).toHaveLength(1);
  });

  it('repair: reconcile: a killed container re-queues the stack once; killed again within the window, not again; after it, again', async () => {
    const { w, p, entry, event } = await setup({ repair: 'reconcile' });
    const upsBefore = w.compose.count('up', 'app');
    Object.assign(entry() ?? {}, { State: 'exited', ExitCode: 137 });
    await event();
    await until(() => p.results.length === 2, 'the repair reconcile');
    expect(w.compose.count('up', 'app')).toBe(upsBefore + 1);
    expect(w.podman.states('app')).toEqual({ web: 'running' });

    // killed again within the window: rate-limited, the stack stays degraded
    w.clock.advance(MIN);
    Object.assign(entry() ?? {}, { State: 'exited', ExitCode: 137 });
    await event();
    await settle();
    expect(p.results).toHaveLength(2);
    expect(p.supervisor.getStack('app')).toMatchObject({ state: 'degraded' });

    w.clock.advance(4 * MIN);
    await event();
    await until(() => p.results.length === 3, 'a repair after the window');
    expect(w.compose.count('up', 'app')).toBe(upsBefore + 2);
  });

  it('repair: reconcile: an unhealthy container re-queues the stack (preflight then decides whether it is stale)', async () => {
    const { p, entry, event } = await setup({ repair: 'reconcile' });
    Object.assign(entry() ?? {}, { Status: 'unhealthy' });
    await event();
    await until(() => p.results.length === 2, 'the repair reconcile');
  });

  it('repair: reconcile never acts on a stack the owner stopped', async () => {
    const { p, event } = await setup({ repair: 'reconcile' });
    const job = await p.supervisor.request('app', 'stop');
    await p.supervisor.waitJob(job.id, 5_000);
    await event();
    await settle();
    expect(p.results).toHaveLength(2);
    expect(p.supervisor.getStack('app')).toMatchObject({ state: 'stopped' });
  });
});
