// Issue 9's fault "disk full for the state file", for real: as root (the one tier allowed to mount), a 64 KiB
// tmpfs owned by the lab user becomes stackd's state directory; stackd runs as the lab user against its
// rootless podman. The tmpfs is filled up, then a request that must change the persisted level arrives.
// Shown: the write fails loudly (a log line naming the file and ENOSPC, the request refused saying so), the
// previous state file is intact (same bytes, parses), no temp file is left, the daemon keeps serving, and once
// there is room again the same request succeeds.
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AS_LAB, LAB_USER, REPO, asLab, get, run, waitFor } from './lab.js';

const STACK = 'flt-disk';

let uid = 0;
let gid = 0;
let stage = '';
let dir = '';
let stateDir = '';
let stateFile = '';
let sock = '';
let mounted = false;
let daemon: ChildProcess | undefined;
let exited: Promise<unknown> = Promise.resolve();
let logs = '';

/** stackctl as the lab user; resolves with its exit code and output (a failing command does not throw). */
const ctl = (...args: string[]) => run([AS_LAB, process.execPath, join(stage, 'dist/cli/stackctl.js'), '--socket', sock, ...args], { allowFail: true });

/** stackd's own pid, from its first log line (the spawned process is as-lab.sh's runuser). */
function stackdPid(): number | undefined {
  const m = /"pid":(\d+)/.exec(logs);
  return m ? Number(m[1]) : undefined;
}

async function projectContainerStates(): Promise<string[]> {
  const out = (await asLab('podman', 'ps', '-a', '--filter', `label=com.docker.compose.project=${STACK}`, '--format', '{{.State}}')).stdout;
  return out.split('\n').filter(Boolean);
}

async function removeProject(): Promise<void> {
  const ids = (await asLab('podman', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${STACK}`).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
  if (ids.length) await asLab('podman', 'rm', '-f', '-t', '0', ...ids).catch(() => undefined);
  await asLab('podman', 'network', 'rm', '-f', `${STACK}_default`).catch(() => undefined);
}

beforeAll(async () => {
  uid = Number((await run(['id', '-u', LAB_USER])).stdout.trim());
  gid = Number((await run(['id', '-g', LAB_USER])).stdout.trim());
  await removeProject();
  stage = (await run(['bash', join(REPO, 'test/lab/stage.sh')])).stdout.trim();
  dir = await mkdtemp(join(stage, 'disk-full-'));
  await chown(dir, uid, gid);
  sock = join(dir, 'api.sock');
  stateDir = join(dir, 'state');
  stateFile = join(stateDir, 'state.json');
  await mkdir(stateDir);
  await run(['mount', '-t', 'tmpfs', '-o', `size=64k,mode=0700,uid=${uid},gid=${gid}`, 'flt-disk-state', stateDir]);
  mounted = true;
  await writeFile(join(dir, 'compose.yml'), `services:
  main:
    image: localhost/busybox:lab
    init: true
    command: ["sleep", "1000000"]
`);
  await writeFile(join(dir, 'stackd.yaml'), `podman:
  socket: /run/user/${uid}/podman/podman.sock
api:
  socket: ${sock}
stateFile: ${stateFile}
stacks:
  - { name: ${STACK}, compose: [${join(dir, 'compose.yml')}] }
`);
  for (const f of ['compose.yml', 'stackd.yaml']) await chown(join(dir, f), uid, gid);
  const child = spawn(AS_LAB, [process.execPath, join(stage, 'dist/main.js'), '--config', join(dir, 'stackd.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon = child;
  exited = new Promise((r) => child.on('exit', r));
  child.stdout.on('data', (d: Buffer) => { logs += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { logs += d.toString(); });
  await waitFor(async () => (await get(sock, '/healthz')).status === 200, 30_000, 'stackd to answer /healthz');
  await waitFor(async () => JSON.parse((await get(sock, `/v1/stacks/${STACK}`)).body).state === 'converged', 120_000, 'the stack to converge');
}, 300_000);

afterAll(async () => {
  const pid = stackdPid();
  if (daemon && daemon.exitCode === null && pid !== undefined) {
    await run(['kill', '-TERM', String(pid)], { allowFail: true });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  }
  // for whoever reads a failure (the stage is removed below)
  await writeFile('/tmp/faults-disk-full-daemon.log', logs).catch(() => undefined);
  await removeProject();
  if (mounted) await run(['umount', stateDir], { allowFail: true });
  if (stage) await rm(stage, { recursive: true, force: true });
}, 120_000);

describe('fault: the disk holding the state file is full', () => {
  it('the save fails loudly, the old state file stays intact and nothing half-written is left; stackd keeps serving', async () => {
    // the previous state: `stop` saved desired=stopped while there was room
    const stop = await ctl('stop', STACK);
    expect(stop.code, stop.stderr).toBe(0);
    const before = await readFile(stateFile, 'utf8');
    expect((JSON.parse(before) as { stacks: Record<string, { desired: string }> }).stacks[STACK]?.desired).toBe('stopped');
    expect(await projectContainerStates()).toEqual(['exited']);

    // what was done: the tmpfs filled to the last byte (dd stops at ENOSPC)
    const fill = await run(['dd', 'if=/dev/zero', `of=${join(stateDir, 'filler')}`, 'bs=4096'], { allowFail: true });
    expect(fill.stderr).toMatch(/No space left on device/);
    const free = Number((await run(['stat', '-f', '-c', '%a', stateDir])).stdout.trim());
    expect(free).toBe(0);
    const logFrom = logs.length;

    // what stackd did: `up` needs desired=running saved first; the save fails, the request is refused saying
    // why and what to do, and stackd logs the file and the errno
    const up = await ctl('up', STACK);
    console.log(`[faults/disk-full] done: tmpfs state dir (64 KiB) filled (${free} blocks free); stackctl up ${STACK} → exit ${up.code}: ${up.stderr.trim()}`);
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain(`could not save the desired state to ${stateFile}`);
    expect(up.stderr).toMatch(/ENOSPC/);
    expect(up.stderr).toMatch(/nothing was changed/);
    await waitFor(async () => logs.slice(logFrom).includes('could not save the state file'), 10_000, 'the log line');
    const line = logs.slice(logFrom).split('\n').find((l) => l.includes('could not save the state file')) ?? '';
    console.log(`[faults/disk-full] stackd logged: ${line}`);
    const logged = JSON.parse(line) as { level: number; file: string; err: { code?: string; message: string } };
    expect(logged.level).toBe(50);
    expect(logged.file).toBe(stateFile);
    expect(`${logged.err.code} ${logged.err.message}`).toMatch(/ENOSPC/);

    // what was lost: nothing. The old file is byte for byte the same and parses; no temp file is left beside it
    const after = await readFile(stateFile, 'utf8');
    expect(after).toBe(before);
    expect((JSON.parse(after) as { stacks: Record<string, { desired: string }> }).stacks[STACK]?.desired).toBe('stopped');
    const left = (await readdir(stateDir)).sort();
    expect(left.filter((f) => f !== 'filler' && f !== 'state.json'), left.join(', ')).toEqual([]);
    // nothing acted on the refused request either: the level and the container are as they were
    expect(await projectContainerStates()).toEqual(['exited']);
    expect(JSON.parse((await get(sock, `/v1/stacks/${STACK}`)).body)).toMatchObject({ desired: 'stopped' });

    // the daemon keeps serving: alive, /healthz, status
    expect(daemon?.exitCode).toBeNull();
    expect((await get(sock, '/healthz')).status).toBe(200);
    const status = await ctl('status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(STACK);

    // room again: the same request now succeeds and is saved
    await rm(join(stateDir, 'filler'));
    const again = await ctl('up', STACK);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(await readFile(stateFile, 'utf8')) as { stacks: Record<string, { desired: string }> }).stacks[STACK]?.desired).toBe('running');
    expect(await projectContainerStates()).toEqual(['running']);
    console.log(`[faults/disk-full] after freeing the space: stackctl up exit ${again.code}; state.json says running; files in the state dir: ${(await readdir(stateDir)).join(', ')}`);
  });
});
