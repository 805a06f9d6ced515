// How long does `stackctl` take from exec to exit? Every stack unit runs `stackctl up NAME` at each boot and host
// rebuild, so its start-up is paid twenty times over. Spawns the built CLI (dist/cli/stackctl.js) for `--help`;
// `status` against a small fake daemon in this process (GET /v1/stacks: 20 stacks × 5 containers, unix socket);
// `up NAME` against it (POST, then one long-poll that returns the verdict); and `status` against a socket that
// does not exist (exit 3). All round-robin with the baseline `node -e 0` (bare node start-up) in the same run.
// With `--before REF` the CLI as it was at REF is built from git in a temp dir and measured in the same rounds.
// No podman lab needed. Writes bench/results/cli-startup.json.
//   npm run bench:cli [-- --before REF] [--runs N]   (or: npx tsc -p tsconfig.bench.json && node dist-bench/bench/cli-startup.js)
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { StackStatus } from '../src/core/model.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..'); // dist-bench/bench → the repository
const { values: opts } = parseArgs({ options: { before: { type: 'string' }, runs: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' } } });
const RUNS = Number(opts.runs);
const WARMUP = Number(opts.warmup);
const STACKS = 20;
const CONTAINERS = 5;

const tmp = await mkdtemp(join(tmpdir(), 'cli-startup-'));
const socket = join(tmp, 'stackd.sock');
const missing = join(tmp, 'nowhere', 'stackd.sock');

// the fake daemon: what GET /v1/stacks answers on the owner's largest host
const finishedAt = new Date(Date.now() - 60_000).toISOString();
const stacks: StackStatus[] = Array.from({ length: STACKS }, (_, i) => ({
  name: `stack-${i}`, project: `stack-${i}`, unit: `stack-${i}.service`, desired: 'running', phase: 'idle', health: 'healthy', state: 'converged',
  lastResult: { result: 'ok', startedAt: finishedAt, finishedAt, durationMs: 4200 },
  containers: Array.from({ length: CONTAINERS }, (_, j) => ({
    id: `${i}-${j}`.padEnd(64, '0'), name: `stack-${i}-svc${j}-1`, service: `svc${j}`, state: 'running', health: j % 2 === 0 ? 'healthy' : 'none',
  })),
}));
const body = JSON.stringify({ stacks });
// `up stack-0` as a stack's unit runs it: the request is queued, the first long-poll returns the verdict
const job = { id: 'job-1', kind: 'up', stack: 'stack-0', status: 'queued', createdAt: finishedAt };
const queued = JSON.stringify({ job });
const done = JSON.stringify({ job: { ...job, status: 'done', finishedAt, result: { result: 'ok', startedAt: finishedAt, finishedAt, durationMs: 4200 } } });
const daemon = createServer((req, res) => {
  req.resume();
  const send = (status: number, text: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(text);
  if (req.method === 'GET' && req.url === '/v1/stacks') send(200, body);
  else if (req.method === 'POST' && req.url === '/v1/stacks/stack-0/up') send(202, queued);
  else if (req.method === 'GET' && req.url?.startsWith('/v1/jobs/job-1?wait=')) send(200, done);
  else send(404, JSON.stringify({ error: { code: 'not-found', message: 'no' } }));
});
await new Promise<void>((resolve) => daemon.listen(socket, resolve));

interface Case { build: string; case: string; argv: string[]; exit: number }

function cliCases(build: string, stackctl: string): Case[] {
  return [
    { build, case: 'stackctl --help', argv: [stackctl, '--help'], exit: 0 },
    { build, case: `stackctl status (fake daemon, ${STACKS} stacks)`, argv: [stackctl, '--socket', socket, 'status'], exit: 0 },
    { build, case: 'stackctl up NAME (fake daemon: queued, then done on the first poll)', argv: [stackctl, '--socket', socket, 'up', 'stack-0'], exit: 0 },
    { build, case: 'stackctl status (no socket: exit 3)', argv: [stackctl, '--socket', missing, 'status'], exit: 3 },
  ];
}

/** The CLI as it was at `ref`, built from git into a temp dir (sharing this checkout's node_modules). */
async function buildAt(ref: string): Promise<string> {
  const dir = join(tmp, 'before');
  await mkdir(dir);
  const archive = execFileSync('git', ['-C', ROOT, 'archive', ref, 'src', 'package.json', 'tsconfig.json', 'tsconfig.build.json']);
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  return join(dir, 'dist/cli/stackctl.js');
}

/** Wall time from spawn to exit, in ms; stdout and stderr are read (as a unit's journal would) and dropped. */
function timeOnce(c: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, c.argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== c.exit) reject(new Error(`${c.build} ${c.case}: exit ${code}, expected ${c.exit}: ${err}`));
      else resolve(ms);
    });
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}
const round1 = (x: number) => Number(x.toFixed(1));

try {
  const baseline: Case = { build: '-', case: 'node -e 0', argv: ['-e', '0'], exit: 0 };
  const before = opts.before === undefined ? [] : cliCases(`before (${opts.before})`, await buildAt(opts.before));
  const cases = [baseline, ...before, ...cliCases('after', join(ROOT, 'dist/cli/stackctl.js'))];
  const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let round = 0; round < WARMUP + RUNS; round++) {
    for (const c of cases) {
      const ms = await timeOnce(c);
      if (round >= WARMUP) times.get(c)?.push(ms);
    }
  }
  const stats = (c: Case) => {
    const sorted = [...(times.get(c) ?? [])].sort((a, b) => a - b);
    return { medianMs: round1(quantile(sorted, 0.5)), p90Ms: round1(quantile(sorted, 0.9)), minMs: round1(sorted[0] ?? NaN) };
  };
  const base = stats(baseline);
  const results = {
    bench: 'cli-startup',
    what: `wall time from spawn to exit of node dist/cli/stackctl.js, ${RUNS} runs per case after ${WARMUP} warm-up rounds, cases round-robin`,
    baseline: 'node -e 0 (bare node start-up), same run',
    date: new Date().toISOString(),
    node: process.version,
    baselineMs: base,
    cases: cases.filter((c) => c !== baseline).map((c) => {
      const s = stats(c);
      return { build: c.build, case: c.case, ...s, medianRatioToBaseline: Number((s.medianMs / base.medianMs).toFixed(2)) };
    }),
  };
  const out = join(ROOT, 'bench/results/cli-startup.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} finally {
  await new Promise((resolve) => daemon.close(resolve));
  await rm(tmp, { recursive: true, force: true });
}
