// Issue 9's fault-injection suite on the real lab: the daemon as the unprivileged lab user, real rootless
// podman, real docker-compose behind a compose wrapper that logs (and, where a fault needs it, delays or
// hangs) each call. Each test records what was done, what stackd did, and what was lost (nothing): the
// records go to the test output and to faults-*.log beside the scratch folders for whoever reads a failure.
// Every describe runs its own daemon on its own stacks, so one fault never leaks into the next.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE, Daemon, cleanup, configYaml, projectContainers, removeProject, run, scratch, waitFor, writeFiles,
} from './harness.js';

/** One cheap long-running service: no healthcheck, init so SIGTERM ends it at once. */
const ONE = `services:
  main:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
`;


interface ProcFacts {
  pid: number;
  pgid: number;
  cmdline: string;
}

/** Every process on the machine whose command line or process group matches (read from /proc). */
async function processes(match: (p: ProcFacts) => boolean): Promise<ProcFacts[]> {
  const found: ProcFacts[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      // field 5 of stat is the process group; the command name (field 2) may hold spaces, so cut after ')'
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const p = { pid: Number(entry), pgid, cmdline };
      if (match(p)) found.push(p);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** SIGKILL processes by id (only ones this file's stubs started); gone ones are fine. */
function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * A compose wrapper: logs "<epoch ms> <pid> <argv>" for each call to `log`, then runs `body` (shell, may be
 * empty) and finally the real `podman compose`. The pid is the process group too (stackd spawns detached).
 */
function composeWrapper(log: string, body = ''): string {
  return `#!/bin/sh
echo "$(date +%s%3N) $$ $*" >> ${log}
${body}
exec podman compose "$@"
`;
}

interface CallLine {
  atMs: number;
  pid: number;
  argv: string;
}

async function calls(log: string, project?: string, verb?: string): Promise<CallLine[]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => {
    const [at, pid, ...rest] = l.split(' ');
    return { atMs: Number(at), pid: Number(pid), argv: rest.join(' ') };
  }).filter((c) => (project === undefined || ` ${c.argv} `.includes(` -p ${project} `))
    && (verb === undefined || new RegExp(` ${verb}( |$)`).test(c.argv)));
}

describe('fault: `podman compose up` hangs (and forks a grandchild)', () => {
  const HANG = 'flt-hang';
  const NEXT = 'flt-next';
  // unique sleep durations: the stub's two processes are findable by command line, and by nothing else
  const marker = String(700_000 + Math.floor(Math.random() * 99_999));
  const grandchildArgv = `sleep ${marker}1`;
  const leaderArgv = `sleep ${marker}2`;
  const isStub = (p: ProcFacts) => p.cmdline === grandchildArgv || p.cmdline === leaderArgv;
  let dir: string;
  let daemon: Daemon;
  let log: string;

  beforeAll(async () => {
    for (const p of [HANG, NEXT]) await removeProject(p);
    dir = await scratch('faults-hang');
    log = join(dir, 'compose-calls.log');
    // `up` of flt-hang never returns: a grandchild in the background, then the leader sleeps "forever"
    const hang = `case " $* " in
  *" -p ${HANG} "*" up "*)
    sleep ${marker}1 &
    exec sleep ${marker}2;;
esac`;
    await writeFiles(dir, { 'compose.sh': composeWrapper(log, hang), 'hang/compose.yml': ONE, 'next/compose.yml': ONE });
    await run(['chmod', '+x', join(dir, 'compose.sh')]);
    // concurrency 1: flt-next can only run once flt-hang's `up` is out of the way (the queue moved on);
    // a long retryBase keeps a retry of flt-hang from starting while the test looks
    const yaml = configYaml(dir, [
      `  - { name: ${HANG}, compose: [${dir}/hang/compose.yml], startupTimeout: 4s }`,
      `  - { name: ${NEXT}, compose: [${dir}/next/compose.yml] }`,
    ].join('\n'), { composeCommand: join(dir, 'compose.sh') }).replace('  concurrency: 2\n  retryBase: 60s\n', '  concurrency: 1\n  retryBase: 5m\n  retryMax: 10m\n');
    expect(yaml).toContain('  concurrency: 1\n');
    await writeFile(join(dir, 'stackd.yaml'), yaml);
    daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
    await daemon.start();
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    if (dir) await writeFile(join(dir, '..', 'faults-hang-daemon.log'), daemon?.logs ?? '').catch(() => undefined);
    killPids((await processes(isStub)).map((p) => p.pid));
    for (const p of [HANG, NEXT]) await removeProject(p);
    if (dir) await cleanup(dir);
  });

  it('kills the whole process group at startupTimeout, fails the stack naming the timeout, moves the queue on, stays up', async () => {
    // what was done: the stub's `up` is running and has forked (2 processes of its group)
    await waitFor(async () => (await processes(isStub)).length === 2, 60_000, 'the hanging stub and its grandchild',
      () => daemon.logs.slice(-2000));
    const hanging = await processes(isStub);
    const [upCall] = await calls(log, HANG, 'up');
    expect(upCall, 'the stub logged its `up`').toBeDefined();
    const group = upCall?.pid ?? -1;
    expect(hanging.every((p) => p.pgid === group), JSON.stringify(hanging)).toBe(true);
    console.log(`[faults/hang] done: ${HANG}'s compose up hangs, startupTimeout 4s; its process group ${group}: ${hanging.map((p) => `${p.pid} "${p.cmdline}"`).join(', ')}`);

    // what stackd did: the stack fails naming the timeout
    const failed = await daemon.waitStack(HANG, (s) => s.lastResult !== undefined, 'a verdict', 60_000);
    expect(failed.state).toBe('failed');
    expect(failed.lastResult?.result).toBe('failed');
    expect(failed.lastResult?.reasonCode).toBe('compose-timeout');
    expect(failed.lastResult?.reason).toContain(`stack "${HANG}": compose up did not finish within 4s (startupTimeout) and was killed`);
    // ... the whole group is gone: neither the leader nor the grandchild it forked (SIGTERM, SIGKILL after 5 s)
    await waitFor(async () => (await processes((p) => isStub(p) || p.pgid === group)).length === 0, 15_000, 'the stub\'s process group to be gone');
    const left = await processes((p) => isStub(p) || p.pgid === group);
    expect(left).toEqual([]);

    // ... and the queue moved on: flt-next's compose ran only after flt-hang's was killed, and converged
    const next = await daemon.waitStack(NEXT, (s) => s.state === 'converged', 'converged', 90_000);
    expect(next.lastResult?.result).toBe('ok');
    const nextUp = await calls(log, NEXT, 'up');
    expect(nextUp).toHaveLength(1);
    expect(nextUp[0]?.atMs ?? 0).toBeGreaterThanOrEqual((upCall?.atMs ?? 0) + 4_000);
    const real = await projectContainers(NEXT);
    expect(real.map((c) => c.state)).toEqual(['running']);
    // nothing of flt-hang was created (its `up` never reached podman)
    expect(await projectContainers(HANG)).toEqual([]);

    // the daemon stays up and answers
    expect(daemon.running).toBe(true);
    const st = await daemon.ctl('status');
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(new RegExp(`${HANG}\\s+failed`));
    console.log(`[faults/hang] stackd: ${HANG} failed (${failed.lastResult?.reasonCode}: ${failed.lastResult?.reason}); ` +
      `${left.length} process(es) of the group left; ${NEXT} converged ${Math.round(((nextUp[0]?.atMs ?? 0) - (upCall?.atMs ?? 0)) / 1000)}s after the hang began; daemon up`);
  });
});
