// Where does a requested `up` of an unchanged, converged stack spend its time inside stackd (issue 9, no-op)?
// The production pipeline (src/supervisor/pipeline.ts) on the real adapters, with podman's event stream followed
// as main.ts follows it, N stacks of the workload brought up; then ROUNDS requested `up`s of each, one after the
// other. Every podman API and file call is timed through a wrapper around the adapter; readStackInputs (the
// files, the fingerprint and the redactor) is also timed on its own; the rest of the skipped reconcile's
// durationMs is stackd's own JS (logging, store, preflight's pure part). The request → verdict round trip minus
// durationMs is the queue and job hand-off.
// Writes bench/results/noop-profile.json. Run as the lab user:  node dist-bench/bench/noop-profile.js [N] [ROUNDS]
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ComposeRunner } from '../src/adapters/compose-runner.js';
import { PodmanClient } from '../src/adapters/podman-client.js';
import { buildChildEnv, runProcess } from '../src/adapters/process-runner.js';
import { stackFiles } from '../src/adapters/stack-files.js';
import { loadState, saveState } from '../src/adapters/state-file.js';
import { Systemctl } from '../src/adapters/systemctl.js';
import { EventWatcher } from '../src/supervisor/event-watcher.js';
import { buildPipeline } from '../src/supervisor/pipeline.js';
import { readStackInputs } from '../src/supervisor/stack-inputs.js';
import { loadAverage, PODMAN_SOCKET, writeResults } from './lab-daemon.js';
import { timed, type TimedCall } from './timed.js';
import { benchConfig, COMPOSE } from './workload.js';

const N = Number(process.argv[2] ?? 3);
const ROUNDS = Number(process.argv[3] ?? 20);
const loadStart = loadAverage();
const dir = await mkdtemp(join(homedir(), 'stackd-bench-noop-'));
const env = { ...buildChildEnv(process.env, { podmanSocket: PODMAN_SOCKET }), PODMAN_IGNORE_CGROUPSV1_WARNING: '1', PODMAN_COMPOSE_WARNING_LOGS: 'false' };
const names = Array.from({ length: N }, (_, i) => `bnp-${i}`);
const file = (n: string) => join(dir, n, 'compose.yml');
for (const n of names) {
  await mkdir(join(dir, n));
  await writeFile(file(n), COMPOSE);
}

const calls: TimedCall[] = [];

const stateFile = join(dir, 'state.json');
const config = benchConfig({ socket: PODMAN_SOCKET, dir, stateFile, concurrency: 1, names, composeFile: file });
const podman = new PodmanClient({ socketPath: PODMAN_SOCKET });
let saves = 0;
// the daemon logs at info to its stdout (the journal); here to /dev/null, so the lines are still built and written
const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));
const { supervisor, housekeeping } = buildPipeline({
  config, logger, childEnv: env,
  podman: timed(calls, 'podman', podman),
  compose: timed(calls, 'compose', new ComposeRunner({ command: ['podman', 'compose'], podmanSocket: PODMAN_SOCKET, parentEnv: process.env, env, run: runProcess })),
  files: timed(calls, 'files', stackFiles),
  systemctl: timed(calls, 'systemctl', new Systemctl({ parentEnv: process.env })),
  stateStore: { load: (projectOf) => loadState(stateFile, projectOf), save: (st) => { saves++; return saveState(stateFile, st); } },
  probeComposeProvider: async () => ({ ok: true, provider: 'docker-compose', version: '', detail: 'assumed by the bench' }),
});
const events = new EventWatcher({
  source: podman, logger, refreshProject: (p) => supervisor.refreshProject(p), isNews: (ev, p) => supervisor.eventIsNews(ev, p),
  onConnection: (up) => supervisor.eventStream(up),
});

const r1 = (x: number) => Number(x.toFixed(2));
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: r1(s[Math.floor(s.length / 2)] ?? NaN), min: r1(s[0] ?? NaN), max: r1(s[s.length - 1] ?? NaN) };
};

try {
  await supervisor.load();
  await supervisor.start();
  events.start();
  // every stack up (the start's reconciles), then converged and quiet: health decided, no event in flight
  for (const n of names) {
    const j = await supervisor.request(n, 'up');
    const done = await supervisor.waitJob(j.id, 300_000);
    if (done?.status !== 'done') throw new Error(`up ${n}: ${JSON.stringify(done)}`);
  }
  const deadline = Date.now() + 120_000;
  while (!names.every((n) => supervisor.getStack(n)?.state === 'converged')) {
    if (Date.now() > deadline) throw new Error(`not converged: ${JSON.stringify(names.map((n) => supervisor.getStack(n)?.state))}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 1_000));

  const runs: { durationMs: number; roundTripMs: number; result: string; byCall: Record<string, number>; calls: number }[] = [];
  saves = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of names) {
      calls.length = 0;
      const t0 = performance.now();
      const job = await supervisor.request(n, 'up');
      const done = await supervisor.waitJob(job.id, 60_000);
      const roundTripMs = performance.now() - t0;
      const byCall: Record<string, number> = {};
      for (const c of calls) byCall[`${c.port}.${c.method}`] = (byCall[`${c.port}.${c.method}`] ?? 0) + c.ms;
      runs.push({ durationMs: done?.result?.durationMs ?? NaN, roundTripMs, result: done?.result?.result ?? String(done?.status), byCall, calls: calls.length });
    }
  }
  // readStackInputs on its own, as the reconcile calls it (files, fingerprint, redactor)
  const inputsMs: number[] = [];
  for (let i = 0; i < ROUNDS * N; i++) {
    const stack = config.stacks[i % N];
    if (!stack) break;
    const t0 = performance.now();
    await readStackInputs(stack, stackFiles, env);
    inputsMs.push(performance.now() - t0);
  }

  const kinds = [...new Set(runs.flatMap((r) => Object.keys(r.byCall)))];
  const perCall = Object.fromEntries(kinds.map((k) => [k, { ...stats(runs.map((r) => r.byCall[k] ?? 0)), perRun: r1(runs.reduce((a, r) => a + (k in r.byCall ? 1 : 0), 0) / runs.length) }]));
  const results = {
    bench: 'noop-profile',
    what: `${ROUNDS} requested up of each of ${N} unchanged, converged stacks (3 busybox services), one after the other, through the production pipeline in process, podman's events followed`,
    date: new Date().toISOString(),
    machine: { loadAverage: { start: loadStart, end: loadAverage() } },
    results: [...new Set(runs.map((r) => r.result))],
    stateFileSaves: saves,
    skippedReconcileMs: stats(runs.map((r) => r.durationMs)),
    requestToVerdictMs: stats(runs.map((r) => r.roundTripMs)),
    queueAndJobHandOffMs: stats(runs.map((r) => r.roundTripMs - r.durationMs)),
    adapterCallsPerRun: stats(runs.map((r) => r.calls)),
    adapterCallMs: perCall,
    readStackInputsAloneMs: stats(inputsMs),
  };
  await writeResults('noop-profile.json', results);
} finally {
  await events.stop();
  await supervisor.stop();
  await housekeeping.stop();
  for (const n of names) await runProcess({ argv: ['podman', 'compose', '-p', n, '-f', file(n), 'down', '-t', '0'], env, timeoutMs: 120_000 });
  await podman.close?.();
  await rm(dir, { recursive: true, force: true });
}
