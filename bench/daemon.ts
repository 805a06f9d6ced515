// The built daemon (dist/main.js) and CLI as the owner runs them, on the real lab (issue 9, benchmarks 2 and 3):
// - no-op resync: N stacks up and unchanged; `stackctl up NAME` for each, one after the other, as the stack
//   units do, vs N raw no-op `podman compose up -d` in the same run (goal: ≤ 0.05×);
// - detection latency: `podman kill` of a converged stack's healthchecked container (a service without
//   restart policy or healthcheck counts as a one-shot, and an exited one-shot is not repaired by `up`) → that stack not `converged` in
//   /v1/stacks (polled every 5 ms), over TRIALS kills; measured from the moment `podman kill` returned (podman
//   has emitted the event by then) and from just before it was spawned.
// Writes bench/results/daemon-N.json. Run as the lab user (bench/run.sh does):  node dist-bench/bench/daemon.js N
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { availableParallelism, homedir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildChildEnv, runProcess } from '../src/adapters/process-runner.js';
import { COMPOSE } from './workload.js';

const N = Number(process.argv[2] ?? 10);
const TRIALS = Number(process.argv[3] ?? 20);
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const socket = join(process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${process.getuid?.()}`, 'podman/podman.sock');
const env = { ...buildChildEnv(process.env, { podmanSocket: socket }), PODMAN_IGNORE_CGROUPSV1_WARNING: '1', PODMAN_COMPOSE_WARNING_LOGS: 'false' };
const dir = await mkdtemp(join(homedir(), 'stackd-bench-daemon-'));
const api = join(dir, 'api.sock');
const names = Array.from({ length: N }, (_, i) => `bhd-${i}`);
const file = (n: string) => join(dir, n, 'compose.yml');
for (const n of names) {
  await mkdir(join(dir, n));
  await writeFile(file(n), COMPOSE);
}
await writeFile(join(dir, 'stackd.yaml'), `podman:
  socket: ${socket}
api:
  socket: ${api}
stateFile: ${join(dir, 'state.json')}
stacks:
${names.map((n) => `  - name: ${n}\n    compose: [${file(n)}]`).join('\n')}
`);

const sh = (argv: string[]) => runProcess({ argv, env, timeoutMs: 300_000 });
const stackctl = (...args: string[]) => sh([process.execPath, join(ROOT, 'dist/cli/stackctl.js'), '--socket', api, ...args]);

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ socketPath: api, path }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => { body += d.toString(); });
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}
async function states(): Promise<Map<string, string>> {
  const r = await get('/v1/stacks');
  return new Map((JSON.parse(r.body) as { stacks: { name: string; state: string }[] }).stacks.map((s) => [s.name, s.state]));
}
async function until(pred: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
/**
 * When podman's `died` event of each container reached a client of the event stream (performance.now()), as
 * it reaches stackd's own watcher: detection is timed from there too, which is what the goal is about.
 */
const diedAt = new Map<string, number>();
const eventsAbort = new AbortController();
const eventStream = request({
  socketPath: socket, signal: eventsAbort.signal,
  path: `/v5.0.0/libpod/events?stream=true&filters=${encodeURIComponent(JSON.stringify({ type: ['container'], event: ['died'] }))}`,
}, (r) => {
  let buf = '';
  r.on('data', (d: Buffer) => {
    const at = performance.now();
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const name = line ? (JSON.parse(line) as { Actor?: { Attributes?: { name?: string } } }).Actor?.Attributes?.name : undefined;
      if (name) diedAt.set(name, at);
    }
  });
  r.on('error', () => undefined);
});
eventStream.on('error', () => undefined);
eventStream.end();

const allConverged = async () => [...(await states()).values()].every((s) => s === 'converged');

const loadStart = loadavg().map((x) => Number(x.toFixed(2)));
const daemon = spawn(process.execPath, [join(ROOT, 'dist/main.js'), '--config', join(dir, 'stackd.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
let logs = '';
// a timeout's SIGTERM must not leave the daemon behind
process.once('SIGTERM', () => { daemon.kill('SIGTERM'); process.exit(143); });
for (const out of [daemon.stdout, daemon.stderr]) out.on('data', (d: Buffer) => { logs = (logs + d.toString()).slice(-4000); });
try {
  await until(() => get('/healthz').then((r) => r.status === 200, () => false), 30_000, 'stackd /healthz');
  // the daemon brings the stacks up at start; the first healthcheck (10 s interval) makes them converged
  await until(allConverged, 180_000, 'every stack converged', 500);

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const r1 = (x: number) => Number(x.toFixed(1));
    return { medianMs: r1(s[Math.floor(s.length / 2)] ?? NaN), maxMs: r1(s[s.length - 1] ?? NaN), minMs: r1(s[0] ?? NaN), totalMs: r1(s.reduce((a, b) => a + b, 0)) };
  };
  const stackctlMs: number[] = [];
  for (const n of names) {
    const t0 = performance.now();
    const r = await stackctl('up', n);
    stackctlMs.push(performance.now() - t0);
    if (r.exitCode !== 0) throw new Error(`stackctl up ${n} failed: ${r.stderr}`);
  }
  // the daemon's own part of each: the skipped reconcile's duration, as the periodic resync pays it (no CLI)
  const listed = JSON.parse((await get('/v1/stacks')).body) as { stacks: { lastResult?: { result: string; durationMs: number } }[] };
  const skippedMs = listed.stacks.flatMap((x) => (x.lastResult?.result === 'skipped' ? [x.lastResult.durationMs] : []));
  const rawMs: number[] = [];
  for (const n of names) {
    const t0 = performance.now();
    const r = await sh(['podman', 'compose', '-p', n, '-f', file(n), 'up', '-d']);
    rawMs.push(performance.now() - t0);
    if (r.exitCode !== 0) throw new Error(`podman compose up ${n} failed: ${r.stderr}`);
  }

  const afterKillMs: number[] = [];
  const afterEventMs: number[] = [];
  const fromSpawnMs: number[] = [];
  const noopDone = { stackctlUp: stats(stackctlMs), rawComposeUp: stats(rawMs) };
  process.stderr.write(`no-op: ${JSON.stringify(noopDone)}\n`);
  const notBack: string[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const n = names[i % N] as string;
    // a stack the previous repair did not bring back is reported, not waited for forever
    const ok = await until(async () => (await states()).get(n) === 'converged', 60_000, `${n} converged`, 100).then(() => true, () => false);
    if (!ok) {
      notBack.push(`${n}: ${(await states()).get(n)}`);
      continue;
    }
    diedAt.delete(`${n}-web-1`);
    const t0 = performance.now();
    const k = await sh(['podman', 'kill', `${n}-web-1`]);
    const t1 = performance.now();
    if (k.exitCode !== 0) throw new Error(`podman kill ${n}-web-1 failed: ${k.stderr}`);
    await until(async () => (await states()).get(n) !== 'converged', 30_000, `${n} seen as not converged`, 5);
    const t2 = performance.now();
    afterKillMs.push(t2 - t1);
    fromSpawnMs.push(t2 - t0);
    const died = diedAt.get(`${n}-web-1`);
    if (died !== undefined) afterEventMs.push(t2 - died);
    const r = await stackctl('up', n);
    if (r.exitCode !== 0) throw new Error(`stackctl up ${n} (repair after the kill) failed: ${r.stderr}`);
  }

  const ctl = stats(stackctlMs);
  const raw = stats(rawMs);
  const results = {
    bench: 'daemon',
    what: `${N} stacks × 3 busybox services through the built daemon (dist/main.js, default config) and stackctl`,
    date: new Date().toISOString(),
    machine: { cores: availableParallelism(), loadAverage: { start: loadStart, end: loadavg().map((x) => Number(x.toFixed(2))) } },
    noop: {
      what: `no-op resync: stackctl up NAME for each of ${N} unchanged stacks, one after the other, vs ${N} raw no-op podman compose up -d`,
      stackctlUp: ctl, rawComposeUp: raw, ratio: Number((ctl.totalMs / raw.totalMs).toFixed(3)),
      skippedReconcile: { ...stats(skippedMs), stacks: skippedMs.length, ratioToRaw: Number((stats(skippedMs).totalMs / raw.totalMs).toFixed(3)),
        what: 'the daemon\'s part alone (lastResult.durationMs of the skipped reconciles): what the periodic resync pays per unchanged stack' },
    },
    detection: {
      what: `${TRIALS} × podman kill of a converged stack's web container → that stack not converged in GET /v1/stacks (polled every 5 ms)`,
      trials: afterKillMs.length, stacksNotBackBeforeTheirKill: notBack,
      afterDiedEvent: { ...stats(afterEventMs), trials: afterEventMs.length, what: 'from the moment podman\'s died event reached this bench on its own event stream (polling /v1/stacks every 5 ms bounds the resolution)' },
      afterKillReturned: stats(afterKillMs), fromKillSpawned: stats(fromSpawnMs),
    },
  };
  const out = join(dirname(new URL(import.meta.url).pathname), 'results', `daemon-${N}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\nstackd log tail:\n${logs}\n`);
  process.exitCode = 1;
} finally {
  eventsAbort.abort();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  for (const n of names) await sh(['podman', 'compose', '-p', n, '-f', file(n), 'down', '-t', '0']);
  await rm(dir, { recursive: true, force: true });
}
