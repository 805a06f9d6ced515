// A timeline of one cold converge (bench/converge.ts's workload and cases), for finding where wall time and CPU
// go: every adapter call stackd's pipeline makes (compose runs, podman API calls, systemctl, state-file writes),
// every request the relay passes to podman, the bench's own observer polls, and the user manager's CPU (cgroup
// v2 cpu.stat) sampled every 50 ms. Prints one line per event, in ms from the start, and a per-stack summary.
// Unlike bench/converge.ts it looks at the containers during the run too (every 200 ms), so the moment they all
// run is seen even before the case's own work returned. Not part of bench/run.sh: a tool to run by hand as the
// lab user (as-lab.sh, inside its user manager):
//   node dist-bench/bench/timeline.js N [stackd|herd-podman-compose] [api|cli]   (api|cli: bench/observer.ts)
import { readdirSync, readFileSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ComposeRunner } from '../src/adapters/compose-runner.js';
import { PodmanClient } from '../src/adapters/podman-client.js';
import { PodmanRelay } from '../src/adapters/podman-relay.js';
import { buildChildEnv, runProcess } from '../src/adapters/process-runner.js';
import { loadState, saveState } from '../src/adapters/state-file.js';
import { Systemctl } from '../src/adapters/systemctl.js';
import { buildPipeline } from '../src/supervisor/pipeline.js';
import { cpuUsec, userManagerCpuStat } from './cgroup-cpu.js';
import { listBenchContainers } from './observer.js';
import { timed } from './timed.js';
import { benchConfig, writeWorkload } from './workload.js';

const N = Number(process.argv[2] ?? 5);
const mode = process.argv[3] ?? 'stackd';
const observer = (process.argv[4] ?? 'api') as 'api' | 'cli';
const PREFIX = 'bhc';
const socket = join(process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${process.getuid?.()}`, 'podman/podman.sock');
const env = buildChildEnv(process.env, { podmanSocket: socket });
const cliEnv = { ...env, PODMAN_IGNORE_CGROUPSV1_WARNING: '1', PODMAN_COMPOSE_WARNING_LOGS: 'false' };
const dir = await mkdtemp(join(homedir(), 'stackd-bench-timeline-'));
const { names, composeFile } = await writeWorkload(dir, PREFIX, N);
const cpuStat = userManagerCpuStat();
/** CPU µs of every cgroup under the user manager, two levels down (podman.service, lab.slice, the containers' scopes…) */
function cgroupCpu(): Map<string, number> {
  const out = new Map<string, number>();
  if (!cpuStat) return out;
  const root = cpuStat.replace(/\/cpu\.stat$/, '');
  const walk = (d: string, depth: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = `${d}/${e.name}`;
      try {
        const m = readFileSync(`${p}/cpu.stat`, 'utf8').match(/^usage_usec (\d+)$/m);
        const key = p.slice(root.length + 1).replace(/libpod-[0-9a-f]{64}/, 'libpod-<container>').replace(/[0-9a-f]{64}/, '<container>');
        if (m) out.set(key, (out.get(key) ?? 0) + Number(m[1]));
      } catch { /* gone meanwhile */ }
      if (depth < 5) walk(p, depth + 1);
    }
  };
  walk(root, 1);
  return out;
}

let t0 = performance.now();
const events: { at: number; end?: number; who: string; what: string }[] = [];
const ev = (who: string, what: string, at = performance.now(), end?: number) => events.push({ at: at - t0, ...(end !== undefined ? { end: end - t0 } : {}), who, what });
const stackOf = (args: unknown[]): string => {
  const s = JSON.stringify(args) ?? '';
  return s.match(new RegExp(`${PREFIX}-\\d+`))?.[0] ?? '-';
};

/** The same object, every method call recorded as a span of the stack its arguments name. */
function timedPort<T extends object>(port: string, target: T): T {
  return timed(target, (method, args, t0, t1) => ev(stackOf(args), port === 'compose' ? method : `${port}.${method}`, t0, t1));
}

async function clean(): Promise<void> {
  const list = await listBenchContainers(socket, PREFIX);
  if (list.length) await runProcess({ argv: ['podman', 'rm', '-f', '-t', '0', ...list.map((c) => c.Id)], env: cliEnv, timeoutMs: 120_000 });
  const nets = (await runProcess({ argv: ['podman', 'network', 'ls', '--format', '{{.Name}}'], env: cliEnv, timeoutMs: 60_000 })).stdout.split('\n').filter((n) => n.startsWith(`${PREFIX}-`));
  if (nets.length) await runProcess({ argv: ['podman', 'network', 'rm', '-f', ...nets], env: cliEnv, timeoutMs: 60_000 });
}

async function poll(): Promise<number> {
  const a = performance.now();
  const list = observer === 'api'
    ? await listBenchContainers(socket, PREFIX)
    : (JSON.parse((await runProcess({ argv: ['podman', 'ps', '-a', '--format', 'json'], env: cliEnv, timeoutMs: 60_000 })).stdout || '[]') as { Names: string[]; State: string }[])
      .filter((c) => (c.Names[0] ?? '').startsWith(`${PREFIX}-`));
  const running = list.filter((c) => c.State === 'running');
  ev('bench', `poll (${observer}): ${running.length} running`, a, performance.now());
  return running.length;
}

await clean();
await new Promise((r) => setTimeout(r, 1000));
const cpuSamples: { at: number; usec: number }[] = [];
t0 = performance.now();
const cpu0 = cpuUsec(cpuStat);
const own0 = process.cpuUsage();
const groups0 = cgroupCpu();
const sampler = setInterval(() => cpuSamples.push({ at: performance.now() - t0, usec: cpuUsec(cpuStat) - cpu0 }), 50);
const polling = (async () => {
  for (;;) {
    if ((await poll()) >= 3 * N) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  ev('bench', 'all running');
})();

let relay: PodmanRelay | undefined;
if (mode === 'stackd') {
  relay = new PodmanRelay({
    listenPath: join(dir, 'relay.sock'), upstreamPath: socket, ttlMs: 60_000,
    onAnswer: (m, url, ms) => ev('relay', `${m} ${url.replace(/\?.*/, '')} ${Math.round(ms)} ms`, performance.now() - ms, performance.now()),
  });
  await relay.start();
  const relayEnv = buildChildEnv(process.env, { podmanSocket: relay.path });
  const stateFile = join(dir, 'state.json');
  const config = benchConfig({ socket, dir, stateFile, concurrency: 'auto', names, composeFile });
  const podman = new PodmanClient({ socketPath: socket });
  const { supervisor, housekeeping } = buildPipeline({
    config, logger: pino({ level: 'warn' }), childEnv: relayEnv,
    podman: timedPort('podman', podman),
    compose: timedPort('compose', new ComposeRunner({ command: ['podman', 'compose'], podmanSocket: relay.path, parentEnv: process.env, env: relayEnv, run: runProcess })),
    files: timedPort('files', { exists: (p: string) => access(p).then(() => true, () => false), readText: (p: string) => readFile(p, 'utf8').catch(() => null) }),
    systemctl: timedPort('systemctl', new Systemctl({ parentEnv: process.env })),
    stateStore: timedPort('state', { load: (projectOf: (s: string) => string) => loadState(stateFile, projectOf), save: (st: Parameters<typeof saveState>[1]) => saveState(stateFile, st) }),
    probeComposeProvider: async () => ({ ok: true, provider: 'docker-compose', version: '', detail: 'assumed by the bench' }),
  });
  await supervisor.load();
  ev('bench', 'pipeline loaded');
  const jobs = await Promise.all(names.map((n) => supervisor.request(n, 'up')));
  ev('bench', 'all requested');
  await Promise.all(jobs.map((j) => supervisor.waitJob(j.id, 300_000).then(() => ev(j.stack ?? '-', 'job verdict'))));
  await supervisor.stop();
  await housekeeping.stop();
  ev('bench', 'housekeeping stopped');
  await podman.close?.();
} else {
  await Promise.all(names.map(async (n) => {
    const a = performance.now();
    await runProcess({ argv: ['podman-compose', '-p', n, '-f', composeFile(n), 'up', '-d'], env: cliEnv, timeoutMs: 300_000 });
    ev(n, 'podman-compose up', a, performance.now());
  }));
}
await polling;
clearInterval(sampler);
const own = process.cpuUsage(own0);
const groups1 = cgroupCpu();
process.stdout.write(`relay copies: ${JSON.stringify(relay?.counts)}\n`);
await relay?.stop();
await clean();
await rm(dir, { recursive: true, force: true });

events.sort((a, b) => a.at - b.at);
for (const e of events) {
  process.stdout.write(`${Math.round(e.at).toString().padStart(6)}${e.end !== undefined ? ` → ${Math.round(e.end).toString().padStart(6)} (${Math.round(e.end - e.at)} ms)` : ''.padEnd(18)}  ${e.who.padEnd(7)} ${e.what}\n`);
}
process.stdout.write('\nCPU (user manager), ms of CPU per 250 ms of wall:\n');
for (let w = 0; w < (cpuSamples[cpuSamples.length - 1]?.at ?? 0); w += 250) {
  const inW = cpuSamples.filter((s) => s.at >= w && s.at < w + 250);
  const before = cpuSamples.filter((s) => s.at < w).pop()?.usec ?? 0;
  const last = inW[inW.length - 1]?.usec ?? before;
  process.stdout.write(`${String(w).padStart(6)} ${Math.round((last - before) / 1000).toString().padStart(4)} ${'#'.repeat(Math.round((last - before) / 1000 / 10))}\n`);
}
const total = (cpuSamples[cpuSamples.length - 1]?.usec ?? 0) / 1e6;
process.stdout.write('\nCPU by cgroup (containers that did not exist at the start count whole):\n');
for (const [k, v] of [...groups1].map(([k, v]) => [k, v - (groups0.get(k) ?? 0)] as const).filter(([, v]) => v > 5_000).sort((a, b) => b[1] - a[1])) {
  process.stdout.write(`${(v / 1e6).toFixed(2).padStart(7)} s  ${k}\n`);
}
process.stdout.write(`total CPU ${total.toFixed(2)} s (of it this process: ${((own.user + own.system) / 1e6).toFixed(2)} s), wall to all running ${Math.round(events.find((e) => e.what === 'all running')?.at ?? 0)} ms\n`);
