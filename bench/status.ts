// What does answering from memory cost? GET /v1/stacks and every /metrics scrape derive each stack's
// health and state from observed containers (no podman call). Measured for 20 stacks × 5 containers, the
// owner's largest host, against a baseline in the same process: structuredClone of the same observations
// (the least work any answer needs). Writes bench/results/status.json.
//   bash bench/run.sh (or: npx tsc -p tsconfig.bench.json && node --expose-gc dist-bench/bench/status.js)
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { Metrics } from '../src/supervisor/metrics.js';
import { ObservedStore } from '../src/supervisor/observed-store.js';
import { Supervisor } from '../src/supervisor/supervisor.js';

const STACKS = 20;
const CONTAINERS = 5;
const now = Date.now();
const store = new ObservedStore();
const stacks = Array.from({ length: STACKS }, (_, i) => ({
  name: `stack-${i}`, project: `stack-${i}`, compose: [`/srv/stack-${i}/compose.yml`], envFiles: [], unit: `stack-${i}.service`,
  startupTimeoutMs: 300_000, envWaitMs: 30_000, healthWindowMs: 300_000, repair: 'none' as const, update: 'apply' as const,
}));
for (const s of stacks) {
  const services = Array.from({ length: CONTAINERS }, (_, j) => ({
    name: `svc${j}`, image: 'localhost:5000/lab/busybox:lab', labels: {}, oneShot: false, profiles: [],
    ...(j % 2 === 0 ? { healthcheck: { disabled: false, intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 10_000 } } : {}),
  }));
  store.update(s.name, {
    model: { project: s.project, services },
    observedAt: now,
    deployFinishedAtMs: now - 60_000,
    lastResult: { result: 'ok', startedAt: new Date(now - 70_000).toISOString(), finishedAt: new Date(now - 60_000).toISOString(), durationMs: 10_000 },
    containers: services.map((svc, j) => ({
      id: `${s.name}-${j}`.padEnd(64, '0'), name: `${s.name}-${svc.name}-1`, service: svc.name, project: s.project, state: 'running', exitCode: 0,
      health: j % 2 === 0 ? 'healthy' : 'none', startedAt: new Date(now - 65_000).toISOString(), labels: { 'com.docker.compose.project': s.project }, image: svc.image,
    })),
  });
}
const config = {
  source: 'bench', podman: { socket: '/nonexistent', composeCommand: ['podman', 'compose'], composeInfoCacheMs: 0 }, api: { socket: '/nonexistent' },
  queue: { concurrency: { min: 2, max: 2 }, retryBaseMs: 10_000, retryMaxMs: 300_000, resyncMs: 600_000 },
  defaults: { startupTimeoutMs: 300_000, envWaitMs: 30_000, healthWindowMs: 300_000, repair: 'none' as const },
  staleHealth: { startingFloorMs: 120_000, unhealthyAfterMs: 300_000, recheckWindowMs: 1_800_000 },
  cleanup: { maxAgeMs: 14_400_000, timerMinAgeMs: 60_000, gcEveryMs: 3_600_000, pruneEveryMs: 86_400_000 },
  stateFile: '/nonexistent', removedStacks: 'stop' as const, notify: [], stacks,
  update: { mode: 'apply' as const, settleMs: 120_000, gateSlackMs: 30_000, notifyOnSuccess: false },
};
const unused = () => { throw new Error('not used by this bench'); };
const supervisor = new Supervisor({
  config, store, logger: pino({ level: 'silent' }),
  reconciler: { reconcile: unused, retire: unused, observe: unused, observeProject: unused } as never,
  podman: { ping: unused } as never,
  stateStore: { load: async () => ({ state: new Map() }), save: async () => undefined },
});
const metrics = new Metrics({ listStacks: () => supervisor.listStacks(), queueDepth: () => 0, podmanUp: () => true });
const observations = stacks.map((s) => store.get(s.name));

async function opsPerSecond(fn: () => unknown | Promise<unknown>, ms = 1500): Promise<number> {
  for (let i = 0; i < 200; i++) await fn(); // warm-up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

const baseline = await opsPerSecond(() => structuredClone(observations));
const list = await opsPerSecond(() => JSON.stringify({ stacks: supervisor.listStacks() }));
const scrape = await opsPerSecond(() => metrics.text());
global.gc?.();
const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;

const results = {
  bench: 'status',
  what: `${STACKS} stacks × ${CONTAINERS} containers answered from memory`,
  baseline: 'structuredClone of the same observations, same process',
  date: new Date().toISOString(),
  baselineOpsPerSec: Math.round(baseline),
  cases: [
    { case: 'GET /v1/stacks body (listStacks + JSON.stringify)', opsPerSec: Math.round(list), costRatioToBaseline: Number((baseline / list).toFixed(2)) },
    { case: '/metrics scrape (prom-client text, default metrics included)', opsPerSec: Math.round(scrape), costRatioToBaseline: Number((baseline / scrape).toFixed(2)) },
  ],
  heapUsedMiB: Number(heapMiB.toFixed(1)),
};
// results go beside the compiled bench (dist-bench/bench/results); bench/run.sh copies them into bench/results
const out = join(dirname(new URL(import.meta.url).pathname), 'results', 'status.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
