// runProcess with real small processes: group kill on timeout, bounded output, an environment that is only
// what was passed. Timeouts are behaviour here ("a 200 ms timeout ends a 30 s sleep"), never timed assertions.
import { readFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { buildChildEnv, runProcess } from '../../../src/adapters/process-runner.js';
import { InvalidOptionError, ProcessSpawnError } from '../../../src/adapters/errors.js';

const ENV = { PATH: '/usr/bin:/bin' };

/** true while the pid exists and is not a zombie */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the state letter follows the ")" that closes the command name
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('runProcess', () => {
  it('runs argv without a shell and reports exit code and output', async () => {
    const r = await runProcess({ argv: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], env: ENV, timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false, aborted: false });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    // no shell in between: metacharacters in an argument stay literal
    const lit = await runProcess({ argv: ['/bin/echo', '$HOME; `id` | cat'], env: ENV, timeoutMs: 10_000 });
    expect(lit.stdout).toBe('$HOME; `id` | cat\n');
  });

  it('a 200 ms timeout kills the whole process group, grandchildren included', async () => {
    const r = await runProcess({
      argv: ['/bin/sh', '-c', 'sleep 30 & echo $! ; sleep 30'],
      env: ENV,
      timeoutMs: 200,
      killGraceMs: 1_000,
    });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGTERM');
    const grandchild = Number(r.stdout.trim());
    expect(grandchild).toBeGreaterThan(1);
    await vi.waitFor(async () => expect(await alive(grandchild)).toBe(false), { timeout: 5_000 });
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const r = await runProcess({
      argv: ['/bin/sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 1; done'],
      env: ENV,
      timeoutMs: 200,
      killGraceMs: 300,
    });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
  });

  it('an abort signal kills the group like a timeout, and is reported as aborted', async () => {
    const ac = new AbortController();
    const p = runProcess({ argv: ['/bin/sleep', '30'], env: ENV, timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const r = await p;
    expect(r).toMatchObject({ aborted: true, timedOut: false, signal: 'SIGTERM' });
  });

  it('keeps the tail of a large output and marks the truncation', async () => {
    const r = await runProcess({
      argv: ['/bin/sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done; echo LAST'],
      env: ENV,
      timeoutMs: 10_000,
      maxOutputBytes: 100,
    });
    expect(r.stdoutTruncated).toBe(true);
    expect(r.stdout).toMatch(/^\[stackd: \d+ earlier bytes truncated\]\n/);
    expect(r.stdout.endsWith('line 1999\nLAST\n')).toBe(true);
    expect(Buffer.byteLength(r.stdout.slice(r.stdout.indexOf('\n') + 1))).toBeLessThanOrEqual(100);
    expect(r.stderrTruncated).toBe(false);
  });

  it('gives the child exactly the env passed, nothing of the parent', async () => {
    const r = await runProcess({ argv: ['/usr/bin/env'], env: { ONLY: 'this' }, timeoutMs: 10_000 });
    expect(r.stdout.trim().split('\n')).toEqual(['ONLY=this']);
  });

  it('stdin is closed, so a reader gets EOF instead of hanging', async () => {
    const r = await runProcess({ argv: ['/bin/cat'], env: ENV, timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 0, stdout: '', timedOut: false });
  });

  it('writes `input` to stdin and closes it (a docker-credential helper reads its server URL there)', async () => {
    const r = await runProcess({ argv: ['/bin/sh', '-c', 'read line; echo "got:$line"; cat'], env: ENV, timeoutMs: 10_000, input: 'ghcr.io\nrest' });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'got:ghcr.io\nrest' });
    // a child that never reads its stdin is no failure of the runner: its exit code tells
    const ignored = await runProcess({ argv: ['/bin/true'], env: ENV, timeoutMs: 10_000, input: 'x'.repeat(1 << 20) });
    expect(ignored.exitCode).toBe(0);
  });

  it('runs in cwd', async () => {
    const r = await runProcess({ argv: ['/bin/pwd'], env: ENV, cwd: '/tmp', timeoutMs: 10_000 });
    expect(r.stdout.trim()).toBe('/tmp');
  });

  it('a missing executable rejects with ProcessSpawnError naming it', async () => {
    const err = await runProcess({ argv: ['stackd-no-such-binary'], env: ENV, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessSpawnError);
    expect((err as Error).message).toContain('stackd-no-such-binary');
    expect((err as Error).message).toContain('ENOENT');
  });

  it('validates its options', () => {
    expect(() => runProcess({ argv: [], env: ENV, timeoutMs: 1 })).toThrow(InvalidOptionError);
    expect(() => runProcess({ argv: ['/bin/true'], env: ENV, timeoutMs: 0 })).toThrow(/`timeoutMs`/);
  });
});

describe('buildChildEnv', () => {
  const parent = {
    PATH: '/run/current-system/sw/bin', HOME: '/home/owner', XDG_RUNTIME_DIR: '/run/user/1000', LANG: 'en_US.UTF-8',
    PODMAN_USERNS: 'keep-id', SOPS_AGE_KEY: 'secret', AWS_SECRET_ACCESS_KEY: 'secret', DOCKER_HOST: 'tcp://elsewhere:2375',
    CONTAINER_HOST: 'ssh://elsewhere', STACKD_SOCKET: '/x', UNSET: undefined,
  };

  it('keeps the allow-list and PODMAN_*, points both hosts at the podman socket, drops everything else', () => {
    expect(buildChildEnv(parent, { podmanSocket: '/run/user/1000/podman/podman.sock' })).toEqual({
      PATH: '/run/current-system/sw/bin',
      HOME: '/home/owner',
      XDG_RUNTIME_DIR: '/run/user/1000',
      LANG: 'en_US.UTF-8',
      PODMAN_USERNS: 'keep-id',
      PODMAN_IGNORE_CGROUPSV1_WARNING: '1',
      PODMAN_COMPOSE_WARNING_LOGS: 'false',
      CONTAINER_HOST: 'unix:///run/user/1000/podman/podman.sock',
      DOCKER_HOST: 'unix:///run/user/1000/podman/podman.sock',
    });
  });

  it('passes what picks the compose provider: PODMAN_COMPOSE_PROVIDER and which containers.conf podman reads', () => {
    const env = buildChildEnv({
      ...parent, PODMAN_COMPOSE_PROVIDER: '/usr/bin/podman-compose',
      CONTAINERS_CONF: '/etc/stackd/containers.conf', CONTAINERS_CONF_OVERRIDE: '/etc/stackd/override.conf',
    });
    expect(env).toMatchObject({
      PODMAN_COMPOSE_PROVIDER: '/usr/bin/podman-compose',
      CONTAINERS_CONF: '/etc/stackd/containers.conf',
      CONTAINERS_CONF_OVERRIDE: '/etc/stackd/override.conf',
    });
  });

  it('without a podman socket sets no hosts at all (the parent ones are never passed)', () => {
    const env = buildChildEnv(parent);
    expect(env.DOCKER_HOST).toBeUndefined();
    expect(env.CONTAINER_HOST).toBeUndefined();
  });
});
