// SystemdNotify against a fake `systemd-notify` that records its argv and environment: one process per
// message, --pid=<main pid> (MAINPID, attribution), never --no-block (the barrier is what keeps the message
// from being lost), and nothing of stackd's environment but the socket and PATH.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessExitError } from '../../../src/adapters/errors.js';
import { SystemdNotify } from '../../../src/adapters/systemd-notify.js';

let dir: string;

const FAKE = `#!/bin/sh
d="$(dirname "$0")"
printf '%s\\n' "$@" >> "$d/argv"
env | sort > "$d/env"
case "$*" in *STOPPING*) echo "Failed to notify init system: Connection refused" >&2; exit 1 ;; esac
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-notify-'));
  await writeFile(join(dir, 'systemd-notify'), FAKE);
  await chmod(join(dir, 'systemd-notify'), 0o755);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('SystemdNotify', () => {
  it('READY=1 and WATCHDOG=1: one systemd-notify each, for the main pid, with only NOTIFY_SOCKET and PATH', async () => {
    const n = new SystemdNotify({ socket: '@/org/freedesktop/systemd1/notify/1', mainPid: 4242, path: '/usr/bin', command: [join(dir, 'systemd-notify')] });
    await n.ready();
    await n.watchdog();
    expect((await readFile(join(dir, 'argv'), 'utf8')).split('\n').slice(0, -1)).toEqual(['--pid=4242', 'READY=1', '--pid=4242', 'WATCHDOG=1']);
    const env = (await readFile(join(dir, 'env'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('PWD=') && !l.startsWith('SHLVL=') && !l.startsWith('_='));
    expect(env).toEqual(['NOTIFY_SOCKET=@/org/freedesktop/systemd1/notify/1', 'PATH=/usr/bin']);
  });

  it('a refused message throws with systemd-notify\'s words', async () => {
    const n = new SystemdNotify({ socket: '/nowhere', mainPid: 1, path: '/usr/bin', command: [join(dir, 'systemd-notify')] });
    const err = await n.stopping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessExitError);
    expect((err as Error).message).toContain('Connection refused');
  });
});
