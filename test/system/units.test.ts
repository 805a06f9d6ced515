// `stackctl units` output installed for the lab user's systemd user manager, with stackd itself as the shipped
// Type=notify service: every generated unit passes `systemd-analyze verify --user`; stackd is active only once
// it said READY=1; five stack units started at once all converge through the queue; a reload is one
// reconcile; a stop stays stopped across a stackd restart; and a stackd that stops feeding the watchdog
// (SIGSTOP: no event loop, no WATCHDOG=1) is restarted by systemd. The test's drop-in only shortens
// WatchdogSec=/TimeoutAbortSec= so that takes seconds.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE, PODMAN_SOCKET, ROOT, RUNTIME_DIR, cleanup, daemonMetrics, projectContainers, removeProject, renderDaemonUnits, run, scratch,
  systemctlUser as systemctl, waitFor, writeFiles,
} from './harness.js';

const SUFFIX = 'unitgen';
const DAEMON = `stackd-${SUFFIX}.service`;
const STACKS = ['g-one', 'g-two', 'g-three', 'g-four', 'g-five'];
const unitDir = join(process.env['HOME'] ?? '', '.config/systemd/user');
const apiSocket = join(RUNTIME_DIR, `stackd-${SUFFIX}`, 'stackd.sock');
const stackctl = [process.execPath, join(ROOT, 'dist/cli/stackctl.js')];

async function show(unit: string, prop: string): Promise<string> {
  return (await systemctl('show', '-p', prop, '--value', '--', unit)).stdout.trim();
}

/** stackd_reconcile_total of one stack, every result summed. */
async function reconciles(stack: string): Promise<number> {
  const text = await daemonMetrics(apiSocket);
  let n = 0;
  for (const m of text.matchAll(new RegExp(`^stackd_reconcile_total\\{[^}]*stack="${stack}"[^}]*\\} (\\d+)`, 'gm'))) n += Number(m[1]);
  return n;
}

describe('generated stack units and the Type=notify stackd', () => {
  let dir: string;
  const written: string[] = [];

  beforeAll(async () => {
    for (const s of STACKS) await removeProject(s);
    dir = await scratch('unitgen');
    await writeFiles(dir, { 'compose.yml': `services:\n  main:\n    image: ${BASE_IMAGE}\n    init: true\n    command: ["sleep", "100000"]\n` });
    await writeFile(join(dir, 'stackd.yaml'), `podman: { socket: ${PODMAN_SOCKET} }
api: { socket: ${apiSocket} }
stateFile: ${join(dir, 'state.json')}
stacks:
${STACKS.map((s) => `  - { name: ${s}, compose: [${join(dir, 'compose.yml')}] }`).join('\n')}
`);
    await mkdir(join(unitDir, `${DAEMON}.d`), { recursive: true });
    for (const [name, text] of Object.entries(await renderDaemonUnits(SUFFIX, join(dir, 'stackd.yaml')))) {
      await writeFile(join(unitDir, name), text);
      written.push(name);
    }
    // test-only: a short watchdog so the restart below takes seconds (the shipped unit says 60 s / 30 s)
    await writeFile(join(unitDir, `${DAEMON}.d`, 'test.conf'), '[Service]\nWatchdogSec=4s\nTimeoutAbortSec=2s\nRestartSec=1s\n');
    const gen = await run([...stackctl, '--socket', apiSocket, '--json', 'units', '--config', join(dir, 'stackd.yaml'), '--daemon-unit', DAEMON]);
    expect(gen.code, gen.stderr).toBe(0);
    const changes = (JSON.parse(gen.stdout) as { changes: { action: string; name: string }[] }).changes;
    for (const c of changes) if (c.action === 'create' || c.action === 'update') written.push(c.name);
    expect(written).toEqual(expect.arrayContaining([...STACKS.map((s) => `${s}.service`), 'stackd-update.service', 'stackd-update.timer']));
    expect((await systemctl('daemon-reload')).code).toBe(0);
    const started = await systemctl('start', `stackd-${SUFFIX}.socket`);
    expect(started.code, started.stderr).toBe(0);
  });

  afterAll(async () => {
    await systemctl('stop', ...STACKS.map((s) => `${s}.service`), DAEMON, `stackd-${SUFFIX}.socket`);
    for (const name of written) await rm(join(unitDir, name), { force: true });
    await rm(join(unitDir, `${DAEMON}.d`), { recursive: true, force: true });
    await systemctl('daemon-reload');
    await systemctl('reset-failed');
    for (const s of STACKS) await removeProject(s);
    if (dir) await cleanup(dir);
  });

  it('every generated unit passes systemd-analyze verify --user', async () => {
    for (const name of [...STACKS.map((s) => `${s}.service`), 'stackd-update.service', 'stackd-update.timer']) {
      const r = await run(['systemd-analyze', 'verify', '--user', join(unitDir, name)]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    }
  });

  it('stackd becomes active only after READY=1 (state loaded, podman answered)', async () => {
    const r = await systemctl('start', DAEMON);
    expect(r.code, r.stderr).toBe(0);
    expect(await show(DAEMON, 'Type')).toBe('notify');
    expect(await show(DAEMON, 'ActiveState')).toBe('active');
    // `start` of a Type=notify unit returns only once READY=1 arrived: /readyz already answers
    const ready = await run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', apiSocket, 'http://stackd/readyz']);
    expect(ready.stdout).toBe('200');
    expect(await show(DAEMON, 'WatchdogUSec')).toBe('4s');
  });

  it('five generated stack units started at once all converge through the queue', async () => {
    const r = await systemctl('start', ...STACKS.map((s) => `${s}.service`));
    expect(r.code, r.stderr).toBe(0);
    for (const s of STACKS) {
      expect(await show(`${s}.service`, 'ActiveState')).toBe('active');
      expect((await projectContainers(s)).map((c) => c.state)).toEqual(['running']);
    }
  });

  it('systemctl --user reload of one unit is one reconcile of that stack', async () => {
    const before = await reconciles('g-one');
    const others = await Promise.all(STACKS.slice(1).map(reconciles));
    expect((await systemctl('reload', 'g-one.service')).code).toBe(0);
    await new Promise((r) => setTimeout(r, 3000)); // anything else it might set off has time to show
    expect(await reconciles('g-one')).toBe(before + 1);
    expect(await Promise.all(STACKS.slice(1).map(reconciles))).toEqual(others);
  });

  it('stop stops the stack, and it stays stopped when stackd restarts', async () => {
    expect((await systemctl('stop', 'g-two.service')).code).toBe(0);
    expect((await projectContainers('g-two')).map((c) => c.state)).toEqual(['exited']);
    expect((await systemctl('restart', DAEMON)).code).toBe(0);
    await waitFor(async () => {
      const r = await run([...stackctl, '--socket', apiSocket, 'status', '--json']);
      if (r.code !== 0) return false;
      const stacks = (JSON.parse(r.stdout) as { stacks: { name: string; state: string }[] }).stacks;
      return stacks.every((s) => (s.name === 'g-two' ? s.state === 'stopped' : s.state === 'converged'));
    }, 60_000, 'stacks after a stackd restart');
    expect((await projectContainers('g-two')).map((c) => c.state)).toEqual(['exited']);
  });

  it('a stackd that stops feeding the watchdog is restarted by systemd', async () => {
    const pid = Number(await show(DAEMON, 'MainPID'));
    const restarts = Number(await show(DAEMON, 'NRestarts'));
    expect(pid).toBeGreaterThan(0);
    // a stopped process runs no event loop: no WATCHDOG=1, exactly as a wedged one
    expect((await run(['kill', '-STOP', String(pid)])).code).toBe(0);
    await waitFor(async () => Number(await show(DAEMON, 'NRestarts')) > restarts && await show(DAEMON, 'ActiveState') === 'active',
      60_000, 'systemd to restart the wedged stackd', () => `NRestarts ${restarts}`);
    const newPid = Number(await show(DAEMON, 'MainPID'));
    expect(newPid).not.toBe(pid);
    expect(await show(DAEMON, 'Result')).toBe('success');
    const ready = await run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', apiSocket, 'http://stackd/readyz']);
    expect(ready.stdout).toBe('200');
  });
});
