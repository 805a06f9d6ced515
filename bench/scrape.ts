// Scrape and status cost on the real lab (issue 9, benchmark 4): the built daemon supervising N stacks (3N
// containers) of the bench workload, all converged; then `/metrics` and `/v1/stacks` at C concurrent
// connections over the daemon's unix API socket (autocannon): p50/p99 latency and requests/s. Podman API calls
// the daemon makes are counted through a relay in front of podman's socket (bench/lab-daemon.ts) during each
// scrape and during an idle window as long as both scrapes together (goal: 0 during a scrape). Baseline in the
// same run: podman's own container list (GET /v4.0.0/libpod/containers/json?all=true) over its real socket at
// the same concurrency — what an exporter that asks podman on every scrape pays.
// Writes bench/results/scrape.json. Run as the lab user (bench/run.sh does):
//   node dist-bench/bench/scrape.js [stacks=20] [seconds per case=10] [connections=100]
import autocannon from 'autocannon';
import { availableParallelism } from 'node:os';
import { loadAverage, PODMAN_SOCKET, startLabDaemon, writeResults } from './lab-daemon.js';

const N = Number(process.argv[2] ?? 20);
const SECONDS = Number(process.argv[3] ?? 10);
const CONNECTIONS = Number(process.argv[4] ?? 100);
const LIST = '/v4.0.0/libpod/containers/json?all=true';

async function load(socketPath: string, path: string) {
  const r = await autocannon({ url: `http://localhost${path}`, socketPath, connections: CONNECTIONS, duration: SECONDS });
  return {
    p50Ms: r.latency.p50, p99Ms: r.latency.p99, maxMs: r.latency.max, requestsPerSec: Math.round(r.requests.average),
    requests: r.requests.total, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
  };
}

const loadStart = loadAverage();
const d = await startLabDaemon({ prefix: 'bhs', stacks: N, countPodmanCalls: true });
try {
  await d.ready();
  const containers = (JSON.parse((await d.get('/v1/stacks')).body) as { stacks: { containers?: unknown[] }[] }).stacks
    .reduce((sum, s) => sum + (s.containers?.length ?? 0), 0);
  // the idle window first, as long as both scrapes together
  const idleT0 = performance.now();
  await new Promise((r) => setTimeout(r, 2 * SECONDS * 1000));
  const idle = { seconds: 2 * SECONDS, ...d.podmanCallsIn(idleT0, performance.now()) };
  const cases = [];
  for (const path of ['/metrics', '/v1/stacks']) {
    const t0 = performance.now();
    const r = await load(d.api, path);
    cases.push({ case: `stackd ${path}`, ...r, podman: d.podmanCallsIn(t0, performance.now()) });
  }
  const podmanList = await load(PODMAN_SOCKET, LIST);
  // how many times faster than the podman list each stackd answer is, at the same concurrency
  const ratios = [
    ...cases.map((c) => ({ ...c, p50xFasterThanPodmanList: Number((podmanList.p50Ms / c.p50Ms).toFixed(1)), p99xFasterThanPodmanList: Number((podmanList.p99Ms / c.p99Ms).toFixed(1)) })),
    { case: `podman ${LIST} (direct, its real socket)`, ...podmanList },
  ];
  await writeResults('scrape.json', {
    bench: 'scrape',
    what: `${N} stacks × 3 busybox services (${containers} containers seen in /v1/stacks) under the built daemon (dist/main.js), all converged; ` +
      `each case ${SECONDS} s at ${CONNECTIONS} connections over a unix socket (autocannon, latency of 2xx answers, 1 ms resolution)`,
    baseline: `podman's container list over its own socket at the same concurrency: what a per-scrape exporter pays`,
    date: new Date().toISOString(),
    machine: { cores: availableParallelism(), loadAverage: { start: loadStart, end: loadAverage() } },
    cases: ratios,
    podmanCallsDuringIdleWindow: idle,
  });
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\nstackd log tail:\n${d.logs()}\n`);
  process.exitCode = 1;
} finally {
  await d.stop();
}
