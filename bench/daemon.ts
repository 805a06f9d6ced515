// The built daemon (dist/main.js) and CLI as the owner runs them, on the real lab (issue 9, benchmarks 2 and 3):
// - no-op resync: N stacks up and unchanged; for each, one after the other, `stackctl up NAME` and the stack
//   units' one request (a spawned curl: POST /v1/stacks/NAME/up?wait= with Accept: text/plain over the unix
//   socket), vs N raw no-op `podman compose up -d` in the same run (goal: ≤ 0.05×);
// - detection latency: `podman kill` of a converged stack's healthchecked container (a service without
//   restart policy or healthcheck counts as a one-shot, and an exited one-shot is not repaired by `up`) → that stack not `converged` in
//   /v1/stacks (polled every 5 ms), over TRIALS kills; measured from the moment `podman kill` returned (podman
//   has emitted the event by then) and from just before it was spawned.
// Writes bench/results/daemon-N.json. Run as the lab user (bench/run.sh does):  node dist-bench/bench/daemon.js N
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { loadAverage, PODMAN_SOCKET, ROOT, sh, startLabDaemon, until, writeResults } from './lab-daemon.js';

const N = Number(process.argv[2] ?? 10);
const TRIALS = Number(process.argv[3] ?? 20);
const loadStart = loadAverage();
const d = await startLabDaemon({ prefix: 'bhd', stacks: N });
const { api, names, file, states } = d;
const stackctl = (...args: string[]) => sh([process.execPath, join(ROOT, 'dist/cli/stackctl.js'), '--socket', api, ...args]);

/**
 * When podman's `died` event of each container reached a client of the event stream (performance.now()), as
 * it reaches stackd's own watcher: detection is timed from there too, which is what the goal is about.
 */
const diedAt = new Map<string, number>();
const eventsAbort = new AbortController();
const eventStream = request({
  socketPath: PODMAN_SOCKET, signal: eventsAbort.signal,
  path: `/v5.0.0/libpod/events?stream=true&filters=${encodeURIComponent(JSON.stringify({ type: ['container'], event: ['died'] }))}`,
}, (r) => {
  let buf = '';
  r.on('data', (chunk: Buffer) => {
    const at = performance.now();
    buf += chunk.toString();
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

try {
  await d.ready();

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
  // what the stack units run: one curl, the verdict line on stdout, exit 0 only on 2xx (--fail-with-body)
  const curlMs: number[] = [];
  for (const n of names) {
    const t0 = performance.now();
    const r = await sh(['curl', '-sS', '--fail-with-body', '--unix-socket', api, '-H', 'Accept: text/plain', '-X', 'POST', `http://stackd/v1/stacks/${n}/up?wait=900000`]);
    curlMs.push(performance.now() - t0);
    if (r.exitCode !== 0 || !r.stdout.startsWith(`up ${n}: skipped`)) throw new Error(`curl up ${n}: exit ${r.exitCode}: ${r.stdout}${r.stderr}`);
  }
  // the daemon's own part of each: the skipped reconcile's duration (the last is curl's requested up)
  const listed = JSON.parse((await d.get('/v1/stacks')).body) as { stacks: { lastResult?: { result: string; durationMs: number } }[] };
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
  const noopDone = { stackctlUp: stats(stackctlMs), curlWaitUp: stats(curlMs), rawComposeUp: stats(rawMs) };
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
  const curl = stats(curlMs);
  const raw = stats(rawMs);
  const results = {
    bench: 'daemon',
    what: `${N} stacks × 3 busybox services through the built daemon (dist/main.js, default config) and stackctl`,
    date: new Date().toISOString(),
    machine: { cores: availableParallelism(), loadAverage: { start: loadStart, end: loadAverage() } },
    noop: {
      what: `no-op resync: for each of ${N} unchanged stacks, one after the other, stackctl up NAME, then the units' curl POST ?wait= (Accept: text/plain), vs ${N} raw no-op podman compose up -d`,
      stackctlUp: ctl, rawComposeUp: raw, ratio: Number((ctl.totalMs / raw.totalMs).toFixed(3)),
      curlWaitUp: { ...curl, ratio: Number((curl.totalMs / raw.totalMs).toFixed(3)),
        what: 'curl -sS --fail-with-body --unix-socket API -H "Accept: text/plain" -X POST http://stackd/v1/stacks/NAME/up?wait=900000, a spawned process per stack, as the stack units run it' },
      skippedReconcile: { ...stats(skippedMs), stacks: skippedMs.length, ratioToRaw: Number((stats(skippedMs).totalMs / raw.totalMs).toFixed(3)),
        what: 'the daemon\'s part alone (lastResult.durationMs of the skipped reconciles, the curl runs\'; 1 ms resolution): a requested up of an unchanged stack' },
    },
    detection: {
      what: `${TRIALS} × podman kill of a converged stack's web container → that stack not converged in GET /v1/stacks (polled every 5 ms)`,
      trials: afterKillMs.length, stacksNotBackBeforeTheirKill: notBack,
      afterDiedEvent: { ...stats(afterEventMs), trials: afterEventMs.length, what: 'from the moment podman\'s died event reached this bench on its own event stream (polling /v1/stacks every 5 ms bounds the resolution)' },
      afterKillReturned: stats(afterKillMs), fromKillSpawned: stats(fromSpawnMs),
    },
  };
  await writeResults(`daemon-${N}.json`, results);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\nstackd log tail:\n${d.logs()}\n`);
  process.exitCode = 1;
} finally {
  eventsAbort.abort();
  await d.stop();
}
