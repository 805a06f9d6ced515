// Issue 9's fault-injection suite on the real lab: the daemon as the unprivileged lab user, real rootless
// podman, real docker-compose behind a compose wrapper that logs (and, where a fault needs it, delays or
// hangs) each call. Each test records what was done, what stackd did, and what was lost (nothing): the
// records go to the test output and to faults-*.log beside the scratch folders for whoever reads a failure.
// Every describe runs its own daemon on its own stacks, so one fault never leaks into the next.
import { readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE, Daemon, ROOT, apiStatus, cleanup, configYaml, projectContainers, readyz, removeProject, run, scratch, systemctlUser, waitFor,
  writeFiles, type StackStatusJson,
} from './harness.js';

/** One cheap long-running service: no healthcheck, init so SIGTERM ends it at once. */
const ONE = `services:
  main:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
`;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    ].join('\n'), { composeCommand: join(dir, 'compose.sh') }).replace('  concurrency: auto\n  retryBase: 60s\n', '  concurrency: 1\n  retryBase: 5m\n  retryMax: 10m\n');
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

/** Two cheap services: "exactly one container per service" means something. */
const TWO = `services:
  main:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
  side:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
`;

/** Every container whose name or compose label says it belongs to project (labelled or not). */
async function everyContainerOf(project: string): Promise<{ id: string; name: string; state: string; service: string }[]> {
  const byLabel = await projectContainers(project);
  const out = await run(['podman', 'ps', '-a', '--filter', `name=^${project}[-_]`, '--format', 'json'], { env: { PODMAN_IGNORE_CGROUPSV1_WARNING: '1' } });
  const byName = JSON.parse(out.stdout || '[]') as { Id: string; Names: string[]; State: string; Labels: Record<string, string> | null }[];
  const all = new Map<string, { id: string; name: string; state: string; service: string }>();
  for (const c of byLabel) all.set(c.id, { id: c.id, name: c.name, state: c.state, service: c.labels['com.docker.compose.service'] ?? '' });
  for (const c of byName) all.set(c.Id, { id: c.Id, name: c.Names[0] ?? '', state: c.State, service: c.Labels?.['com.docker.compose.service'] ?? '' });
  return [...all.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Ids of a project's containers, asserting exactly one running container per service of TWO and nothing else. */
async function expectOnePerService(project: string): Promise<string[]> {
  const all = await everyContainerOf(project);
  expect(all.map((c) => `${c.service}:${c.state}`), JSON.stringify(all)).toEqual(['main:running', 'side:running']);
  return all.map((c) => c.id);
}

async function projectNetworkNames(project: string): Promise<string[]> {
  const r = await run(['podman', 'network', 'ls', '--format', '{{.Name}}', '--filter', `label=com.docker.compose.project=${project}`], { env: { PODMAN_IGNORE_CGROUPSV1_WARNING: '1' } });
  return r.stdout.split('\n').filter(Boolean);
}

describe('fault: stackd SIGKILLed in the middle of a reconcile `up` and of a `down`', () => {
  const UP = 'flt-kup';
  const DOWN = 'flt-kdown';
  const KEEP = 'flt-kkeep';
  const STACKS = [UP, DOWN, KEEP];
  const SLOW_S = 4;
  let dir: string;
  let daemon: Daemon;
  let log: string;
  const logs: string[] = [];

  /** The wrapper calls still running (their process is alive): the killed stackd's orphans. */
  const alive = async (lines: CallLine[]) => (await processes((p) => lines.some((l) => l.pid === p.pid))).map((p) => p.pid);

  /** Restart stackd and wait until every compose call the killed one left behind has ended. */
  async function restartAfterKill(before: CallLine[]): Promise<number[]> {
    const orphans = await alive(before);
    logs.push(daemon.logs);
    await daemon.start();
    await waitFor(async () => (await alive(before)).length === 0, 120_000, 'the killed stackd\'s compose calls to end');
    return orphans;
  }

  beforeAll(async () => {
    for (const p of STACKS) await removeProject(p);
    dir = await scratch('faults-kill');
    log = join(dir, 'compose-calls.log');
    // every `up` and `down` waits SLOW_S seconds before the real compose runs: the window the kill lands in
    const slow = `case " $* " in *" up "*|*" down "*) sleep ${SLOW_S};; esac`;
    const files: Record<string, string> = { 'compose.sh': composeWrapper(log, slow) };
    for (const s of STACKS) files[`${s}/compose.yml`] = TWO;
    await writeFiles(dir, files);
    await run(['chmod', '+x', join(dir, 'compose.sh')]);
    // concurrency 3 (all at once, so the kill finds every `up` in flight); quick retries, so the
    // collisions of the restarted stackd with the killed one's leftover compose runs resolve in seconds
    const yaml = configYaml(dir, STACKS.map((s) => `  - { name: ${s}, compose: [${dir}/${s}/compose.yml] }`).join('\n'),
      { composeCommand: join(dir, 'compose.sh') }).replace('  concurrency: auto\n  retryBase: 60s\n', '  concurrency: 3\n  retryBase: 1s\n  retryMax: 4s\n');
    expect(yaml).toContain('  retryBase: 1s\n');
    await writeFile(join(dir, 'stackd.yaml'), yaml);
    daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    if (daemon) logs.push(daemon.logs);
    if (dir) {
      await writeFile(join(dir, '..', 'faults-kill-daemon.log'), logs.join('\n--- restart ---\n')).catch(() => undefined);
      await writeFile(join(dir, '..', 'faults-kill-compose-calls.log'), await readFile(log, 'utf8').catch(() => '')).catch(() => undefined);
      killPids(await alive(await calls(log)));
    }
    for (const p of STACKS) await removeProject(p);
    if (dir) await cleanup(dir);
  });

  it('mid-`up` (the first start): restarted, every stack converges with one container per service and nothing orphaned', async () => {
    await daemon.start();
    // what was done: SIGKILL as soon as flt-kup's wrapper has logged its `up` (it sleeps, then runs compose)
    await waitFor(async () => (await calls(log, UP, 'up')).length > 0, 60_000, `${UP}'s compose up to start`, () => daemon.logs.slice(-2000));
    await daemon.kill();
    const before = await calls(log);
    const inFlight = before.filter((c) => / up( |$)/.test(c.argv));
    expect(inFlight.length).toBeGreaterThanOrEqual(1);
    const orphans = await restartAfterKill(before);
    // the kill landed mid-step: the killed stackd's wrapper was still running when stackd came back
    expect(orphans.length, 'compose calls of the killed stackd still running at the restart').toBeGreaterThanOrEqual(1);
    console.log(`[faults/kill-up] done: SIGKILL while ${inFlight.length} compose up(s) were in flight (${inFlight.map((c) => c.argv.split(' ').slice(0, 2).join(' ')).join('; ')}); ` +
      `${orphans.length} still running at the restart`);

    // what stackd did: every stack converges (desired running: no state was saved yet, running is the default)
    for (const s of STACKS) await daemon.waitStack(s, (x) => x.state === 'converged' && x.phase === 'idle', 'converged after the restart', 120_000);
    // what was lost: nothing, and nothing doubled: one container per service by compose labels, none unlabelled
    const results: string[] = [];
    for (const s of STACKS) {
      const ids = await expectOnePerService(s);
      const st = await daemon.stack(s);
      expect(st.containers.map((c) => c.id).sort()).toEqual([...ids].sort());
      results.push(`${s}: ${ids.length} containers, ${(await calls(log, s, 'up')).length} compose up(s) in all`);
    }
    expect(daemon.running).toBe(true);
    console.log(`[faults/kill-up] stackd after the restart: all converged; ${results.join('; ')}`);
  });

  it('mid-`down`: restarted, the stack is removed (its persisted level), the others keep their very containers', async () => {
    for (const s of STACKS) await daemon.waitStack(s, (x) => x.state === 'converged' && x.phase === 'idle', 'converged');
    const upIds = await expectOnePerService(UP);
    const keepIds = await expectOnePerService(KEEP);
    const downBefore = await expectOnePerService(DOWN);
    expect(await projectNetworkNames(DOWN)).toEqual([`${DOWN}_default`]);
    const downsBefore = (await calls(log, DOWN, 'down')).length;

    // what was done: `stackctl down` (its job follows the daemon), SIGKILL once the wrapper logged the `down`
    const pending = daemon.ctl('down', DOWN);
    await waitFor(async () => (await calls(log, DOWN, 'down')).length > downsBefore, 60_000, `${DOWN}'s compose down to start`, () => daemon.logs.slice(-2000));
    await daemon.kill();
    const ctl = await pending;
    const before = await calls(log);
    // the level was saved before the run started: on disk, flt-kdown wants `removed`
    const saved = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { stacks: Record<string, { desired: string }> };
    expect(saved.stacks[DOWN]?.desired).toBe('removed');
    // killed before compose ran: the containers are all still there at the kill
    expect((await everyContainerOf(DOWN)).map((c) => c.id).sort()).toEqual([...downBefore].sort());
    const orphans = await restartAfterKill(before);
    expect(orphans.length).toBeGreaterThanOrEqual(1);
    console.log(`[faults/kill-down] done: SIGKILL while ${DOWN}'s compose down was in flight (stackctl down exited ${ctl.code}: ${ctl.stderr.trim().split('\n').at(-1) ?? ''}); ` +
      `state.json said desired=removed; ${orphans.length} compose call(s) of the killed stackd still running at the restart`);

    // what stackd did: flt-kdown removed (no container, no network), the others untouched
    const gone = await daemon.waitStack(DOWN, (x) => x.state === 'removed' && x.phase === 'idle', 'removed after the restart', 120_000);
    expect(gone.desired).toBe('removed');
    expect(gone.containers).toEqual([]);
    expect(await everyContainerOf(DOWN)).toEqual([]);
    await waitFor(async () => (await projectNetworkNames(DOWN)).length === 0, 30_000, `${DOWN}'s network to be gone`);
    for (const s of [UP, KEEP]) await daemon.waitStack(s, (x) => x.state === 'converged' && x.phase === 'idle', 'converged after the restart');
    expect(await expectOnePerService(UP)).toEqual(upIds);
    expect(await expectOnePerService(KEEP)).toEqual(keepIds);
    // and it stays removed: nothing brings it back after the restart's reconciles settle
    await sleep(3_000);
    expect(await everyContainerOf(DOWN)).toEqual([]);
    expect(daemon.running).toBe(true);
    console.log(`[faults/kill-down] stackd after the restart: ${DOWN} removed (0 containers, 0 networks); ${UP} and ${KEEP} kept the same ${upIds.length + keepIds.length} containers`);
  });
});

/** VmRSS of a process in kB, from /proc/<pid>/status. */
async function rssKb(pid: number): Promise<number> {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/** The job table's limit as the daemon under test was built with it (dist/supervisor/jobs.js). */
async function keepFinished(): Promise<number> {
  const m = /export const KEEP_FINISHED = (\d+);/.exec(await readFile(join(ROOT, 'dist/supervisor/jobs.js'), 'utf8'));
  if (!m) throw new Error('KEEP_FINISHED not found in dist/supervisor/jobs.js');
  return Number(m[1]);
}

describe('fault: a trigger storm (1,000 API requests across 20 stacks within seconds)', () => {
  const N = 20;
  const REQUESTS = 1_000;
  const STACKS = Array.from({ length: N }, (_, i) => `flt-s${String(i + 1).padStart(2, '0')}`);
  let dir: string;
  let daemon: Daemon;
  let log: string;

  beforeAll(async () => {
    for (const p of STACKS) await removeProject(p);
    dir = await scratch('faults-storm');
    log = join(dir, 'compose-calls.log');
    const files: Record<string, string> = { 'compose.sh': composeWrapper(log) };
    for (const s of STACKS) files[`${s}/compose.yml`] = ONE;
    await writeFiles(dir, files);
    await run(['chmod', '+x', join(dir, 'compose.sh')]);
    await writeFile(join(dir, 'stackd.yaml'),
      configYaml(dir, STACKS.map((s) => `  - { name: ${s}, compose: [${dir}/${s}/compose.yml] }`).join('\n'), { composeCommand: join(dir, 'compose.sh') }));
    daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
    await daemon.start();
    for (const s of STACKS) await daemon.waitStack(s, (x) => x.state === 'converged' && x.phase === 'idle', 'converged at start', 240_000);
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    if (dir) {
      await writeFile(join(dir, '..', 'faults-storm-daemon.log'), daemon?.logs ?? '').catch(() => undefined);
      await writeFile(join(dir, '..', 'faults-storm-compose-calls.log'), await readFile(log, 'utf8').catch(() => '')).catch(() => undefined);
    }
    for (const p of STACKS) await removeProject(p);
    if (dir) await cleanup(dir);
  });

  it('every request answered, at most 2 compose ups per stack, every stack back, the job table bounded; RSS reported', async () => {
    // make each stack need exactly one `up`: its container removed behind stackd's back (repair: none, so
    // stackd only notes it), then the storm asks for `up` 50 times per stack
    for (const s of STACKS) {
      const ids = (await projectContainers(s)).map((c) => c.id);
      expect(ids).toHaveLength(1);
      expect((await run(['podman', 'rm', '-f', '-t', '0', ...ids], { env: { PODMAN_IGNORE_CGROUPSV1_WARNING: '1' } })).code).toBe(0);
    }
    for (const s of STACKS) await daemon.waitStack(s, (x) => x.containers.length === 0, 'its container seen gone', 30_000);
    const upsBefore = new Map<string, number>();
    for (const s of STACKS) upsBefore.set(s, (await calls(log, s, 'up')).length);
    const pid = daemon.pid;
    if (pid === undefined) throw new Error('stackd is not running');
    const rssBefore = await rssKb(pid);
    const logOffset = daemon.logs.length;

    // what was done: 1,000 POST /v1/stacks/<name>/up, all at once over a pool of 32 unix-socket connections
    const pool = new Pool('http://stackd', { socketPath: daemon.socket, connections: 32 });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: REQUESTS }, async (_, i) => {
      const stack = STACKS[i % N] as string;
      try {
        const r = await pool.request({ path: `/v1/stacks/${stack}/up`, method: 'POST', headersTimeout: 60_000, bodyTimeout: 60_000 });
        const body = await r.body.json() as { job?: { id: string } };
        return { stack, status: r.statusCode, job: body.job?.id ?? '', ms: Date.now() - started };
      } catch (err) {
        return { stack, status: `error ${(err as { code?: string }).code ?? String(err)}`, job: '', ms: Date.now() - started };
      }
    }));
    const burstMs = Date.now() - started;
    const byStatus = new Map<string, number>();
    for (const a of answers) byStatus.set(String(a.status), (byStatus.get(String(a.status)) ?? 0) + 1);
    console.log(`[faults/storm] done: ${REQUESTS} POST up across ${N} stacks; all answered within ${burstMs} ms; status codes: ${JSON.stringify(Object.fromEntries(byStatus))}`);
    // every request answered, none refused or hung
    expect(Object.fromEntries(byStatus)).toEqual({ 202: REQUESTS });

    // every job the storm made finishes (followed through the jobs API, bounded long-polls)
    const jobIds = [...new Set(answers.map((a) => a.job))];
    const finished = new Map<string, string>();
    await waitFor(async () => {
      for (const id of jobIds) {
        if (finished.has(id)) continue;
        const r = await pool.request({ path: `/v1/jobs/${id}?wait=2000`, method: 'GET', headersTimeout: 30_000 });
        const body = await r.body.json() as { job?: { status: string } };
        expect(r.statusCode).toBe(200);
        if (body.job?.status === 'done' || body.job?.status === 'failed') finished.set(id, body.job.status);
      }
      return finished.size === jobIds.length;
    }, 240_000, 'every job of the storm to finish', () => `${finished.size}/${jobIds.length} finished`);
    expect([...finished.values()].every((st) => st === 'done'), JSON.stringify([...finished])).toBe(true);

    // what stackd did: per stack, 1 or 2 compose ups for the whole burst; every stack back with one container
    const upsPerStack: Record<string, number> = {};
    for (const s of STACKS) upsPerStack[s] = (await calls(log, s, 'up')).length - (upsBefore.get(s) ?? 0);
    const reconcilesPerStack = STACKS.map((s) => daemon.logs.slice(logOffset).split('\n').filter((l) => l.includes(`"stack":"${s}"`) && (l.includes('"msg":"reconciled"') || l.includes('"msg":"reconcile failed"'))).length);
    for (const s of STACKS) {
      expect(upsPerStack[s], s).toBeGreaterThanOrEqual(1);
      expect(upsPerStack[s], s).toBeLessThanOrEqual(2);
      const st = await daemon.waitStack(s, (x) => x.state === 'converged' && x.phase === 'idle', 'converged after the storm', 60_000);
      expect(st.containers).toHaveLength(1);
      expect((await projectContainers(s)).map((c) => c.state)).toEqual(['running']);
    }

    // the job table stays bounded: stackd_jobs (the table's size) is at most KEEP_FINISHED plus what is open,
    // and here exactly the jobs the storm made (requests that would only repeat a queued job joined it)
    const limit = await keepFinished();
    const metrics = await (await pool.request({ path: '/metrics', method: 'GET' })).body.text();
    const m = /^stackd_jobs (\d+)$/m.exec(metrics);
    expect(m, 'stackd_jobs in /metrics').not.toBeNull();
    const tableSize = Number(m?.[1]);
    expect(tableSize).toBeLessThanOrEqual(limit);
    expect(tableSize).toBe(jobIds.length);
    expect(jobIds.length).toBeLessThan(REQUESTS);
    const rssAfter = await rssKb(pid);
    await pool.close();
    expect(daemon.running).toBe(true);
    console.log(`[faults/storm] stackd: ${jobIds.length} distinct jobs for ${REQUESTS} requests (job table ${tableSize}, limit ${limit} finished); ` +
      `compose ups per stack ${JSON.stringify(Object.values(upsPerStack).reduce<Record<number, number>>((acc, n) => ({ ...acc, [n]: (acc[n] ?? 0) + 1 }), {}))} (ups: stacks); ` +
      `reconcile verdicts logged per stack min ${Math.min(...reconcilesPerStack)} max ${Math.max(...reconcilesPerStack)}; ` +
      `RSS before ${Math.round(rssBefore / 1024)} MB, after ${Math.round(rssAfter / 1024)} MB (reported, not asserted)`);
  });
});

describe('fault: the config is replaced while a reconcile of a stack it removes is running', () => {
  const GONE = 'flt-gone';
  const STAY = 'flt-stay';
  let dir: string;
  let daemon: Daemon;
  let log: string;
  let cfgPath: string;

  const yamlFor = (names: string[], extra = '') =>
    configYaml(dir, names.map((s) => `  - { name: ${s}, compose: [${dir}/${s}/compose.yml] }`).join('\n'), { composeCommand: join(dir, 'compose.sh'), extra });

  beforeAll(async () => {
    for (const p of [GONE, STAY]) await removeProject(p);
    dir = await scratch('faults-reload');
    log = join(dir, 'compose-calls.log');
    cfgPath = join(dir, 'stackd.yaml');
    // flt-gone's `up` waits 10 s before compose runs; every call logs its end too ("END <exit code>")
    const wrapper = `#!/bin/sh
echo "$(date +%s%3N) $$ $*" >> ${log}
case " $* " in *" -p ${GONE} "*" up "*) sleep 10;; esac
podman compose "$@"
rc=$?
echo "$(date +%s%3N) $$ END $rc $*" >> ${log}
exit $rc
`;
    await writeFiles(dir, { 'compose.sh': wrapper, [`${GONE}/compose.yml`]: TWO, [`${STAY}/compose.yml`]: TWO });
    await run(['chmod', '+x', join(dir, 'compose.sh')]);
    await writeFile(cfgPath, yamlFor([GONE, STAY]));
    daemon = new Daemon(dir, cfgPath);
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    if (dir) {
      await writeFile(join(dir, '..', 'faults-reload-daemon.log'), daemon?.logs ?? '').catch(() => undefined);
      await writeFile(join(dir, '..', 'faults-reload-compose-calls.log'), await readFile(log, 'utf8').catch(() => '')).catch(() => undefined);
      killPids((await processes((p) => p.cmdline.includes(join(dir, 'compose.sh')))).map((p) => p.pid));
    }
    for (const p of [GONE, STAY]) await removeProject(p);
    if (dir) await cleanup(dir);
  });

  it('the running reconcile finishes, then removedStacks (down) applies; no crash, the daemon keeps serving', async () => {
    await daemon.start();
    await daemon.waitStack(STAY, (x) => x.state === 'converged' && x.phase === 'idle', 'converged', 120_000);
    const stayBefore = await expectOnePerService(STAY);
    await waitFor(async () => (await calls(log, GONE, 'up')).length > 0, 60_000, `${GONE}'s compose up to start`, () => daemon.logs.slice(-2000));
    const upStart = (await calls(log, GONE, 'up'))[0] as CallLine;

    // what was done: the config replaced (a new file renamed over it, as a Nix switch does) without flt-gone,
    // removedStacks: down, while flt-gone's `up` is still in its wrapper
    const reloads = () => daemon.logs.split('\n').filter((l) => l.includes('"msg":"config reloaded"')).length;
    const before = reloads();
    await writeFile(`${cfgPath}.new`, yamlFor([STAY], 'removedStacks: down'));
    await rename(`${cfgPath}.new`, cfgPath);
    await waitFor(async () => reloads() > before, 30_000, 'stackd to reload the config', () => daemon.logs.slice(-2000));
    const reloadedAt = Date.now();
    expect(reloadedAt).toBeLessThan(upStart.atMs + 10_000);
    console.log(`[faults/reload] done: config replaced ${reloadedAt - upStart.atMs} ms after ${GONE}'s compose up began (it takes 10 s+), removedStacks: down`);

    // what stackd did: the `up` ran to its end (exit 0, not cut off), its reconcile reported ok, and only then
    // the stack was retired (removedStacks: down goes through the podman API: containers and network removed)
    const lines = () => daemon.logs.split('\n').filter((l) => l.includes(`"stack":"${GONE}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(async () => lines().some((l) => l['intent'] === 'retire-down'), 90_000, `${GONE} to be retired`, () => daemon.logs.slice(-3000));
    const all = await calls(log, GONE);
    const upEnd = all.find((c) => c.argv.startsWith('END ') && / up( |$)/.test(c.argv));
    expect(upEnd?.argv, all.map((c) => c.argv).join('\n')).toMatch(/^END 0 /);
    const upVerdict = lines().find((l) => l['intent'] === 'running' && l['msg'] === 'reconciled');
    const retiring = lines().find((l) => l['msg'] === 'retiring a stack that left the config');
    const retired = lines().find((l) => l['intent'] === 'retire-down');
    expect(upVerdict, daemon.logs.slice(-3000)).toMatchObject({ result: 'ok' });
    expect(retired).toMatchObject({ result: 'ok', reasonCode: 'not-configured' });
    expect(Number(retiring?.['time'])).toBeGreaterThanOrEqual(Number(upVerdict?.['time']));
    expect(Number(retiring?.['time'])).toBeGreaterThanOrEqual(upEnd?.atMs ?? Infinity);
    // nothing of flt-gone is left (containers, network); it leaves status once retired
    await waitFor(async () => (await everyContainerOf(GONE)).length === 0 && (await projectNetworkNames(GONE)).length === 0, 30_000, `${GONE} gone from podman`);
    await waitFor(async () => !(await daemon.status()).some((s) => s.name === GONE), 30_000, `${GONE} to leave status`);
    console.log(`[faults/reload] stackd: ${GONE}'s compose up ended with exit ${upEnd?.argv.split(' ')[1]} at +${(upEnd?.atMs ?? 0) - upStart.atMs} ms ` +
      `(reconcile ${String(upVerdict?.['result'])} in ${String(upVerdict?.['durationMs'])} ms); retired (down) at +${Number(retiring?.['time']) - upStart.atMs} ms: ` +
      `${String(retired?.['result'])} in ${String(retired?.['durationMs'])} ms; 0 containers and 0 networks of ${GONE} left; it left status`);

    // no crash, the daemon keeps serving, the stack that stayed was not touched and still takes requests
    expect(daemon.running).toBe(true);
    expect(daemon.logs).not.toMatch(/"level":(50|60)/);
    expect(await expectOnePerService(STAY)).toEqual(stayBefore);
    const up = await daemon.ctl('up', STAY);
    expect(up.code, up.stderr).toBe(0);
    expect(await expectOnePerService(STAY)).toEqual(stayBefore);
  });
});

/** The daemon's pino lines (JSON), in order; anything else it printed is skipped. */
function logLines(logs: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by the read: not a record
    }
  }
  return out;
}

interface RetryFacts {
  /** the n-th failure in a row (1-based): the retry's attempt */
  attempt: number;
  failedAtMs: number;
  /** retryAt minus the moment the queue set it */
  delayMs: number;
  retryAtMs: number;
  nominalMs: number;
  /** when the retry's reconcile started (undefined: something else ran it first, or not yet) */
  firedAtMs?: number;
}

/**
 * What the queue did after each failure of a stack, from the debug log: the "phase: backoff" line carries
 * retryAt, the next "reconcile" line with source "retry" is the retry firing.
 */
function retriesOf(lines: Record<string, unknown>[], stack: string, baseMs: number, maxMs: number): RetryFacts[] {
  const out: RetryFacts[] = [];
  let inRow = 0;
  let failedAtMs = 0;
  for (const l of lines) {
    if (l['stack'] !== stack) continue;
    if (l['msg'] === 'reconcile failed') {
      inRow += 1;
      failedAtMs = Number(l['time']);
    } else if (l['msg'] === 'reconciled') {
      inRow = 0;
    } else if (l['msg'] === 'phase' && l['phase'] === 'backoff' && typeof l['retryAt'] === 'string') {
      out.push({
        attempt: inRow, failedAtMs, delayMs: Date.parse(l['retryAt']) - Number(l['time']), retryAtMs: Date.parse(l['retryAt']),
        nominalMs: Math.min(maxMs, baseMs * 2 ** (inRow - 1)),
      });
    } else if (l['msg'] === 'reconcile' && Array.isArray(l['sources']) && l['sources'].includes('retry')) {
      const last = out.at(-1);
      if (last && last.firedAtMs === undefined) last.firedAtMs = Number(l['time']);
    }
  }
  return out;
}

describe('fault: the podman API down (podman.socket and podman.service stopped) at start and during a reconcile', () => {
  const A = 'flt-pdown-a';
  const B = 'flt-pdown-b';
  const MID = 'flt-pdown-mid';
  const STACKS = [A, B, MID];
  // short first retries so the suite finishes fast (jitter draws each delay from [nominal/2, nominal)), growing
  // past what podman's return takes to be seen, so a backoff cut short by podman answering again shows
  const BASE_MS = 2_000;
  const MAX_MS = 60_000;
  // MID's every `up` sleeps this long in the wrapper before the real compose runs: the window podman is stopped in
  const SLOW_S = 8;
  let dir: string;
  let log: string;
  const daemons: Daemon[] = [];

  async function podmanDown(): Promise<void> {
    const r = await systemctlUser('stop', 'podman.socket', 'podman.service');
    expect(r.code, r.stderr).toBe(0);
    expect((await systemctlUser('is-active', 'podman.socket')).stdout.trim()).toBe('inactive');
  }

  async function podmanBack(): Promise<void> {
    const r = await systemctlUser('start', 'podman.socket');
    expect(r.code, r.stderr).toBe(0);
  }

  /** A daemon on its own config, socket and state in dir/<name>. */
  async function daemonFor(name: string, stacks: string[]): Promise<Daemon> {
    const home = join(dir, name);
    const yaml = configYaml(home, stacks.length ? stacks.map((s) => `  - { name: ${s}, compose: [${dir}/${s}/compose.yml] }`).join('\n') : '  []',
      { composeCommand: join(dir, 'compose.sh') }).replace('  retryBase: 60s\n', `  retryBase: ${BASE_MS / 1000}s\n  retryMax: ${MAX_MS / 1000}s\n`);
    expect(yaml).toContain(`  retryBase: ${BASE_MS / 1000}s\n`);
    await writeFiles(home, { 'stackd.yaml': yaml });
    const d = new Daemon(home, join(home, 'stackd.yaml'));
    daemons.push(d);
    return d;
  }

  const verdicts = (d: Daemon, stack: string) => logLines(d.logs).filter((l) => l['stack'] === stack && (l['msg'] === 'reconcile failed' || l['msg'] === 'reconciled'));

  beforeAll(async () => {
    // the lab is shared: never start with podman down, whatever a run before left
    await systemctlUser('start', 'podman.socket');
    for (const p of STACKS) await removeProject(p);
    dir = await scratch('faults-podman-down');
    log = join(dir, 'compose-calls.log');
    const slow = `case " $* " in *" -p ${MID} "*" up "*) sleep ${SLOW_S};; esac`;
    await writeFiles(dir, { 'compose.sh': composeWrapper(log, slow), [`${A}/compose.yml`]: ONE, [`${B}/compose.yml`]: ONE, [`${MID}/compose.yml`]: TWO });
    await run(['chmod', '+x', join(dir, 'compose.sh')]);
  });

  afterAll(async () => {
    // first of all, whatever failed: podman back for everyone else on the lab
    await systemctlUser('start', 'podman.socket');
    for (const d of daemons) if (d.running) await d.stop();
    if (dir) {
      await writeFile(join(dir, '..', 'faults-podman-down-daemon.log'), daemons.map((d) => d.logs).join('\n--- next daemon ---\n')).catch(() => undefined);
      await writeFile(join(dir, '..', 'faults-podman-down-compose-calls.log'), await readFile(log, 'utf8').catch(() => '')).catch(() => undefined);
      killPids((await processes((p) => p.cmdline.includes(join(dir, 'compose.sh')))).map((p) => p.pid));
    }
    for (const p of STACKS) await removeProject(p);
    if (dir) await cleanup(dir);
  });

  it('at start: daemon alive, /readyz false, each stack failed naming podman-unreachable; socket back → all converge without a restart, retries jittered', async () => {
    const daemon = await daemonFor('at-start', [A, B]);
    // and one with no stack at all: nothing reconciles there, so only podman coming back can make it ready
    const empty = await daemonFor('at-start-no-stacks', []);
    try {
      // what was done: podman's API stopped, then stackd started with two stacks (and one with none)
      await podmanDown();
      await daemon.start();
      await empty.start();
      const pid = daemon.pid;
      expect(daemon.logs).toContain('compose talks to podman through the relay');

      // what stackd did: alive (/healthz 200), not ready, each stack failed as podman-unreachable, naming
      // podman's socket (not a compose-provider or compose-failed verdict)
      const failed = new Map<string, StackStatusJson>();
      for (const s of [A, B]) {
        failed.set(s, await daemon.waitStack(s, (x) => x.lastResult?.result === 'failed', 'a failed verdict', 60_000));
      }
      for (const [s, st] of failed) {
        expect(st.lastResult?.reasonCode, JSON.stringify(st)).toBe('podman-unreachable');
        expect(st.state).toBe('failed');
        expect(st.lastResult?.reason).toContain(`stack "${s}": not touched: `);
        expect(st.lastResult?.reason).toContain("because podman's API socket did not answer");
        // through the relay: it closed compose's connection unanswered, so podman's wrapper said what it says
        // when podman is down (its "unable to connect to Podman socket" line), not a 502 of the relay
        expect(st.lastResult?.reason).toMatch(/unable to connect to Podman socket: .*EOF: unix:\/\/\S*podman-relay\.sock/);
        expect(st.lastResult?.reason).not.toContain('502');
      }
      expect(await apiStatus(daemon.socket, '/healthz')).toBe(200);
      expect(await readyz(daemon.socket)).toBe(503);
      expect(await readyz(empty.socket)).toBe(503);
      // the queue keeps retrying while podman is down: three failures of each, and nothing touched meanwhile
      await waitFor(async () => [A, B].every((s) => verdicts(daemon, s).length >= 3), 60_000, 'two retries of each stack to fail too',
        () => daemon.logs.slice(-3000));
      for (const s of [A, B]) {
        expect(verdicts(daemon, s).map((l) => `${String(l['msg'])} ${String(l['reasonCode'])}`).slice(0, 3))
          .toEqual(Array.from({ length: 3 }, () => 'reconcile failed podman-unreachable'));
        expect(await calls(log, s, 'up')).toEqual([]);
      }
      for (const [s, st] of failed) console.log(`[faults/podman-down-start] ${s}: state ${st.state}, phase ${st.phase}, ${st.lastResult?.reasonCode}: ${st.lastResult?.reason}`);
      console.log(`[faults/podman-down-start] done: podman.socket+service stopped, stackd started; /healthz 200, /readyz 503; ` +
        `${[A, B].map((s) => `${s} ${verdicts(daemon, s).length} failed verdicts`).join(', ')} before podman came back; no compose up ran`);

      // podman back: both converge in the same stackd (same pid), /readyz 200
      const backAt = Date.now();
      await podmanBack();
      for (const s of [A, B]) await daemon.waitStack(s, (x) => x.state === 'converged' && x.phase === 'idle', 'converged after podman came back', 90_000);
      await waitFor(async () => (await readyz(daemon.socket)) === 200, 60_000, '/readyz to come back', () => daemon.logs.slice(-2000));
      await waitFor(async () => (await readyz(empty.socket)) === 200, 60_000, '/readyz of the stackd without stacks to come back', () => empty.logs.slice(-2000));
      const convergedMs = Date.now() - backAt;
      expect(daemon.running).toBe(true);
      expect(daemon.pid).toBe(pid);
      for (const s of [A, B]) {
        expect((await projectContainers(s)).map((c) => c.state)).toEqual(['running']);
        expect((await calls(log, s, 'up')).length).toBe(1);
      }

      // retries jittered: every delay within [nominal/2, nominal] of its attempt, and the two stacks, which
      // failed together, did not retry together
      const lines = logLines(daemon.logs);
      const retries = new Map([A, B].map((s) => [s, retriesOf(lines, s, BASE_MS, MAX_MS)]));
      for (const [s, list] of retries) {
        expect(list.length, s).toBeGreaterThanOrEqual(2);
        for (const r of list) {
          expect(r.delayMs, `${s} attempt ${r.attempt}`).toBeGreaterThanOrEqual(r.nominalMs / 2 - 5);
          expect(r.delayMs, `${s} attempt ${r.attempt}`).toBeLessThanOrEqual(r.nominalMs + 5);
        }
      }
      // podman answering again cuts a backoff after podman-unreachable short: when stackd saw podman back before
      // a stack's pending retry was due, that stack ran at once (source podman-back); otherwise its retry came first
      const backSeen = lines.find((l) => l['msg'] === 'podman answers again: resyncing every stack' && Number(l['time']) >= backAt);
      expect(backSeen, 'stackd saw podman back').toBeDefined();
      const how: string[] = [];
      for (const s of [A, B]) {
        const pending = retries.get(s)?.at(-1);
        const runAfter = lines.find((l) => l['stack'] === s && l['msg'] === 'reconcile' && Number(l['time']) >= backAt);
        const sources = (runAfter?.['sources'] ?? []) as string[];
        if (Number(backSeen?.['time']) < (pending?.retryAtMs ?? 0)) {
          expect(sources, `${s}: ${JSON.stringify(runAfter)}`).toContain('podman-back');
          expect(Number(runAfter?.['time'])).toBeLessThan(pending?.retryAtMs ?? 0);
        } else {
          expect(sources, `${s}: ${JSON.stringify(runAfter)}`).toContain('retry');
        }
        how.push(`${s} ran ${Number(runAfter?.['time']) - backAt}ms after podman.socket started, source ${sources.join('+')} ` +
          `(its pending retry was due at +${(pending?.retryAtMs ?? 0) - backAt}ms; stackd saw podman back at +${Number(backSeen?.['time']) - backAt}ms)`);
      }
      const [ra, rb] = [retries.get(A)?.[0], retries.get(B)?.[0]];
      expect(ra?.firedAtMs).toBeDefined();
      expect(rb?.firedAtMs).toBeDefined();
      expect(ra?.delayMs).not.toBe(rb?.delayMs);
      const show = (s: string) => (retries.get(s) ?? []).map((r) => `#${r.attempt} ${r.delayMs}ms of ${r.nominalMs}` +
        `${r.firedAtMs !== undefined ? ` fired ${r.firedAtMs - r.failedAtMs}ms after the failure` : ''}`).join(', ');
      console.log(`[faults/podman-down-start] retries ${A}: ${show(A)}; ${B}: ${show(B)}; first failures ${Math.abs((ra?.failedAtMs ?? 0) - (rb?.failedAtMs ?? 0))}ms apart, ` +
        `first retries fired ${Math.abs((ra?.firedAtMs ?? 0) - (rb?.firedAtMs ?? 0))}ms apart`);
      console.log(`[faults/podman-down-start] ${how.join('; ')}`);
      console.log(`[faults/podman-down-start] stackd after podman.socket started: both converged and /readyz 200 within ${convergedMs}ms, same pid ${pid}, one compose up each`);
    } finally {
      await systemctlUser('start', 'podman.socket');
      if (daemon.running) await daemon.stop();
    }
  });

  it('during a reconcile: compose up fails naming podman-unreachable; socket back → converges without a restart, no duplicate containers', async () => {
    const daemon = await daemonFor('mid', [MID]);
    try {
      await daemon.start();
      const pid = daemon.pid;
      // what was done: while MID's wrapper sleeps before running `podman compose up`, podman's API is stopped
      await waitFor(async () => (await calls(log, MID, 'up')).length > 0, 60_000, `${MID}'s compose up to start`, () => daemon.logs.slice(-2000));
      const upCall = (await calls(log, MID, 'up'))[0] as CallLine;
      await podmanDown();
      const stoppedAfterMs = Date.now() - upCall.atMs;
      expect(stoppedAfterMs, 'podman stopped while the wrapper still slept').toBeLessThan(SLOW_S * 1000);

      // what stackd did: that reconcile fails as podman-unreachable, saying podman's socket did not answer
      await waitFor(async () => verdicts(daemon, MID).length > 0, 60_000, `${MID}'s verdict`, () => daemon.logs.slice(-3000));
      const first = verdicts(daemon, MID)[0] ?? {};
      expect(first['msg'], JSON.stringify(first)).toBe('reconcile failed');
      expect(first['reasonCode'], JSON.stringify(first)).toBe('podman-unreachable');
      expect(String(first['reason'])).toMatch(new RegExp(`^stack "${MID}": compose up could not reach podman \\(exit 125\\): podman's API socket did not answer: `));
      expect(String(first['reason'])).toMatch(/unable to connect to Podman socket: .*EOF: unix:\/\/\S*podman-relay\.sock/);
      expect(String(first['reason'])).not.toContain('502');
      const st = await daemon.stack(MID);
      expect(st.state).toBe('failed');
      expect(st.lastResult?.reasonCode).toBe('podman-unreachable');
      expect(await apiStatus(daemon.socket, '/healthz')).toBe(200);
      expect(await readyz(daemon.socket)).toBe(503);
      console.log(`[faults/podman-down-mid] done: podman.socket+service stopped ${stoppedAfterMs}ms into ${MID}'s compose up (wrapper sleeps ${SLOW_S}s first)`);
      console.log(`[faults/podman-down-mid] stackd: ${String(first['reasonCode'])}: ${String(first['reason'])}; state ${st.state}, phase ${st.phase}; /healthz 200, /readyz 503`);

      // podman back: converges in the same stackd, one container per service, nothing doubled
      const backAt = Date.now();
      await podmanBack();
      const done = await daemon.waitStack(MID, (x) => x.state === 'converged' && x.phase === 'idle', 'converged after podman came back', 120_000);
      await waitFor(async () => (await readyz(daemon.socket)) === 200, 60_000, '/readyz to come back');
      const convergedMs = Date.now() - backAt;
      const ids = await expectOnePerService(MID);
      expect(done.containers.map((c) => c.id).sort()).toEqual([...ids].sort());
      expect(daemon.running).toBe(true);
      expect(daemon.pid).toBe(pid);
      const failures = verdicts(daemon, MID).filter((l) => l['msg'] === 'reconcile failed');
      expect(failures.every((l) => l['reasonCode'] === 'podman-unreachable'), JSON.stringify(failures)).toBe(true);
      console.log(`[faults/podman-down-mid] stackd after podman.socket started: converged and /readyz 200 within ${convergedMs}ms, same pid ${pid}; ` +
        `${failures.length} failed verdict(s) (all podman-unreachable: ${[...new Set(failures.map((l) => String(l['reason']).split(': ')[1] ?? ''))].join(' | ')}); ` +
        `${(await calls(log, MID, 'up')).length} compose up(s) in all; ${ids.length} containers, one per service`);
    } finally {
      await systemctlUser('start', 'podman.socket');
      if (daemon.running) await daemon.stop();
    }
  });
});
