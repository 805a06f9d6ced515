// How long do N stacks take to converge through stackd's production pipeline (supervisor, queue, preflight,
// timer GC; src/supervisor/pipeline.ts) at concurrency 1, 2 and 4, against the REAL rootless podman and
// docker-compose of the lab? Concurrency 1 is the baseline, run in the same process; the results file holds
// the ratios.
//
// Run: bash bench/run.sh [stacks] [rounds]  (as root; runs it as the lab user and copies the results file
// into bench/results/).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { access, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { ComposeRunner } from '../src/adapters/compose-runner.js';
import { PodmanClient } from '../src/adapters/podman-client.js';
import { buildChildEnv, runProcess } from '../src/adapters/process-runner.js';
import { benchConfig, upAll } from './workload.js';

const stacks = Number(process.argv[2] ?? 8);
const rounds = Number(process.argv[3] ?? 2);
const levels = [1, 2, 4];
const socket = join(process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${process.getuid?.()}`, 'podman/podman.sock');
const COMPOSE = `services:
  web:
    image: localhost/busybox:lab
    init: true
    command: ["sh", "-c", "echo ok > /tmp/i; exec httpd -f -p 80 -h /tmp"]
  worker:
    image: localhost/busybox:lab
    init: true
    command: ["sleep", "1000000"]
`;

const log = pino({ level: 'warn' });
const podman = new PodmanClient({ socketPath: socket });
const childEnv = buildChildEnv(process.env, { podmanSocket: socket });
const compose = new ComposeRunner({ command: ['podman', 'compose'], podmanSocket: socket, parentEnv: process.env, run: runProcess });
const files = {
  exists: (p: string) => access(p).then(() => true, () => false),
  readText: (p: string) => readFile(p, 'utf8').catch(() => null),
};

async function removeAll(names: string[]): Promise<void> {
  for (const name of names) {
    await runProcess({ argv: ['podman', 'compose', '-p', name, '-f', join(dir, 'compose.yml'), 'down', '-t', '0'], env: buildChildEnv(process.env, { podmanSocket: socket }), timeoutMs: 120_000 });
  }
}

const dir = await mkdtemp(join(tmpdir(), 'stackd-bench-'));
await writeFile(join(dir, 'compose.yml'), COMPOSE);
const names = Array.from({ length: stacks }, (_, i) => `bench-${i}`);

async function convergeAll(concurrency: number, round: number): Promise<number> {
  const stateFile = join(dir, `state-${concurrency}-${round}.json`);
  const config = benchConfig({ socket, dir, stateFile, concurrency, names, composeFile: () => join(dir, 'compose.yml'), retryMs: 60_000 });
  const { ms, failed } = await upAll({ config, podman, compose, files, logger: log, childEnv }, 600_000);
  if (failed.length) throw new Error(`bench run failed: ${failed.join('; ')}`);
  return ms;
}

const samples: Record<number, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const c of levels) {
    await removeAll(names);
    const ms = await convergeAll(c, r);
    (samples[c] ??= []).push(ms);
    process.stderr.write(`round ${r + 1}: concurrency ${c}: ${stacks} stacks converged in ${(ms / 1000).toFixed(1)} s\n`);
  }
}
await removeAll(names);
await rm(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const base = median(samples[1] ?? []);
const results = {
  bench: 'concurrency',
  what: `time for ${stacks} two-service stacks to converge from nothing through the production pipeline (supervisor, queue, preflight, timer GC) (real rootless podman + docker-compose), median of ${rounds}`,
  baseline: 'concurrency 1, same process',
  date: new Date().toISOString(),
  cores: (await import('node:os')).availableParallelism(),
  levels: levels.map((c) => ({ concurrency: c, medianMs: Math.round(median(samples[c] ?? [])), ratioToBaseline: Number((median(samples[c] ?? []) / base).toFixed(3)), samplesMs: (samples[c] ?? []).map(Math.round) })),
};
// results go beside the compiled bench (dist-bench/bench/results); bench/run.sh copies them into bench/results
const out = join(dirname(new URL(import.meta.url).pathname), 'results', 'concurrency.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
await podman.close?.();
