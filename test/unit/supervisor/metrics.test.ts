// The scrape-time gauges read their source at every scrape: what the source says is what /metrics says.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/supervisor/metrics.js';

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
});
