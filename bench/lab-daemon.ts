// The built daemon (dist/main.js, default config but for its sockets and state file, with the NODE_OPTIONS of
// systemd/stackd.service) supervising N stacks of the bench workload on the real lab, as bench/daemon.ts,
// bench/scrape.ts and bench/footprint.ts run it. It
// brings the stacks up at start; ready() waits until every one is `converged`; stop() stops it and removes its
// stacks (`compose down`), containers, networks and files. Run as the lab user (bench/run.sh does).
//
// With countPodmanCalls, the daemon's `podman.socket` is stackd's own relay (src/adapters/podman-relay.ts, no
// reuse of answers) in this process, in front of podman's socket: every podman API request the daemon makes —
// its own and its compose runs' — lands in podmanCalls with the time it arrived.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { homedir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PodmanRelay } from '../src/adapters/podman-relay.js';
import { buildChildEnv, runProcess } from '../src/adapters/process-runner.js';
import { COMPOSE } from './workload.js';

export const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');
/** podman's real API socket (the lab user's socket-activated podman.service) */
export const PODMAN_SOCKET = join(process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${process.getuid?.()}`, 'podman/podman.sock');
const env = { ...buildChildEnv(process.env, { podmanSocket: PODMAN_SOCKET }), PODMAN_IGNORE_CGROUPSV1_WARNING: '1', PODMAN_COMPOSE_WARNING_LOGS: 'false' };

/**
 * The NODE_OPTIONS systemd/stackd.service starts stackd with (V8 flags chosen for the idle footprint): the bench
 * starts the daemon the same way, so what it measures is what the unit runs.
 */
export async function unitNodeOptions(): Promise<string> {
  const unit = await readFile(join(ROOT, 'systemd/stackd.service'), 'utf8');
  return /^Environment=NODE_OPTIONS=(.*)$/m.exec(unit)?.[1] ?? '';
}

export const sh = (argv: string[]) => runProcess({ argv, env, timeoutMs: 300_000 });
export const loadAverage = () => loadavg().map((x) => Number(x.toFixed(2)));

/** GET over a unix socket; the whole body as text. */
export function getOver(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ socketPath, path }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => { body += d.toString(); });
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

export async function until(pred: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface PodmanCall { atMs: number; method: string; url: string }

/**
 * The calls between t0 and t1 (performance.now()): how many, per second, and per request with the query decoded
 * and the bench's stack names as <stack> (so 20 stacks' project re-lists count as one kind of call).
 */
function podmanCallsIn(calls: PodmanCall[], t0: number, t1: number, prefix: string) {
  const inWindow = calls.filter((c) => c.atMs >= t0 && c.atMs < t1);
  const byRequest: Record<string, number> = {};
  for (const c of inWindow) {
    const key = `${c.method} ${decodeURIComponent(c.url).replaceAll(new RegExp(`${prefix}-\\d+`, 'g'), '<stack>')}`;
    byRequest[key] = (byRequest[key] ?? 0) + 1;
  }
  return { calls: inWindow.length, perSecond: Number((inWindow.length / ((t1 - t0) / 1000)).toFixed(2)), byRequest };
}

export interface LabDaemon {
  dir: string;
  /** the daemon's unix API socket */
  api: string;
  names: string[];
  process: ChildProcess;
  file(name: string): string;
  get(path: string): Promise<{ status: number; body: string }>;
  states(): Promise<Map<string, string>>;
  /** /healthz answers, then every stack is `converged` (the first healthcheck, 10 s interval, decides) */
  ready(): Promise<void>;
  /** the daemon's last 4,000 characters of output */
  logs(): string;
  /** podman API requests seen since start (only with countPodmanCalls), performance.now() times */
  podmanCalls: PodmanCall[];
  /** podmanCalls between t0 and t1 (performance.now()), counted */
  podmanCallsIn(t0: number, t1: number): ReturnType<typeof podmanCallsIn>;
  stop(): Promise<void>;
}

export async function startLabDaemon(o: { prefix: string; stacks: number; countPodmanCalls?: boolean }): Promise<LabDaemon> {
  const dir = await mkdtemp(join(homedir(), `stackd-bench-${o.prefix}-`));
  const api = join(dir, 'api.sock');
  const names = Array.from({ length: o.stacks }, (_, i) => `${o.prefix}-${i}`);
  const file = (n: string) => join(dir, n, 'compose.yml');
  for (const n of names) {
    await mkdir(join(dir, n));
    await writeFile(file(n), COMPOSE);
  }
  const podmanCalls: PodmanCall[] = [];
  const relay = o.countPodmanCalls
    ? new PodmanRelay({
      listenPath: join(dir, 'counting', 'podman.sock'), upstreamPath: PODMAN_SOCKET, ttlMs: 0,
      onRequest: (method, url) => podmanCalls.push({ atMs: performance.now(), method, url }),
    })
    : undefined;
  await relay?.start();
  await writeFile(join(dir, 'stackd.yaml'), `podman:
  socket: ${relay?.path ?? PODMAN_SOCKET}
api:
  socket: ${api}
stateFile: ${join(dir, 'state.json')}
stacks:
${names.map((n) => `  - name: ${n}\n    compose: [${file(n)}]`).join('\n')}
`);
  const daemon = spawn(process.execPath, [join(ROOT, 'dist/main.js'), '--config', join(dir, 'stackd.yaml')], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: await unitNodeOptions() },
  });
  let logs = '';
  for (const out of [daemon.stdout, daemon.stderr]) out?.on('data', (d: Buffer) => { logs = (logs + d.toString()).slice(-4000); });
  // a timeout's SIGTERM must not leave the daemon behind
  process.once('SIGTERM', () => { daemon.kill('SIGTERM'); process.exit(143); });
  const get = (path: string) => getOver(api, path);
  const states = async () => {
    const r = await get('/v1/stacks');
    return new Map((JSON.parse(r.body) as { stacks: { name: string; state: string }[] }).stacks.map((s) => [s.name, s.state]));
  };
  return {
    dir, api, names, process: daemon, file, get, states, podmanCalls, logs: () => logs,
    podmanCallsIn: (t0, t1) => podmanCallsIn(podmanCalls, t0, t1, o.prefix),
    async ready() {
      await until(() => get('/healthz').then((r) => r.status === 200, () => false), 30_000, 'stackd /healthz');
      await until(async () => [...(await states()).values()].every((s) => s === 'converged'), 180_000, 'every stack converged', 500);
    },
    async stop() {
      if (daemon.exitCode === null && daemon.signalCode === null) {
        const exited = new Promise((r) => daemon.once('exit', r));
        daemon.kill('SIGTERM');
        await exited;
      }
      await relay?.stop();
      for (const n of names) await sh(['podman', 'compose', '-p', n, '-f', file(n), 'down', '-t', '0']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Write a bench's results beside the compiled bench (dist-bench/bench/results; bench/run.sh copies them out) and print them. */
export async function writeResults(name: string, results: unknown): Promise<void> {
  const out = join(dirname(new URL(import.meta.url).pathname), 'results', name);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
