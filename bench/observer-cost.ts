// What one look at the containers costs (bench/observer.ts): `podman ps -a --format json` (a podman CLI process)
// against the libpod list over the API socket, each K times in a row, with CPU of the user manager (cgroup v2).
// A tool to run by hand as the lab user: node dist-bench/bench/observer-cost.js [K]
import { join } from 'node:path';
import { buildChildEnv, runProcess } from '../src/adapters/process-runner.js';
import { cpuUsec, userManagerCpuStat } from './cgroup-cpu.js';
import { listBenchContainers } from './observer.js';

const K = Number(process.argv[2] ?? 20);
const socket = join(process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${process.getuid?.()}`, 'podman/podman.sock');
const env = { ...buildChildEnv(process.env, { podmanSocket: socket }), PODMAN_IGNORE_CGROUPSV1_WARNING: '1' };
const stat = userManagerCpuStat();
const ways: [string, () => Promise<unknown>][] = [
  ['podman ps -a --format json', () => runProcess({ argv: ['podman', 'ps', '-a', '--format', 'json'], env, timeoutMs: 60_000 })],
  ['libpod list over the socket', () => listBenchContainers(socket, 'bhc')],
];
for (const [name, once] of ways) {
  await once();
  const c0 = cpuUsec(stat);
  const t0 = performance.now();
  for (let i = 0; i < K; i++) await once();
  const ms = (performance.now() - t0) / K;
  const cpuMs = (cpuUsec(stat) - c0) / 1000 / K;
  process.stdout.write(`${name}: ${ms.toFixed(1)} ms wall, ${cpuMs.toFixed(1)} ms CPU per look (${K} looks)\n`);
}
