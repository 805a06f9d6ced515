// The scrape-time gauges read their source at every scrape: what the source says is what /metrics says.
import { describe, expect, it } from 'vitest';
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
