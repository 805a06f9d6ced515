// CPU time spent by every process of the user's systemd manager (podman's service, conmon, the containers,
// their healthcheck units, compose, the bench itself): cgroup v2's cpu.stat of the `user@<uid>.service`
// subtree this process runs in. Unlike wall time it is not bent by work elsewhere on the machine, so it says
// what a way of bringing stacks up COSTS; wall time says what it took.
import { readFileSync } from 'node:fs';

/** The cgroup2 mount point (the lab mounts it at /sys/fs/cgroup/unified on hybrid hosts). */
function cgroup2Mount(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (right?.startsWith('cgroup2 ')) return left?.split(' ')[4];
  }
  return undefined;
}

/** The cpu.stat file of the user manager's subtree this process is in, or undefined outside one. */
export function userManagerCpuStat(): string | undefined {
  const mount = cgroup2Mount();
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
  const at = own?.match(/^(.*\/user@\d+\.service)(\/|$)/)?.[1];
  return mount && at ? `${mount}${at}/cpu.stat` : undefined;
}

/** Microseconds of CPU used so far by the subtree (0 when there is none to read). */
export function cpuUsec(statFile: string | undefined): number {
  if (!statFile) return 0;
  const m = readFileSync(statFile, 'utf8').match(/^usage_usec (\d+)$/m);
  return m ? Number(m[1]) : 0;
}
