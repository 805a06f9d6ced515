// Cold converge (issue 9, benchmark 1): N stacks of 3 busybox services (one healthchecked, interval 10 s), images
// present and no containers, brought up (a) through stackd's production pipeline (supervisor, queue, preflight,
// model cache, timer GC; src/supervisor/pipeline.ts) with all N triggered at once, at several queue
// concurrencies, against the owner's old ways in the same run: (b) N × `podman compose up -d` started at once,
// (c) N × `podman-compose up -d` started at once, (d) N × `podman compose up -d` one after the other, and
// (e) the API floor: 3N create+start calls over the socket, one after the other. Then the reboot case: every
// container exists but is stopped. Wall time until all 3N containers run, and stacks that did not come up.
//
// Run as the lab user inside its cgroup subtree (bench/run.sh does):
//   node dist-bench/bench/converge.js N [cases]   cases: comma list of stackd-C (C a number, N, or auto: the
//   default, adaptive), herd-compose, herd-podman-compose, seq-compose, floor, reboot-stackd-C,
//   reboot-herd-compose (default: all, C = auto,1,2,4,8,N); CONVERGE_OBSERVER=cli: see benchContainers below
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { homedir, loadavg, availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { ComposeRunner } from '../src/adapters/compose-runner.js';
import { PodmanRelay } from '../src/adapters/podman-relay.js';
import { PaceMeter } from '../src/supervisor/pace-meter.js';
import { PodmanClient } from '../src/adapters/podman-client.js';
import { buildChildEnv, runProcess } from '../src/adapters/process-runner.js';
import { cpuUsec, userManagerCpuStat } from './cgroup-cpu.js';
import { listBenchContainers, type BenchContainer } from './observer.js';
import { benchConfig, upAll, writeWorkload } from './workload.js';

const N = Number(process.argv[2] ?? 5);
const PREFIX = 'bhc';
const caseArg = process.argv[3];
const cases = caseArg ? caseArg.split(',') : [
  ...['auto', '1', '2', '4', '8', 'N'].map((c) => `stackd-${c}`), 'herd-compose', 'herd-podman-compose', 'seq-compose', 'floor',
  'reboot-stackd-auto', 'reboot-herd-compose',
];
const socket = join(process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${process.getuid?.()}`, 'podman/podman.sock');
const env = buildChildEnv(process.env, { podmanSocket: socket });
const cliEnv = { ...env, PODMAN_IGNORE_CGROUPSV1_WARNING: '1', PODMAN_COMPOSE_WARNING_LOGS: 'false' };
const log = pino({ level: 'warn' });
const dir = await mkdtemp(join(homedir(), 'stackd-bench-converge-'));
const { names, composeFile } = await writeWorkload(dir, PREFIX, N);

async function sh(argv: string[], timeoutMs = 600_000) {
  return runProcess({ argv, env: cliEnv, timeoutMs });
}

// How the bench sees the containers (bench/observer.ts): podman's container list over its API socket, from this
// process, every 200 ms from the moment a case's own work returned (its compose runs exited, or stackd's jobs
// have their verdicts) until all run. CONVERGE_OBSERVER=cli looks with `podman ps` instead, as before (a podman
// CLI process per look), for comparing.
const observer = process.env['CONVERGE_OBSERVER'] === 'cli' ? 'cli' : 'api';
async function benchContainers(): Promise<BenchContainer[]> {
  if (observer === 'api') return listBenchContainers(socket, PREFIX);
  const r = await sh(['podman', 'ps', '-a', '--format', 'json']);
  return (JSON.parse(r.stdout || '[]') as BenchContainer[]).filter((c) => (c.Names[0] ?? '').startsWith(`${PREFIX}-`));
}

/** Remove every container and network this bench made (by the name prefix; nothing else is touched). */
async function clean(): Promise<void> {
  const ids = (await benchContainers()).map((c) => c.Id);
  if (ids.length) await sh(['podman', 'rm', '-f', '-t', '0', ...ids]);
  const nets = (await sh(['podman', 'network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n').filter((n) => n.startsWith(`${PREFIX}-`));
  if (nets.length) await sh(['podman', 'network', 'rm', '-f', ...nets]);
}

async function stopAll(): Promise<void> {
  const ids = (await benchContainers()).map((c) => c.Id);
  if (ids.length) await sh(['podman', 'stop', '-t', '0', ...ids]);
}

/** Poll until all 3N containers run (or the deadline); returns when that was first seen. */
async function untilAllRunning(deadlineMs: number): Promise<{ at: number; running: number }> {
  for (;;) {
    const running = (await benchContainers()).filter((c) => c.State === 'running').length;
    if (running >= 3 * N || performance.now() > deadlineMs) return { at: performance.now(), running };
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Stacks whose three containers are not all running. */
async function stacksDown(): Promise<number> {
  const list = await benchContainers();
  return names.filter((n) => list.filter((c) => c.State === 'running' && (c.Names[0] ?? '').match(new RegExp(`^${n}[-_]`))).length < 3).length;
}

/** how long podman took to start answering compose's requests (through the relay), in ms */
function spread(ms: number[]): { calls: number; p50: number; p90: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0);
  return { calls: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(s[s.length - 1] ?? 0) };
}

async function stackd(concurrency: number | 'auto'): Promise<{ failed: number; stackdMs: number; podmanAnswerMs: ReturnType<typeof spread> }> {
  const stateFile = join(dir, `state-${concurrency}-${Date.now()}.json`);
  const files = { exists: (p: string) => access(p).then(() => true, () => false), readText: (p: string) => readFile(p, 'utf8').catch(() => null) };
  const config = benchConfig({ socket, dir, stateFile, concurrency, names, composeFile });
  const podman = new PodmanClient({ socketPath: socket });
  // as stackd runs compose (src/main.ts): through a fresh relay, so its /info and /version copies start empty
  const answers: number[] = [];
  const pace = new PaceMeter();
  const relay = new PodmanRelay({
    listenPath: join(dir, `relay-${concurrency}.sock`), upstreamPath: socket, ttlMs: config.podman.composeInfoCacheMs,
    onAnswer: (_m, url, ms) => {
      answers.push(ms);
      pace.record(url, ms);
    },
  });
  await relay.start();
  const relayEnv = buildChildEnv(process.env, { podmanSocket: relay.path });
  const compose = new ComposeRunner({ command: ['podman', 'compose'], podmanSocket: relay.path, parentEnv: process.env, env: relayEnv, run: runProcess });
  const r = await upAll({ config, podman, compose, files, logger: log, childEnv: relayEnv, podmanPace: () => pace.take() }, 900_000);
  await relay.stop();
  await podman.close?.();
  return { failed: r.failed.length, stackdMs: r.ms, podmanAnswerMs: spread(answers) };
}

async function herd(argvOf: (n: string) => string[], together: boolean): Promise<number> {
  const one = (n: string) => sh(argvOf(n)).then((r) => (r.exitCode === 0 ? 0 : 1));
  if (together) return (await Promise.all(names.map(one))).reduce<number>((a, b) => a + b, 0);
  let failed = 0;
  for (const n of names) failed += await one(n);
  return failed;
}

function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) as unknown : null }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The floor: one network, then 3N create+start calls on the Docker-compatible API, in series. */
async function floor(): Promise<number> {
  let failed = 0;
  const net = await api('POST', '/v1.41/networks/create', { Name: `${PREFIX}-floor` });
  if (net.status >= 300) throw new Error(`floor: network create answered ${net.status}: ${JSON.stringify(net.json)}`);
  for (const n of names) {
    for (const svc of ['web', 'worker', 'cron']) {
      const c = await api('POST', `/v1.41/containers/create?name=${n}-${svc}-1`, {
        Image: 'localhost/busybox:lab', Cmd: ['sleep', '1000000'], HostConfig: { Init: true, NetworkMode: `${PREFIX}-floor` },
      });
      const id = (c.json as { Id?: string } | null)?.Id;
      const s = id ? await api('POST', `/v1.41/containers/${id}/start`) : { status: 0 };
      if (c.status >= 300 || s.status >= 300) failed++;
    }
  }
  return failed;
}

interface Row { case: string; concurrency?: number | 'auto'; wallMs: number; cpuSeconds?: number; stacksNotUp: number; failedRuns: number; stackdJobsMs?: number; podmanAnswerMs?: ReturnType<typeof spread> }
const rows: Row[] = [];
const load = { start: loadavg().map((x) => Number(x.toFixed(2))), end: [] as number[] };
const conc = (c: string): number | 'auto' => (c === 'N' ? N : c === 'auto' ? 'auto' : Number(c));
const cpuStat = userManagerCpuStat();
if (!cpuStat) process.stderr.write('not inside a user manager\'s cgroup subtree: CPU seconds are not reported\n');

for (const c of cases) {
  const reboot = c.startsWith('reboot-');
  await clean();
  if (reboot) {
    // the reboot case: every container exists but is stopped (made by one compose herd, then stopped)
    await herd((n) => ['podman', 'compose', '-p', n, '-f', composeFile(n), 'up', '-d'], true);
    await untilAllRunning(performance.now() + 300_000);
    await stopAll();
  }
  const kind = reboot ? c.slice('reboot-'.length) : c;
  const t0 = performance.now();
  const cpu0 = cpuUsec(cpuStat);
  let failedRuns: number;
  let row: Partial<Row> = {};
  if (kind.startsWith('stackd-')) {
    const k = conc(kind.slice('stackd-'.length));
    const r = await stackd(k);
    failedRuns = r.failed;
    row = { concurrency: k, stackdJobsMs: Math.round(r.stackdMs), podmanAnswerMs: r.podmanAnswerMs };
  } else if (kind === 'herd-compose') {
    failedRuns = await herd((n) => ['podman', 'compose', '-p', n, '-f', composeFile(n), 'up', '-d'], true);
  } else if (kind === 'herd-podman-compose') {
    failedRuns = await herd((n) => ['podman-compose', '-p', n, '-f', composeFile(n), 'up', '-d'], true);
  } else if (kind === 'seq-compose') {
    failedRuns = await herd((n) => ['podman', 'compose', '-p', n, '-f', composeFile(n), 'up', '-d'], false);
  } else if (kind === 'floor') {
    failedRuns = await floor();
  } else {
    throw new Error(`unknown case ${c}`);
  }
  const seen = await untilAllRunning(performance.now() + 120_000);
  const wallMs = Math.round(seen.at - t0);
  const cpuSeconds = cpuStat ? Number(((cpuUsec(cpuStat) - cpu0) / 1e6).toFixed(2)) : undefined;
  const stacksNotUp = await stacksDown();
  rows.push({ case: c, ...row, wallMs, ...(cpuSeconds !== undefined ? { cpuSeconds } : {}), stacksNotUp, failedRuns });
  process.stderr.write(`N=${N} ${c}: ${(wallMs / 1000).toFixed(1)} s, ${cpuSeconds ?? '?'} CPU s, ${stacksNotUp} stacks not up, ${failedRuns} failed runs${row.podmanAnswerMs ? `, podman answers ${JSON.stringify(row.podmanAnswerMs)}` : ''}\n`);
}
await clean();
await rm(dir, { recursive: true, force: true });
load.end = loadavg().map((x) => Number(x.toFixed(2)));

// a cold row is compared with the fastest cold old way, a reboot row with the reboot herd
const best = Math.min(...rows.filter((r) => /^herd-|^seq-/.test(r.case)).map((r) => r.wallMs));
const bestReboot = rows.find((r) => r.case === 'reboot-herd-compose')?.wallMs ?? Number.NaN;
const floorMs = rows.find((r) => r.case === 'floor')?.wallMs;
// CPU: against the old way that was fastest on the wall (the one the wall ratio compares with)
const bestRow = rows.filter((r) => /^herd-|^seq-/.test(r.case)).find((r) => r.wallMs === best);
const bestRebootRow = rows.find((r) => r.case === 'reboot-herd-compose');
function ratio(key: string, ms: number, base: number): Record<string, number> {
  return Number.isFinite(base) && base > 0 ? { [key]: Number((ms / base).toFixed(2)) } : {};
}
const results = {
  bench: 'converge',
  what: `${N} stacks × 3 busybox services (one healthchecked, interval 10 s), images present: wall time from the start until all ${3 * N} containers run`,
  baseline: 'cold rows: the fastest old way (herd or sequential compose) and the API floor; reboot rows: the compose herd on stopped containers; same run',
  cpu: 'cpuSeconds: CPU time of the whole user manager (podman, conmon, containers, healthchecks, compose, this process) from the start until all containers ran, from cgroup v2 cpu.stat',
  date: new Date().toISOString(),
  machine: { cores: availableParallelism(), loadAverage: load },
  observer: `${observer === 'api' ? 'libpod container list over the API socket' : '`podman ps -a --format json`'}, every 200 ms once the case's own work returned`,
  stacks: N,
  rows: rows.map((r) => ({
    ...r,
    ...ratio('ratioToBestOldWay', r.wallMs, r.case.startsWith('reboot-') ? bestReboot : best),
    ...(r.cpuSeconds !== undefined ? ratio('cpuRatioToBestOldWay', r.cpuSeconds, (r.case.startsWith('reboot-') ? bestRebootRow : bestRow)?.cpuSeconds ?? Number.NaN) : {}),
    ...(r.case.startsWith('reboot-') ? {} : ratio('ratioToFloor', r.wallMs, floorMs ?? Number.NaN)),
  })),
};
const out = join(dirname(new URL(import.meta.url).pathname), 'results', `converge-${N}.json`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
