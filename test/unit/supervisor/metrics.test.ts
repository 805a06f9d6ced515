// The scrape-time gauges read their source at every scrape: what the source says is what /metrics says.
import { describe, expect, it } from 'vitest';
import type { ContainerView, StackStatus } from '../../../src/core/model.js';
import type { UpdateReport, UpdateRow } from '../../../src/core/update/types.js';
import { EVENT_LOOP_SAMPLE_MS, Metrics } from '../../../src/supervisor/metrics.js';

const base = { listStacks: () => [], queueDepth: () => 3, podmanUp: () => true };

describe('Metrics', () => {
  it('stackd_jobs follows the job table at each scrape; 0 when the source has no job table', async () => {
    let jobs = 7;
    const m = new Metrics({ ...base, jobCount: () => jobs });
    expect((await m.text()).body).toMatch(/^stackd_jobs 7$/m);
    jobs = 501;
    expect((await m.text()).body).toMatch(/^stackd_jobs 501$/m);
    expect((await new Metrics(base).text()).body).toMatch(/^stackd_jobs 0$/m);
  });

  it('stackd_stack_degraded_seconds counts from the first scrape that saw the stack degraded; the window is the config\'s', async () => {
    let clock = 1_000_000;
    let state: StackStatus['state'] = 'converged';
    const one = (): StackStatus => ({ name: 'immich', project: 'immich', unit: 'immich.service', desired: 'running', phase: 'idle', health: 'healthy', state, containers: [] });
    const m = new Metrics({ ...base, listStacks: () => [one()], now: () => clock, healthWindowsMs: () => new Map([['immich', 300_000]]) });
    const read = async (name: string) => Number(new RegExp(`^${name}\\{stack="immich"\\} (\\S+)$`, 'm').exec((await m.text()).body)?.[1]);
    expect(await read('stackd_stack_degraded_seconds')).toBe(0);
    expect(await read('stackd_stack_health_window_seconds')).toBe(300);
    state = 'degraded';
    expect(await read('stackd_stack_degraded_seconds')).toBe(0);
    clock += 90_000;
    expect(await read('stackd_stack_degraded_seconds')).toBe(90);
    state = 'converged';
    clock += 1_000;
    expect(await read('stackd_stack_degraded_seconds')).toBe(0);
    state = 'degraded';
    clock += 5_000;
    expect(await read('stackd_stack_degraded_seconds')).toBe(0); // a new stretch starts
  });

  it('one scrape builds the stacks\' statuses once (one listStacks, one pass over the health windows) for every per-stack gauge', async () => {
    const calls = { listStacks: 0, healthWindowsMs: 0 };
    const status = (name: string, state: StackStatus['state']): StackStatus => ({
      name, project: name, unit: `${name}.service`, desired: 'running', phase: 'idle', health: 'degraded', state,
      containers: [{ id: 'c1', name: `${name}-web-1`, service: 'web', state: 'running', health: 'unhealthy' }],
    });
    const m = new Metrics({
      ...base,
      listStacks: () => { calls.listStacks++; return [status('immich', 'degraded'), status('paperless', 'converged')]; },
      healthWindowsMs: () => { calls.healthWindowsMs++; return new Map([['immich', 60_000], ['paperless', 120_000]]); },
      deployUnhealthy: (s) => s === 'immich',
    });
    const body = (await m.text()).body;
    // every per-stack gauge has its series from that one view
    for (const series of [
      'stackd_stack_state{stack="paperless",state="converged"} 1', 'stackd_container_health{stack="immich",service="web",health="unhealthy"} 1',
      'stackd_deploy_unhealthy{stack="immich"} 1', 'stackd_stack_degraded_seconds{stack="immich"} 0', 'stackd_stack_health_window_seconds{stack="paperless"} 120',
    ]) expect(body.split('\n')).toContain(series);
    expect(calls).toEqual({ listStacks: 1, healthWindowsMs: 1 });
    await m.text();
    expect(calls).toEqual({ listStacks: 2, healthWindowsMs: 2 });
    // overlapping scrapes: still one view each
    await Promise.all([m.text(), m.text()]);
    expect(calls).toEqual({ listStacks: 4, healthWindowsMs: 4 });
  });

  it('stackd_queue_depth and stackd_podman_up come from the source', async () => {
    const body = (await new Metrics(base).text()).body;
    expect(body).toMatch(/^stackd_queue_depth 3$/m);
    expect(body).toMatch(/^stackd_podman_up 1$/m);
  });

  describe('update runs', () => {
    const row = (stack: string, service: string, Updated: UpdateRow['Updated']): UpdateRow => ({
      Unit: `${stack}.service`, Container: '', ContainerName: '', ContainerID: '', Image: 'x', Policy: 'registry', Updated, stack, service,
    });
    const report = (rows: UpdateRow[], over: Partial<UpdateReport> = {}): UpdateReport => ({
      ok: !rows.some((r) => r.Updated === 'failed' || r.Updated === 'rolled back'),
      dryRun: false, startedAt: '2026-11-28T00:00:00.000Z', finishedAt: '2026-11-28T00:05:00.000Z', rows, rateLimited: [], ...over,
    });
    const value = (body: string, series: string): string | undefined =>
      body.split('\n').find((l) => l.startsWith(`${series} `))?.slice(series.length + 1);

    it('runs by result, the last (non-dry) run, available updates per service, rollbacks per stack', async () => {
      const m = new Metrics(base);
      m.recordUpdate(report([row('shop', 'app', 'pending'), row('shop', 'db', 'false'), row('blog', 'web', 'rolled back')]));
      let body = (await m.text()).body;
      expect(value(body, 'stackd_update_runs_total{result="failed"}')).toBe('1');
      expect(value(body, 'stackd_update_last_run_timestamp_seconds')).toBe(String(Date.parse('2026-11-28T00:05:00.000Z') / 1000));
      expect(value(body, 'stackd_update_available{stack="shop",service="app"}')).toBe('1');
      expect(value(body, 'stackd_update_available{stack="shop",service="db"}')).toBe('0');
      expect(value(body, 'stackd_update_available{stack="blog",service="web"}')).toBe('0');
      expect(value(body, 'stackd_update_rollbacks_total{stack="blog"}')).toBe('1');
      expect(value(body, 'stackd_update_rollbacks_total{stack="shop"}')).toBeUndefined();

      // a dry run counts as a run but is not the last update run; the app was updated since
      m.recordUpdate(report([row('shop', 'app', 'false')], { dryRun: true, finishedAt: '2026-11-29T00:00:00.000Z' }));
      body = (await m.text()).body;
      expect(value(body, 'stackd_update_runs_total{result="ok"}')).toBe('1');
      expect(value(body, 'stackd_update_last_run_timestamp_seconds')).toBe(String(Date.parse('2026-11-28T00:05:00.000Z') / 1000));
      expect(value(body, 'stackd_update_available{stack="shop",service="app"}')).toBe('0');
    });

    it('a failed check (registry down) keeps what the last run knew about an available update', async () => {
      const m = new Metrics(base);
      m.recordUpdate(report([row('shop', 'app', 'pending')]));
      m.recordUpdate(report([row('shop', 'app', 'failed')]));
      const body = (await m.text()).body;
      expect(value(body, 'stackd_update_available{stack="shop",service="app"}')).toBe('1');
      expect(value(body, 'stackd_update_runs_total{result="failed"}')).toBe('1');
      expect(value(body, 'stackd_update_runs_total{result="ok"}')).toBe('1');
    });
  });

  it('still exports node\'s event-loop lag (sampled once a second instead of every 10 ms) beside the other default metrics', async () => {
    const body = (await new Metrics(base).text()).body;
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
      expect(body).toMatch(new RegExp(`^# TYPE ${name} gauge$`, 'm'));
    }
    expect(EVENT_LOOP_SAMPLE_MS).toBe(1_000);
  });
});

// Label values stay bounded by the config (issue: no container ids as labels): however many containers a stack
// runs, and whatever their ids and names, every label value of a stackd_* series is a stack or service name from
// the config or one of stackd's own fixed words, and the number of series does not grow with the containers.
describe('Metrics: label values bounded by the config', () => {
  const hex = (i: number) => i.toString(16).padStart(64, 'f');
  const container = (stack: string, service: string, i: number, health: ContainerView['health']): ContainerView => ({
    id: hex(i), name: `${stack}-${service}-${i}`, service, state: health === 'stopped' ? 'exited' : 'running', health,
  });
  const stack = (name: string, containers: ContainerView[]): StackStatus => ({
    name, project: name, unit: `${name}.service`, desired: 'running', phase: 'idle', health: 'degraded', state: 'degraded', containers,
  });
  const result = { result: 'failed' as const, reasonCode: 'compose-failed' as const, reason: `container ${hex(9)} exited`, startedAt: 'x', finishedAt: 'x', durationMs: 1200 };

  async function scrape(replicas: number): Promise<string> {
    const healths: ContainerView['health'][] = ['healthy', 'unhealthy', 'starting', 'stopped'];
    const stacks = [
      stack('immich', Array.from({ length: replicas }, (_, i) => container('immich', 'worker', i + 1, healths[i % 4] ?? 'none'))),
      stack('paperless', [container('paperless', 'web', 1000 + replicas, 'healthy')]),
    ];
    const m = new Metrics({ ...base, listStacks: () => stacks, deployUnhealthy: (s) => s === 'immich' });
    m.recordReconcile('immich', result);
    m.preflightViolations.inc({ stack: 'immich', kind: 'label-invariant' });
    m.notifyFailures.inc({ notifier: 'ntfy' });
    const row = (i: number): UpdateRow => ({
      Unit: 'immich.service', Container: hex(i).slice(0, 12), ContainerName: `immich-worker-${i}`, ContainerID: hex(i),
      Image: 'localhost:5000/app:1', Policy: 'registry', Updated: i % 2 ? 'rolled back' : 'pending', stack: 'immich', service: 'worker',
    });
    m.recordUpdate({ ok: false, dryRun: false, startedAt: 'x', finishedAt: '2026-11-28T12:00:00Z', rows: Array.from({ length: replicas }, (_, i) => row(i + 1)), rateLimited: [] });
    return (await m.text()).body;
  }

  const stackdSeries = (body: string) => body.split('\n').filter((l) => l.startsWith('stackd_'));
  const labelValues = (line: string) => [...(/\{(.*)\}/.exec(line)?.[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as const);

  it('every label value is a configured name or a fixed word; no container id or name anywhere', async () => {
    const body = await scrape(40);
    const allowed: Record<string, readonly string[]> = {
      stack: ['immich', 'paperless'],
      service: ['worker', 'web'],
      state: ['pending', 'converged', 'progressing', 'degraded', 'failed', 'stopped', 'removed'],
      health: ['healthy', 'unhealthy', 'starting', 'none', 'stopped', 'reset'],
      result: ['ok', 'failed', 'skipped'],
      kind: ['label-invariant', 'drifted', 'stale'],
      notifier: ['gotify', 'ntfy', 'webhook'],
    };
    const lines = stackdSeries(body);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      for (const [key, value] of labelValues(line)) {
        if (key === 'le') continue; // the histogram's fixed buckets
        expect(allowed[key ?? ''], `${line}: label ${key}`).toContain(value);
      }
    }
    for (let i = 1; i <= 40; i++) {
      expect(body).not.toContain(hex(i).slice(0, 12));
      expect(body).not.toContain(`immich-worker-${i}"`);
    }
  });

  it('the number of series does not grow with the number of containers', async () => {
    const few = stackdSeries(await scrape(4)).map((l) => l.replace(/ [^ ]+$/, ''));
    const many = stackdSeries(await scrape(400)).map((l) => l.replace(/ [^ ]+$/, ''));
    expect(many).toEqual(few);
  });
});
