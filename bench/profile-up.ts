// Where does one cold `up` through stackd's production pipeline spend its time? One stack of the converge
// workload (3 busybox services, one healthchecked), no containers: every call stackd makes to compose, to the
// podman API and to systemctl is timed through a wrapper around the adapter (the adapters are the real ones).
// Writes bench/results/profile-up.json. Run as the lab user (bench/run.sh does).
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { request as httpRequest } from 'node:http';
import { ComposeRunner } from '../src/adapters/compose-runner.js';
import { PodmanRelay } from '../src/adapters/podman-relay.js';
import { PodmanClient } from '../src/adapters/podman-client.js';
import { buildChildEnv, runProcess } from '../src/adapters/process-runner.js';
import { loadState, saveState } from '../src/adapters/state-file.js';
import { Systemctl } from '../src/adapters/systemctl.js';
import { buildPipeline } from '../src/supervisor/pipeline.js';
import { timed, type TimedCall } from './timed.js';
import { benchConfig, COMPOSE } from './workload.js';

const socket = join(process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${process.getuid?.()}`, 'podman/podman.sock');
const dir = await mkdtemp(join(homedir(), 'stackd-bench-profile-'));
// compose talks through the relay, as in stackd (src/main.ts); warmed first, as in a daemon that has run one
// compose before: what a cold up costs once podman's /info and /version are no longer recomputed per run
const relay = new PodmanRelay({ listenPath: join(dir, 'relay.sock'), upstreamPath: socket, ttlMs: 600_000 });
await relay.start();
for (const path of ['/v1.41/info', '/v1.41/version']) {
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest({ socketPath: relay.path, path }, (res) => res.resume().on('end', () => resolve()));
    req.on('error', reject);
    req.end();
  });
}
const env = buildChildEnv(process.env, { podmanSocket: relay.path });
const calls: TimedCall[] = [];


const name = 'bhp-0';
await writeFile(join(dir, 'compose.yml'), COMPOSE);
const stateFile = join(dir, 'state.json');
const config = benchConfig({ socket, dir, stateFile, concurrency: 1, names: [name], composeFile: () => join(dir, 'compose.yml') });
const podman = new PodmanClient({ socketPath: socket });
const { supervisor } = buildPipeline({
  config, logger: pino({ level: 'warn' }), childEnv: env,
  podman: timed(calls, 'podman API', podman),
  compose: timed(calls, 'compose', new ComposeRunner({ command: ['podman', 'compose'], podmanSocket: relay.path, parentEnv: process.env, env, run: runProcess })),
  files: timed(calls, 'files', { exists: (p: string) => access(p).then(() => true, () => false), readText: (p: string) => readFile(p, 'utf8').catch(() => null) }),
  systemctl: timed(calls, 'systemctl', new Systemctl({ parentEnv: process.env })),
  stateStore: { load: (projectOf) => loadState(stateFile, projectOf), save: (st) => saveState(stateFile, st) },
  probeComposeProvider: async () => ({ ok: true, provider: 'docker-compose', version: '', detail: 'assumed by the bench' }),
});
await supervisor.load();
calls.length = 0;
const t0 = performance.now();
const job = await supervisor.request(name, 'up');
const done = await supervisor.waitJob(job.id, 300_000);
const totalMs = performance.now() - t0;
await supervisor.stop();
await runProcess({ argv: ['podman', 'compose', '-p', name, '-f', join(dir, 'compose.yml'), 'down', '-t', '0'], env, timeoutMs: 120_000 });
await podman.close?.();
await relay.stop();
await rm(dir, { recursive: true, force: true });

const byKind = new Map<string, { calls: number; ms: number }>();
for (const c of calls) {
  const k = `${c.port}.${c.method}`;
  const e = byKind.get(k) ?? { calls: 0, ms: 0 };
  e.calls++;
  e.ms += c.ms;
  byKind.set(k, e);
}
// The healthcheck-timer GC (systemctl, and the list of all containers) runs beside the queue since it stopped
// holding the reconcile's slot: it overlaps the job, so it is reported apart and not subtracted.
const besideTheQueue = (c: { port: string; method: string }) => c.port === 'systemctl' || (c.port === 'podman API' && c.method === 'listContainers');
const outside = calls.filter((c) => !besideTheQueue(c)).reduce((a, c) => a + c.ms, 0);
const results = {
  bench: 'profile-up',
  what: 'one cold `up` of a 3-service stack (one healthchecked) through the production pipeline, every adapter call timed; compose talks through a warm relay, as in a running stackd',
  date: new Date().toISOString(),
  verdict: done?.status,
  totalMs: Math.round(totalMs),
  calls: [...byKind].map(([call, e]) => ({ call, calls: e.calls, ms: Math.round(e.ms) })).sort((a, b) => b.ms - a.ms),
  stackdOwnMs: Math.round(totalMs - outside),
  timerGcBesideTheQueueMs: Math.round(calls.filter(besideTheQueue).reduce((a, c) => a + c.ms, 0)),
};
const out = join(dirname(new URL(import.meta.url).pathname), 'results', 'profile-up.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
