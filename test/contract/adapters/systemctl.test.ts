// Systemctl against a fake `systemctl` that records its argv and answers with output captured in the lab
// (systemd 257, user manager): list-units, show --timestamp=unix, is-enabled exit codes, stop of a gone unit.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Systemctl, parseShowTimestamps } from '../../../src/adapters/systemctl.js';
import { ProcessExitError, ProcessTimeoutError } from '../../../src/adapters/errors.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const TIMER = '8e9286b1ed35c395fb0f9ad77bc7fb988234491d36f4181fcdf5aa270d208552-58a6d0e5bb3d3a52.timer';
const SERVICE = TIMER.replace(/\.timer$/, '.service');

let dir: string;
let sc: Systemctl;

const FAKE = `#!/bin/sh
d="$(dirname "$0")"
: > "$d/argv"
for a in "$@"; do printf '%s\\n' "$a" >> "$d/argv"; done
env > "$d/env"
case "$*" in
  *fake-hang*) sleep 30 ;;
  *fake-broken*) echo "Failed to connect to bus: No such file or directory" >&2; exit 1 ;;
  *list-units*) cat "$d/list-units.txt" ;;
  *show*) cat "$d/show.txt" ;;
  *is-enabled*podman.socket) echo enabled ;;
  *is-enabled*podman-auto-update.timer) echo disabled; exit 1 ;;
  *is-enabled*) echo not-found; exit 4 ;;
  *stop*gone*) echo "Failed to stop gone.timer: Unit gone.timer not loaded." >&2; exit 5 ;;
  *stop*|*reset-failed*) exit 0 ;;
esac
`;

async function argv(): Promise<string[]> {
  return (await readFile(join(dir, 'argv'), 'utf8')).split('\n').slice(0, -1);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-systemctl-'));
  await writeFile(join(dir, 'systemctl'), FAKE);
  await chmod(join(dir, 'systemctl'), 0o755);
  await writeFile(join(dir, 'list-units.txt'), await readFile(new URL('systemctl-list-units.orphans.txt', FIXTURES)));
  await writeFile(join(dir, 'show.txt'), await readFile(new URL('systemctl-show.timestamps.txt', FIXTURES)));
  sc = new Systemctl({
    command: [join(dir, 'systemctl')],
    parentEnv: { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: '/run/user/1000', DBUS_SESSION_BUS_ADDRESS: 'x', SECRET: 'y' },
    timeoutMs: 5_000,
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Systemctl', () => {
  it('lists units raw, with the flags the core parser expects', async () => {
    const text = await sc.listUnits();
    expect(text).toBe(await readFile(new URL('systemctl-list-units.orphans.txt', FIXTURES), 'utf8'));
    expect(await argv()).toEqual(['--user', 'list-units', '--all', '--plain', '--no-legend', '--full']);
    await sc.listUnits(['*.timer', '*.service']);
    expect(await argv()).toEqual(['--user', 'list-units', '--all', '--plain', '--no-legend', '--full', '--', '*.timer', '*.service']);
  });

  it('passes only the allow-listed environment', async () => {
    await sc.listUnits();
    const env = await readFile(join(dir, 'env'), 'utf8');
    expect(env).toContain('XDG_RUNTIME_DIR=/run/user/1000');
    expect(env).not.toContain('SECRET');
    expect(env).not.toContain('DBUS_SESSION_BUS_ADDRESS');
    expect(env).not.toContain('DOCKER_HOST');
  });

  it('reads ActiveEnterTimestamp as epoch ms (creation of a healthcheck timer); unknown units are left out', async () => {
    const ts = await sc.unitActiveEnterTimestamps([TIMER, SERVICE, 'podman.socket', 'nonexist.timer']);
    expect(await argv()).toEqual([
      '--user', 'show', '--timestamp=unix', '-p', 'Id', '-p', 'ActiveEnterTimestamp', '-p', 'StateChangeTimestamp',
      '--', TIMER, SERVICE, 'podman.socket', 'nonexist.timer',
    ]);
    expect(ts).toEqual({ [TIMER]: 1795687057000, [SERVICE]: 1795687586000, 'podman.socket': 1795687021000 });
  });

  it('falls back to StateChangeTimestamp for a unit that never became active', () => {
    expect(parseShowTimestamps('Id=x.service\nActiveEnterTimestamp=\nStateChangeTimestamp=@1700000000\n')).toEqual({ 'x.service': 1700000000000 });
  });

  it('asks nothing for an empty unit list', async () => {
    expect(await sc.unitActiveEnterTimestamps([])).toEqual({});
  });

  it('stop and reset-failed report the outcome; a gone unit is not an exception', async () => {
    expect(await sc.stop([TIMER, SERVICE])).toEqual({ ok: true, exitCode: 0, stderr: '' });
    expect(await argv()).toEqual(['--user', 'stop', '--', TIMER, SERVICE]);
    const gone = await sc.stop(['gone.timer']);
    expect(gone).toMatchObject({ ok: false, exitCode: 5 });
    expect(gone.stderr).toContain('not loaded');
    await sc.resetFailed();
    expect(await argv()).toEqual(['--user', 'reset-failed']);
    await sc.resetFailed([SERVICE]);
    expect(await argv()).toEqual(['--user', 'reset-failed', '--', SERVICE]);
  });

  it('is-enabled returns the state word; the exit code does not throw', async () => {
    expect(await sc.isEnabled('podman.socket', 'user')).toMatchObject({ state: 'enabled', exitCode: 0 });
    expect(await sc.isEnabled('podman-auto-update.timer', 'system')).toMatchObject({ state: 'disabled', exitCode: 1 });
    expect(await argv()).toEqual(['--system', 'is-enabled', '--', 'podman-auto-update.timer']);
    expect(await sc.isEnabled('nope.timer', 'user')).toMatchObject({ state: 'not-found', exitCode: 4 });
  });

  it('a failing list is a ProcessExitError carrying systemctl’s complaint', async () => {
    const err = await sc.listUnits(['fake-broken']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessExitError);
    expect((err as Error).message).toContain('Failed to connect to bus');
  });

  it('a hanging systemctl is killed at the timeout: ProcessTimeoutError', async () => {
    const quick = new Systemctl({ command: [join(dir, 'systemctl')], parentEnv: {}, timeoutMs: 200 });
    await expect(quick.listUnits(['fake-hang'])).rejects.toBeInstanceOf(ProcessTimeoutError);
  });
});
