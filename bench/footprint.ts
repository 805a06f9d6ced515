// Idle footprint on the real lab (issue 9, benchmark 5): the built daemon supervising N stacks of the bench
// workload, all converged, left alone for a window (default 5 minutes); every second /proc/<pid>/status VmRSS
// and /proc/<pid>/stat utime+stime of the daemon's own process (not its children: compose and systemctl runs,
// of which an idle daemon has none) are read. RSS min/median/max and CPU as % of one core over the window
// (goal ≤ 70 MB, ≤ 0.5 %). Baseline in the same window, sampled the same way: a bare
// `node -e "setInterval(()=>{},1000)"`. Podman API calls the daemon makes in the window are counted too
// (bench/lab-daemon.ts).
// The daemon runs with the NODE_OPTIONS of systemd/stackd.service (bench/lab-daemon.ts), the bare node without.
// Writes bench/results/footprint.json. Run as the lab user (bench/run.sh does):
//   node dist-bench/bench/footprint.js [stacks=20] [seconds=300]     (or FOOTPRINT_SECONDS=300)
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { loadAverage, sh, startLabDaemon, unitNodeOptions, writeResults } from './lab-daemon.js';

const N = Number(process.argv[2] ?? 20);
const SECONDS = Number(process.argv[3] ?? process.env['FOOTPRINT_SECONDS'] ?? 300);
/** after every stack is converged, before the window: the start-up's own garbage and timers settle */
const SETTLE_MS = 15_000;
const CLK_TCK = Number((await sh(['getconf', 'CLK_TCK'])).stdout.trim()) || 100;

interface Sample { rssKiB: number; cpuTicks: number }
async function sample(pid: number): Promise<Sample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name (which may hold spaces) in parentheses: state is field 3, utime 14, stime 15
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssKiB: Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1]), cpuTicks: Number(f[11]) + Number(f[12]) };
}

function summary(samples: Sample[], seconds: number) {
  const rss = samples.map((s) => s.rssKiB).sort((a, b) => a - b);
  const mb = (kib: number) => Number((kib * 1024 / 1e6).toFixed(1));
  const ticks = (samples.at(-1)?.cpuTicks ?? 0) - (samples[0]?.cpuTicks ?? 0);
  return {
    samples: samples.length,
    rssMB: { min: mb(rss[0] ?? NaN), median: mb(rss[Math.floor(rss.length / 2)] ?? NaN), max: mb(rss.at(-1) ?? NaN) },
    cpuSeconds: ticks / CLK_TCK,
    cpuPercentOfOneCore: Number((ticks / CLK_TCK / seconds * 100).toFixed(3)),
  };
}

const loadStart = loadAverage();
const d = await startLabDaemon({ prefix: 'bhf', stacks: N, countPodmanCalls: true });
let bare: ChildProcess | undefined;
try {
  await d.ready();
  bare = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const pids = { stackd: d.process.pid ?? 0, bare: bare.pid ?? 0 };
  const samples: Record<keyof typeof pids, Sample[]> = { stackd: [], bare: [] };
  const t0 = performance.now();
  // one sample at the start and one per second after it: SECONDS intervals
  for (let i = 0; i <= SECONDS; i++) {
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + i * 1000 - performance.now())));
    for (const k of ['stackd', 'bare'] as const) samples[k].push(await sample(pids[k]));
  }
  const seconds = (performance.now() - t0) / 1000;
  const podman = d.podmanCallsIn(t0, performance.now());
  await writeResults('footprint.json', {
    bench: 'footprint',
    what: `the built daemon (dist/main.js) idle with ${N} stacks × 3 busybox services, all converged, ${Math.round(seconds)} s after a ${SETTLE_MS / 1000} s settle; ` +
      `/proc/<pid>/status VmRSS and /proc/<pid>/stat utime+stime every second (MB = 10^6 bytes; CPU as % of one core over the window)`,
    nodeOptions: await unitNodeOptions(),
    baseline: 'node -e "setInterval(()=>{},1000)", same window, sampled the same way',
    date: new Date().toISOString(),
    machine: { cores: availableParallelism(), clockTicksPerSec: CLK_TCK, node: process.version, loadAverage: { start: loadStart, end: loadAverage() } },
    windowSeconds: Number(seconds.toFixed(1)),
    stackd: { ...summary(samples.stackd, seconds), podman },
    bareNode: summary(samples.bare, seconds),
  });
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\nstackd log tail:\n${d.logs()}\n`);
  process.exitCode = 1;
} finally {
  bare?.kill('SIGTERM');
  await d.stop();
}
