// The Supervisor as production builds it (buildPipeline: real ReconcileQueue, Reconciler, PreflightRunner,
// housekeeping) over the in-memory ports of fakes.ts: persisted levels across restarts, load ordering, save
// failures, joining, stacks that leave the config, shutdown, backoff and readiness. No podman, no sleeps.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PodmanApiError } from '../../../src/adapters/errors.js';
import type { Config } from '../../../src/core/config-types.js';
import type { ReasonCode } from '../../../src/core/model.js';
import { ShuttingDownError, UnknownStackError, type Job } from '../../../src/supervisor/api.js';
import type { Supervisor } from '../../../src/supervisor/supervisor.js';
import {
  FakeStateStore, fail, fixtureText, makeConfig, PODMAN_COMPOSE, settle, STATE_FILE, stateOf, timeout, unreachable, until, World,
} from './fakes.js';

const running: Supervisor[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

function setup(names: string[] = ['app', 'web'], over: Partial<Config> = {}, w = new World()) {
  const stacks = names.map((n) => w.addStack(n));
  const config = makeConfig(stacks, over);
  return { w, config, ...boot(w, config) };
}

/** A supervisor over the world's fakes (a restart is a second boot over the same world). */
function boot(w: World, config: Config) {
  const p = w.pipeline(config);
  running.push(p.supervisor);
  return { sup: p.supervisor, results: p.results, pipeline: p };
}

async function finished(sup: Supervisor, job: Job): Promise<Job> {
  const j = await sup.waitJob(job.id, 5_000);
  if (!j || (j.status !== 'done' && j.status !== 'failed')) throw new Error(`job ${job.id} did not finish: ${JSON.stringify(j)}`);
  return j;
}

async function act(sup: Supervisor, stack: string, action: 'up' | 'stop' | 'down'): Promise<Job> {
  return finished(sup, await sup.request(stack, action));
}

describe('desired state survives a restart', () => {
  it('stop: the new supervisor does not bring the stack up', async () => {
    const { w, config, sup, results } = setup();
    await sup.start();
    await until(() => results.length === 2, 'both stacks up');
    expect(w.podman.states('app')).toEqual({ web: 'running' });
    expect((await act(sup, 'app', 'stop')).status).toBe('done');
    expect(w.podman.states('app')).toEqual({ web: 'exited' });
    await sup.stop();

    const upsBefore = w.compose.count('up', 'app');
    const second = boot(w, config);
    await second.sup.start();
    await until(() => second.results.length === 2, 'both stacks reconciled after the restart');
    expect(w.compose.count('up', 'app')).toBe(upsBefore);
    expect(w.podman.states('app')).toEqual({ web: 'exited' });
    expect(second.sup.getStack('app')).toMatchObject({ desired: 'stopped', state: 'stopped' });
    expect(second.sup.getStack('web')).toMatchObject({ desired: 'running' });
  });

  it('down: stays removed after a restart; no compose runs for it', async () => {
    const { w, config, sup, results } = setup();
    await sup.start();
    await until(() => results.length === 2);
    expect((await act(sup, 'app', 'down')).status).toBe('done');
    expect(w.podman.project('app')).toEqual([]);
    await sup.stop();

    const callsBefore = w.compose.verbs('app').length;
    const second = boot(w, config);
    await second.sup.start();
    await until(() => second.results.length === 2);
    expect(w.compose.verbs('app').slice(callsBefore)).toEqual([]);
    expect(w.podman.project('app')).toEqual([]);
    expect(second.sup.getStack('app')).toMatchObject({ desired: 'removed', state: 'removed' });
    expect(w.stateStore.records().get('app')).toEqual({ desired: 'removed', project: 'app' });
  });

  it('a failing compose down is retried as down after a restart (never as stop or up)', async () => {
    const { w, config, sup, results } = setup();
    await sup.start();
    await until(() => results.length === 2);
    w.compose.script('down', fail('Error response from daemon: network app_default is in use by container 1234'));
    const job = await act(sup, 'app', 'down');
    expect(job).toMatchObject({ status: 'failed', result: { reasonCode: 'compose-failed' } });
    expect(sup.getStack('app')).toMatchObject({ phase: 'backoff', state: 'failed' });
    await sup.stop();

    const callsBefore = w.compose.verbs('app').length;
    const second = boot(w, config);
    await second.sup.start();
    await until(() => second.results.length === 2);
    expect(w.compose.verbs('app').slice(callsBefore)).toEqual(['down']);
    expect(w.podman.project('app')).toEqual([]);
    expect(second.sup.getStack('app')).toMatchObject({ desired: 'removed', state: 'removed', phase: 'idle' });
  });

  it('a failing compose down is retried as down by the backoff clock (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { w, sup } = setup(['app'], { queue: { concurrency: { min: 1, max: 1 }, retryBaseMs: 60_000, retryMaxMs: 60_000, resyncMs: 86_400_000 } });
    await sup.load();
    w.podman.add({ project: 'app', service: 'web' });
    w.compose.script('down', fail('Error response from daemon: device or resource busy'));
    const job = await sup.request('app', 'down');
    await until(() => sup.getJob(job.id)?.status === 'failed');
    expect(sup.getStack('app')?.phase).toBe('backoff');
    expect(sup.getStack('app')?.retryAt).toBeDefined();
    await vi.advanceTimersByTimeAsync(60_000);
    await until(() => w.compose.count('down') === 2 && sup.getStack('app')?.phase === 'idle', 'the retried down');
    expect(w.compose.verbs()).toEqual(['down', 'down']);
    expect(w.podman.project('app')).toEqual([]);
    expect(sup.getStack('app')).toMatchObject({ state: 'removed', lastResult: { result: 'ok' } });
  });
});

describe('up after stop', () => {
  it('a stack with a healthcheck: up after stop starts it again', async () => {
    const { w, sup } = setup(['app']);
    w.compose.models.set('app', JSON.stringify({ name: 'app', services: { web: { image: 'docker.io/library/nginx:1.27', healthcheck: { test: ['CMD', 'true'] } } } }));
    await sup.load();
    expect((await act(sup, 'app', 'up')).status).toBe('done');
    expect((await act(sup, 'app', 'stop')).status).toBe('done');
    const job = await act(sup, 'app', 'up');
    expect(job).toMatchObject({ status: 'done', result: { result: 'ok' } });
    expect(Object.values(w.podman.states('app')).every((s) => s === 'running')).toBe(true);
  });

  // Found by this test (it failed before the fix): a service with neither `restart:` nor a healthcheck is a
  // "one-shot", fine once it has ANY container; bringDown kept upFingerprint, so `up` after `stop` was skipped as
  // `unchanged` while the container stayed exited. bringDown now clears upFingerprint.
  it('a stack whose services have no restart policy and no healthcheck: up after stop starts it again', async () => {
    const { w, sup } = setup(['app']);
    w.compose.models.set('app', JSON.stringify({ name: 'app', services: { web: { image: 'docker.io/library/nginx:1.27' } } }));
    await sup.load();
    expect((await act(sup, 'app', 'up')).status).toBe('done');
    expect((await act(sup, 'app', 'stop')).status).toBe('done');
    expect(w.podman.states('app')).toEqual({ web: 'exited' });
    const job = await act(sup, 'app', 'up');
    expect(w.compose.verbs()).toEqual(['config', 'up', 'stop', 'up']);
    expect(job.result?.reasonCode).not.toBe('unchanged');
    expect(w.podman.states('app')).toEqual({ web: 'running' });
  });
});

describe('the state file', () => {
  it('requests made while it loads wait for the load and do not save over what it holds', async () => {
    const w = new World();
    w.stateStore = new FakeStateStore(stateOf({ app: 'stopped', web: 'stopped' }));
    const { sup } = setup(['app', 'web'], {}, w);
    const gate = w.stateStore.holdLoad();
    const loading = sup.load();
    let answered = false;
    const requesting = sup.request('web', 'up').then((j) => {
      answered = true;
      return j;
    });
    await settle();
    expect(answered).toBe(false);
    expect(w.stateStore.saves).toEqual([]);
    gate.resolve();
    await loading;
    const job = await finished(sup, await requesting);
    expect(job.status).toBe('done');
    expect(w.stateStore.records()).toEqual(new Map([
      ['app', { desired: 'stopped', project: 'app' }],
      ['web', { desired: 'running', project: 'web' }],
    ]));
    // no save ever lost app's level
    expect(w.stateStore.saves.length).toBeGreaterThan(0);
    expect(w.stateStore.savedRecords().map((r) => r.get('app')?.desired)).toEqual(w.stateStore.saves.map(() => 'stopped'));
    expect(w.compose.count('up', 'app')).toBe(0);
    expect(w.compose.count('up', 'web')).toBe(1);
  });

  it.each([
    { what: 'truncated JSON', text: '{"version":2,"stacks":{"app":{"desired":"stop' },
    { what: 'empty', text: '' },
    { what: 'written by a newer stackd', text: '{"version":3,"stacks":{}}' },
    { what: 'an unknown level', text: '{"version":2,"stacks":{"app":{"desired":"paused","project":"app"}}}' },
  ])('corrupt ($what): load() throws, nothing is saved, nothing runs', async ({ text }) => {
    const w = new World();
    w.stateStore.text = text;
    const { sup } = setup(['app'], {}, w);
    await expect(sup.load()).rejects.toMatchObject({ code: 'STACKD_STATE_FILE_CORRUPT', message: expect.stringContaining(STATE_FILE) });
    await expect(sup.start()).rejects.toMatchObject({ code: 'STACKD_STATE_FILE_CORRUPT' });
    await settle();
    expect(w.stateStore.saves).toEqual([]);
    expect(w.stateStore.text).toBe(text);
    expect(w.compose.calls).toEqual([]);
    expect(await sup.readiness()).toMatchObject({ ready: false, stateLoaded: false });
  });

  it('a format-1 file is upgraded: saved once in format 2, levels kept', async () => {
    const w = new World();
    w.stateStore.text = '{"version":1,"desired":{"app":"stopped"}}';
    const { sup } = setup(['app'], {}, w);
    await sup.load();
    expect(w.stateStore.saves).toHaveLength(1);
    expect(w.stateStore.records()).toEqual(new Map([['app', { desired: 'stopped', project: 'app' }]]));
    expect(sup.getStack('app')?.desired).toBe('stopped');
  });

  it('a failed save: the job fails naming the state file, the desired state stays, nothing runs', async () => {
    const { w, sup } = setup();
    await sup.load();
    const savesBefore = w.stateStore.saves.length;
    w.stateStore.failNextSave();
    const job = await sup.request('app', 'stop');
    expect(job.status).toBe('failed');
    expect(job.error).toContain(`could not save the desired state to ${STATE_FILE}`);
    expect(job.error).toContain('ENOSPC');
    expect(sup.getStack('app')?.desired).toBe('running');
    await settle();
    expect(w.compose.calls).toEqual([]);
    expect(w.stateStore.saves).toHaveLength(savesBefore);
    expect(w.stateStore.records().get('app')?.desired).toBe('running');
    // the next try works
    expect((await act(sup, 'app', 'stop')).status).toBe('done');
    expect(sup.getStack('app')?.desired).toBe('stopped');
  });
});

describe('joining', () => {
  async function queuedBehindWeb(initialApp: 'running' | 'stopped') {
    const { w, sup } = setup(['app', 'web'], { queue: { concurrency: { min: 1, max: 1 }, retryBaseMs: 3_600_000, retryMaxMs: 3_600_000, resyncMs: 86_400_000 } });
    await sup.load();
    if (initialApp === 'stopped') expect((await act(sup, 'app', 'stop')).status).toBe('done');
    const gate = w.compose.hold('up');
    const webJob = await sup.request('web', 'up');
    await until(() => w.compose.count('up', 'web') === 1, 'web up running');
    return { w, sup, gate, webJob, savesBefore: w.stateStore.saves.length };
  }

  it('100 identical up requests for a queued stack share one job, save at most once, run compose once', async () => {
    const { w, sup, gate, savesBefore } = await queuedBehindWeb('running');
    const jobs = await Promise.all(Array.from({ length: 100 }, () => sup.request('app', 'up')));
    expect(sup.getStack('app')?.phase).toBe('queued');
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1);
    // the table (what stackd_jobs reports) holds web's job and the one shared job
    expect(sup.jobCount).toBe(2);
    expect(w.stateStore.saves.length - savesBefore).toBeLessThanOrEqual(1);
    gate.resolve();
    expect((await finished(sup, jobs[0] as Job)).status).toBe('done');
    await settle();
    expect(w.compose.count('up', 'app')).toBe(1);
  });

  // Found by this test (it failed before the fix): the join compared with the saved level, which changes only once
  // the first request's save finished, so requests arriving meanwhile each made a job (100 ids for one change).
  it('100 identical up requests at once, for a stopped stack queued behind another: one job, one save, one compose run', async () => {
    const { w, sup, gate, savesBefore } = await queuedBehindWeb('stopped');
    const jobs = await Promise.all(Array.from({ length: 100 }, () => sup.request('app', 'up')));
    expect(w.stateStore.saves.length - savesBefore).toBe(1);
    gate.resolve();
    await Promise.all(jobs.map((j) => finished(sup, j)));
    await settle();
    expect(w.compose.count('up', 'app')).toBe(1);
    expect(jobs.every((j) => j.kind === 'up' && j.stack === 'app')).toBe(true);
    // the one failing assertion:
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1);
  });

  it('an up after a stop does not join the earlier up', async () => {
    const { sup, gate } = await queuedBehindWeb('running');
    const up1 = await sup.request('app', 'up');
    const stop = await sup.request('app', 'stop');
    const up2 = await sup.request('app', 'up');
    expect(new Set([up1.id, stop.id, up2.id]).size).toBe(3);
    gate.resolve();
    expect((await finished(sup, up2)).status).toBe('done');
    expect(sup.getStack('app')?.desired).toBe('running');
  });
});

describe('stacks that leave the config', () => {
  it.each([
    { action: 'stop' as const, hold: true },
    { action: 'down' as const, hold: true },
    { action: 'keep' as const, hold: false },
  ])('removedStacks $action: listed as removed, retired through the queue', async ({ action, hold }) => {
    const { w, config, sup, results } = setup();
    await sup.start();
    await until(() => results.length === 2);
    const appId = w.podman.project('app')[0]?.id;
    const gate = hold ? w.podman.holdNext('listProjectContainers') : undefined;
    sup.applyConfig({ ...config, removedStacks: action, stacks: config.stacks.filter((s) => s.name !== 'app') });
    await until(() => sup.listStacks().some((s) => s.name === 'app' && s.state === 'removed'), 'app listed as removed');
    expect(sup.listStacks().map((s) => s.name)).toEqual(['web', 'app']);
    expect(sup.getStack('app')).toMatchObject({ state: 'removed', removedFromConfig: { action, done: action === 'keep' } });
    await expect(sup.request('app', 'up')).rejects.toBeInstanceOf(UnknownStackError);
    gate?.resolve();
    await until(() => results.length === 3, 'the retire run');
    const ups = w.compose.count('up');
    expect(results[2]).toEqual({ stack: 'app', result: action === 'keep' ? 'skipped' : 'ok', reasonCode: 'not-configured' });
    if (action === 'stop') {
      expect(w.podman.states('app')).toEqual({ web: 'exited' });
      expect(w.stateStore.records().get('app')?.unconfigured).toMatchObject({ action: 'stop', done: true });
      expect(sup.getStack('app')).toMatchObject({ state: 'removed', health: 'down', removedFromConfig: { action: 'stop', done: true } });
    } else if (action === 'down') {
      expect(w.podman.project('app')).toEqual([]);
      expect(w.podman.networks.has('app_default')).toBe(false);
      expect(w.stateStore.records().has('app')).toBe(false);
      expect(sup.getStack('app')).toBeUndefined();
      expect(sup.listStacks().map((s) => s.name)).toEqual(['web']);
    } else {
      expect(w.podman.mutations()).toEqual([]);
      expect(w.podman.containers.get(appId ?? '')?.State).toBe('running');
      expect(sup.getStack('app')).toMatchObject({ state: 'removed', removedFromConfig: { action: 'keep', done: true } });
    }
    // compose is never asked about a stack that left the config (its files may be gone)
    await settle();
    expect(w.compose.count('up')).toBe(ups);
    expect(w.compose.verbs('app')).toEqual(['config', 'up']);
  });

  it('a stack that left the config while stackd was down is retired at start (removedStacks down)', async () => {
    const w = new World();
    w.stateStore = new FakeStateStore(stateOf({ app: 'running', old: 'running' }));
    w.podman.add({ project: 'old', service: 'db' });
    w.podman.add({ project: 'old', service: 'web' });
    const { sup, results } = setup(['app'], { removedStacks: 'down' }, w);
    await sup.start();
    await until(() => results.length === 2, 'app reconciled and old retired');
    expect(results.find((r) => r.stack === 'old')).toEqual({ stack: 'old', result: 'ok', reasonCode: 'not-configured' });
    expect(w.podman.project('old')).toEqual([]);
    expect(w.stateStore.records().has('old')).toBe(false);
    expect(w.compose.verbs('old')).toEqual([]);
  });

  it('a retire cut short by a restart is finished at the next start', async () => {
    const w = new World();
    w.stateStore = new FakeStateStore(new Map([
      ['app', { desired: 'running' as const, project: 'app' }],
      ['old', { desired: 'running' as const, project: 'old', unconfigured: { since: '2026-11-26T11:00:00.000Z', action: 'stop' as const, done: false } }],
    ]));
    w.podman.add({ project: 'old', service: 'web' });
    const { sup, results } = setup(['app'], { removedStacks: 'keep' }, w);
    await sup.start();
    await until(() => results.length === 2);
    // the action recorded when it left (stop) applies, not today's removedStacks (keep)
    expect(w.podman.states('old')).toEqual({ web: 'exited' });
    expect(w.stateStore.records().get('old')?.unconfigured).toEqual({ since: '2026-11-26T11:00:00.000Z', action: 'stop', done: true });
    expect(sup.getStack('old')).toMatchObject({ state: 'removed', removedFromConfig: { action: 'stop', done: true } });
  });

  it('a stack that comes back is an ordinary stack again and is brought up', async () => {
    const { w, config, sup, results } = setup();
    await sup.start();
    await until(() => results.length === 2);
    sup.applyConfig({ ...config, removedStacks: 'stop', stacks: config.stacks.filter((s) => s.name !== 'app') });
    await until(() => w.podman.states('app')['web'] === 'exited' && sup.getStack('app')?.removedFromConfig?.done === true, 'app retired');
    sup.applyConfig(config);
    await until(() => w.podman.states('app')['web'] === 'running' && sup.getStack('app')?.phase === 'idle', 'app up again');
    const status = sup.getStack('app');
    expect(status).toMatchObject({ desired: 'running', state: 'converged' });
    expect(status?.removedFromConfig).toBeUndefined();
    expect(w.stateStore.records().get('app')).toEqual({ desired: 'running', project: 'app' });
    expect((await act(sup, 'app', 'stop')).status).toBe('done');
  });

  it('an up queued for a stack that then leaves the config: its job fails, not done', async () => {
    const { w, config, sup } = setup(['app', 'web'], { queue: { concurrency: { min: 1, max: 1 }, retryBaseMs: 3_600_000, retryMaxMs: 3_600_000, resyncMs: 86_400_000 } });
    await sup.load();
    const gate = w.compose.hold('up');
    await sup.request('web', 'up');
    await until(() => w.compose.count('up', 'web') === 1);
    const job = await sup.request('app', 'up');
    expect(sup.getStack('app')?.phase).toBe('queued');
    sup.applyConfig({ ...config, removedStacks: 'stop', stacks: config.stacks.filter((s) => s.name !== 'app') });
    await until(() => sup.getStack('app')?.state === 'removed');
    gate.resolve();
    const j = await finished(sup, job);
    expect(j.status).toBe('failed');
    expect(j.error).toBe('stack "app" left the config before its up ran; nothing was done for the request');
    expect(w.compose.count('up', 'app')).toBe(0);
  });
});

describe('odd names', () => {
  it('a stack named "constructor" is just a name: levels, status, restart', async () => {
    const { w, config, sup } = setup(['constructor']);
    await sup.load();
    expect((await act(sup, 'constructor', 'up')).status).toBe('done');
    expect(sup.getStack('constructor')).toMatchObject({ desired: 'running', state: 'converged' });
    expect((await act(sup, 'constructor', 'stop')).status).toBe('done');
    expect(sup.getStack('constructor')).toMatchObject({ desired: 'stopped', state: 'stopped' });
    expect(w.stateStore.records().get('constructor')).toEqual({ desired: 'stopped', project: 'constructor' });
    expect(sup.getStack('toString')).toBeUndefined();
    await expect(sup.request('toString', 'up')).rejects.toBeInstanceOf(UnknownStackError);
    await sup.stop();
    const second = boot(w, config);
    await second.sup.load();
    expect(second.sup.getStack('constructor')?.desired).toBe('stopped');
  });
});

describe('shutdown', () => {
  it('after stop(): requests throw ShuttingDownError and no new compose run starts', async () => {
    const { w, sup } = setup(['app', 'web'], { queue: { concurrency: { min: 1, max: 1 }, retryBaseMs: 3_600_000, retryMaxMs: 3_600_000, resyncMs: 86_400_000 } });
    await sup.load();
    const gate = w.compose.hold('up');
    const first = await sup.request('app', 'up');
    await until(() => w.compose.count('up') === 1);
    // a rerun of app and a queued web would both start after this run, if nothing stopped them
    w.files.set('/srv/app/compose.yml', 'services:\n  web:\n    image: localhost/busybox:other\n');
    await sup.request('app', 'up');
    await sup.request('web', 'up');
    const stopping = sup.stop();
    await expect(sup.request('app', 'up')).rejects.toBeInstanceOf(ShuttingDownError);
    expect(() => sup.startJob('check')).toThrow(ShuttingDownError);
    gate.resolve();
    await stopping;
    expect((await sup.waitJob(first.id, 0))?.status).toBe('done');
    await settle();
    expect(w.compose.count('up')).toBe(1);
    expect(w.compose.verbs()).toEqual(['config', 'up']);
  });
});

describe('check', () => {
  it('redacts what it reports: a warning quoting an image name compose built from an env value', async () => {
    const w = new World();
    w.files.set('/run/secrets/app.env', 'IMG=s3cret-img-name\n');
    const stack = w.addStack('app', { over: { envFiles: ['/run/secrets/app.env'] } });
    w.compose.models.set(stack.project, JSON.stringify({ name: stack.project, services: { web: { image: 's3cret-img-name', restart: 'unless-stopped' } } }));
    const { sup } = boot(w, makeConfig([stack]));
    await sup.load();
    const job = await finished(sup, sup.startJob('check', 'app'));
    const text = JSON.stringify(job);
    expect(text).toContain('image \\"***\\" names no registry');
    expect(text).not.toContain('s3cret');
  });
});

describe('backoff', () => {
  it('a config change during a backoff runs the stack now; an unchanged config does not', async () => {
    const { w, config, sup } = setup(['app']);
    await sup.load();
    w.compose.script('up', fail('Error response from daemon: registry unreachable'));
    const job = await act(sup, 'app', 'up');
    expect(job.result?.reasonCode).toBe('compose-failed');
    expect(sup.getStack('app')).toMatchObject({ phase: 'backoff', state: 'failed' });
    sup.applyConfig({ ...config });
    await settle();
    expect(w.compose.count('up')).toBe(1);
    expect(sup.getStack('app')?.phase).toBe('backoff');
    sup.applyConfig({ ...config, stacks: config.stacks.map((s) => ({ ...s, startupTimeoutMs: 600_000 })) });
    await until(() => w.compose.count('up') === 2 && sup.getStack('app')?.phase === 'idle', 'the run the new config started');
    expect(sup.getStack('app')).toMatchObject({ state: 'converged', lastResult: { result: 'ok' } });
    expect(w.compose.calls[w.compose.calls.length - 1]?.spec.timeoutMs).toBe(600_000);
  });

  it('podman answers again: a backoff after podman-unreachable is cut short; one after a compose failure stands', async () => {
    const { w, sup } = setup(['app', 'web']);
    await sup.load();
    w.podman.failNext('listProjectContainers', unreachable());
    expect((await act(sup, 'app', 'up')).result?.reasonCode).toBe('podman-unreachable');
    w.compose.script('up', fail('Error response from daemon: boom'));
    expect((await act(sup, 'web', 'up')).result?.reasonCode).toBe('compose-failed');
    const ups = w.compose.count('up');
    expect(sup.getStack('app')).toMatchObject({ phase: 'backoff', state: 'failed' });
    expect(sup.getStack('web')).toMatchObject({ phase: 'backoff', state: 'failed' });

    await sup.resyncNow();
    await until(() => sup.getStack('app')?.state === 'converged' && sup.getStack('app')?.phase === 'idle', 'app run now');
    expect(w.compose.count('up')).toBe(ups + 1);
    expect(sup.getStack('web')).toMatchObject({ phase: 'backoff', state: 'failed' });
  });

  // The retry policy as the owner sees it: after the failed job the stack waits out a backoff (clock) or idles
  // until something changes (inputs).
  it.each<{ code: ReasonCode; phase: 'backoff' | 'idle'; arrange: (w: World) => void }>([
    { code: 'compose-failed', phase: 'backoff', arrange: (w) => w.compose.script('up', fail('Error response from daemon: boom')) },
    { code: 'compose-timeout', phase: 'backoff', arrange: (w) => w.compose.script('up', timeout) },
    { code: 'compose-config', phase: 'idle', arrange: (w) => w.compose.script('config', fail(fixtureText('compose-config.missing-required-variable.stderr.txt'), 15)) },
    { code: 'compose-provider', phase: 'idle', arrange: (w) => { w.provider = PODMAN_COMPOSE; } },
    { code: 'label-invariant', phase: 'idle', arrange: (w) => w.compose.models.set('app', JSON.stringify({ services: { web: { image: 'x', labels: { 'io.containers.autoupdate': 'registry' } } } })) },
    { code: 'podman-unreachable', phase: 'backoff', arrange: (w) => w.podman.failNext('listProjectContainers', unreachable()) },
    // the stack names an env file that does not exist (envWait 0: no wait)
    { code: 'env-file-missing', phase: 'backoff', arrange: () => undefined },
    { code: 'internal', phase: 'backoff', arrange: (w) => w.podman.failNext('listProjectContainers', new PodmanApiError(500, 'GET', '/containers/json', 'database is locked')) },
  ])('$code → $phase', async ({ code, phase, arrange }) => {
    const w = new World();
    const stack = w.addStack('app', code === 'env-file-missing' ? { over: { envFiles: ['/run/secrets/app.env'] } } : {});
    const config = makeConfig([stack]);
    const { sup } = boot(w, config);
    await sup.load();
    arrange(w);
    const job = await act(sup, 'app', 'up');
    expect(job).toMatchObject({ status: 'failed', result: { reasonCode: code } });
    expect(sup.getStack('app')?.phase).toBe(phase);
    expect(sup.getStack('app')?.retryAt !== undefined).toBe(phase === 'backoff');
  });
});

describe('readiness', () => {
  it.each<{ what: string; arrange: (w: World) => void; ready: boolean; extra: object }>([
    { what: 'loaded, provider good, podman answers', arrange: () => undefined, ready: true, extra: { podman: { reachable: true }, compose: { ok: true } } },
    { what: 'the compose provider is podman-compose', arrange: (w) => { w.provider = PODMAN_COMPOSE; }, ready: false, extra: { compose: { ok: false, provider: 'podman-compose', detail: PODMAN_COMPOSE.detail } } },
    { what: 'podman does not answer', arrange: (w) => w.podman.failNext('ping', unreachable()), ready: false, extra: { podman: { reachable: false, error: expect.stringContaining('cannot reach the podman API') } } },
  ])('$what → ready $ready', async ({ arrange, ready, extra }) => {
    const { w, sup, pipeline } = setup(['app']);
    arrange(w);
    await sup.load();
    await pipeline.providerGate.current();
    expect(await sup.readiness()).toMatchObject({ ready, stateLoaded: true, ...extra });
  });

  it('not ready while the state file loads', async () => {
    const { w, sup } = setup(['app']);
    const gate = w.stateStore.holdLoad();
    const loading = sup.load();
    expect(await sup.readiness()).toMatchObject({ ready: false, stateLoaded: false });
    gate.resolve();
    await loading;
    expect(await sup.readiness()).toMatchObject({ ready: true, stateLoaded: true });
  });
});

describe('queue.concurrency auto follows podman\'s pace', () => {
  function autoSetup(bounds: { min: number; max: number }, paces: { answers: number; slow: number }[]) {
    const w = new World();
    const stacks = ['a', 'b', 'c', 'd'].map((n) => w.addStack(n));
    const config = makeConfig(stacks, { queue: { concurrency: bounds, retryBaseMs: 3_600_000, retryMaxMs: 3_600_000, resyncMs: 86_400_000 } });
    let taken = 0;
    const p = w.pipeline(config, { podmanPace: () => paces[taken++] ?? { answers: 10, slow: 0 } });
    running.push(p.supervisor);
    return { w, sup: p.supervisor, taken: () => taken };
  }

  it('starts at the most, steps down on slow answers, halves on lock contention, steps up after a clean run', async () => {
    const { w, sup } = autoSetup({ min: 1, max: 8 }, [
      { answers: 20, slow: 5 }, // a: slow
      { answers: 20, slow: 3 }, // b: slow
      { answers: 6, slow: 0 }, // c: failed on the lock
      { answers: 20, slow: 2 }, // d: clean (a tenth slow)
    ]);
    await sup.load();
    expect(sup.queueConcurrency).toBe(8);
    await act(sup, 'a', 'up');
    expect(sup.queueConcurrency).toBe(7);
    await act(sup, 'b', 'up');
    expect(sup.queueConcurrency).toBe(6);
    w.compose.script('up', fail('Error response from daemon: database is locked'));
    expect((await act(sup, 'c', 'up')).result?.reasonCode).toBe('compose-failed');
    expect(sup.queueConcurrency).toBe(3);
    await act(sup, 'd', 'up');
    expect(sup.queueConcurrency).toBe(4);
  });

  it('a fixed concurrency never moves and never asks for the pace', async () => {
    const { w, sup, taken } = autoSetup({ min: 2, max: 2 }, [{ answers: 20, slow: 20 }]);
    await sup.load();
    await act(sup, 'a', 'up');
    w.compose.script('up', fail('Error response from daemon: database is locked'));
    await act(sup, 'b', 'up');
    expect(sup.queueConcurrency).toBe(2);
    expect(taken()).toBe(0);
  });
});

describe('the status carries the last update run', () => {
  it('what the updater recorded in the store shows in getStack and listStacks; nothing before that', async () => {
    const { sup, pipeline } = setup(['app']);
    await sup.start();
    expect(sup.getStack('app')).not.toHaveProperty('lastUpdate');
    const lastUpdate = { result: 'rolled back' as const, finishedAt: '2026-11-28T03:00:00.000Z' };
    pipeline.store.update('app', { lastUpdate });
    expect(sup.getStack('app')?.lastUpdate).toEqual(lastUpdate);
    expect(sup.listStacks().find((s) => s.name === 'app')?.lastUpdate).toEqual(lastUpdate);
  });
});
