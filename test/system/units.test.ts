// `stackctl units` output installed for the lab user's systemd user manager, with stackd itself as the shipped
// Type=notify service: every generated unit passes `systemd-analyze verify --user`; stackd is active only once
// it said READY=1; five stack units started at once all converge through the queue; a reload is one
// reconcile; a stop stays stopped across a stackd restart; and a stackd whose event loop is blocked (so it
// stops feeding the watchdog while its process keeps running) is restarted by systemd. The test's drop-in only
// shortens WatchdogSec=/TimeoutAbortSec= so that takes seconds, and arms the wedge hook
// (STACKD_TEST_WEDGE_ON=SIGUSR2, src/supervisor/wedge-test-hook.ts). stackd reaches podman through a symlink
// the test creates only once it has seen stackd stay `activating` without it.
// The stack units are the curl form (`stackctl units` finds curl on the lab's PATH): each start, reload and stop
// is one curl that stackd holds until the verdict. The lab has no journald, so a drop-in per stack unit sends
// the unit's stdout and stderr (what journalctl -u shows on a host) to a file the test reads; nothing else of
// the generated unit changes. A stack whose image does not exist shows a failed start: the unit `failed`,
// stackd's line in its output.
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE, PODMAN_SOCKET, ROOT, RUNTIME_DIR, captureUnitOutput, cleanup, daemonMetrics, projectContainers, removeProject, renderDaemonUnits, run, scratch,
  systemctlUser as systemctl, unitOutput, waitFor, writeFiles,
} from './harness.js';

const SUFFIX = 'unitgen';
const DAEMON = `stackd-${SUFFIX}.service`;
const STACKS = ['g-one', 'g-two', 'g-three', 'g-four', 'g-five'];
/** its image does not exist in the lab registry: compose fails */
const BAD = 'g-bad';
const ALL = [...STACKS, BAD];
const unitDir = join(process.env['HOME'] ?? '', '.config/systemd/user');
const apiSocket = join(RUNTIME_DIR, `stackd-${SUFFIX}`, 'stackd.sock');
const stackctl = [process.execPath, join(ROOT, 'dist/cli/stackctl.js')];

async function show(unit: string, prop: string): Promise<string> {
  return (await systemctl('show', '-p', prop, '--value', '--', unit)).stdout.trim();
}

/** What the stack unit printed (stdout and stderr, in order): the journal of a host, here the drop-in's file. */
let journalDir = '';
const journal = (stack: string) => unitOutput(join(journalDir, `${stack}.journal`));

/** stackd_reconcile_total of one stack, every result summed. */
async function reconciles(stack: string): Promise<number> {
  const text = await daemonMetrics(apiSocket);
  let n = 0;
  for (const m of text.matchAll(new RegExp(`^stackd_reconcile_total\\{[^}]*stack="${stack}"[^}]*\\} (\\d+)`, 'gm'))) n += Number(m[1]);
  return n;
}

describe('generated stack units and the Type=notify stackd', () => {
  let dir: string;
  let podmanLink: string;
  const written: string[] = [];

  beforeAll(async () => {
    for (const s of STACKS) await removeProject(s);
    dir = await scratch('unitgen');
    await writeFiles(dir, {
      'compose.yml': `services:\n  main:\n    image: ${BASE_IMAGE}\n    init: true\n    command: ["sleep", "100000"]\n`,
      'missing-image.yml': 'services:\n  ghost:\n    image: localhost:5000/lab/does-not-exist:1\n    command: ["sleep", "100000"]\n',
    });
    journalDir = dir;
    // absent until the READY test creates it: podman does not answer before that
    podmanLink = join(dir, 'podman.sock');
    await writeFile(join(dir, 'stackd.yaml'), `podman: { socket: ${podmanLink} }
api: { socket: ${apiSocket} }
stateFile: ${join(dir, 'state.json')}
stacks:
${STACKS.map((s) => `  - { name: ${s}, compose: [${join(dir, 'compose.yml')}] }`).join('\n')}
  - { name: ${BAD}, compose: [${join(dir, 'missing-image.yml')}] }
`);
    await mkdir(join(unitDir, `${DAEMON}.d`), { recursive: true });
    for (const [name, text] of Object.entries(await renderDaemonUnits(SUFFIX, join(dir, 'stackd.yaml')))) {
      await writeFile(join(unitDir, name), text);
      written.push(name);
    }
    // test-only: a short watchdog so the restart below takes seconds (the shipped unit says 60 s / 30 s), and
    // the hook that lets SIGUSR2 block the event loop
    await writeFile(join(unitDir, `${DAEMON}.d`, 'test.conf'),
      '[Service]\nWatchdogSec=6s\nTimeoutAbortSec=2s\nRestartSec=2s\nEnvironment=STACKD_TEST_WEDGE_ON=SIGUSR2\n');
    const gen = await run([...stackctl, '--socket', apiSocket, '--json', 'units', '--config', join(dir, 'stackd.yaml'), '--daemon-unit', DAEMON]);
    expect(gen.code, gen.stderr).toBe(0);
    const changes = (JSON.parse(gen.stdout) as { changes: { action: string; name: string }[] }).changes;
    for (const c of changes) if (c.action === 'create' || c.action === 'update') written.push(c.name);
    expect(written).toEqual(expect.arrayContaining([...ALL.map((s) => `${s}.service`), 'stackd-update.service', 'stackd-update.timer']));
    // test-only: the unit's output into a file (no journald here); the unit itself stays as generated
    for (const s of ALL) await captureUnitOutput(unitDir, `${s}.service`, join(dir, `${s}.journal`));
    expect((await systemctl('daemon-reload')).code).toBe(0);
    const started = await systemctl('start', `stackd-${SUFFIX}.socket`);
    expect(started.code, started.stderr).toBe(0);
  });

  afterAll(async () => {
    await systemctl('stop', ...ALL.map((s) => `${s}.service`), DAEMON, `stackd-${SUFFIX}.socket`);
    for (const name of written) await rm(join(unitDir, name), { force: true });
    for (const d of [DAEMON, ...ALL.map((s) => `${s}.service`)]) await rm(join(unitDir, `${d}.d`), { recursive: true, force: true });
    await systemctl('daemon-reload');
    await systemctl('reset-failed');
    for (const s of ALL) await removeProject(s);
    if (dir) await cleanup(dir);
  });

  it('every generated unit passes systemd-analyze verify --user; the stack units run curl, the update service stackctl', async () => {
    for (const name of [...ALL.map((s) => `${s}.service`), 'stackd-update.service', 'stackd-update.timer']) {
      const r = await run(['systemd-analyze', 'verify', '--user', join(unitDir, name)]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    }
    for (const s of ALL) {
      const exec = (await readFile(join(unitDir, `${s}.service`), 'utf8')).split('\n').filter((l) => /^Exec\w+=/.test(l));
      expect(exec).toEqual([
        expect.stringMatching(new RegExp(`^ExecStart=/\\S*/curl .* --unix-socket ${apiSocket} .* http://stackd/v1/stacks/${s}/up\\?wait=900000$`)),
        expect.stringMatching(new RegExp(`^ExecReload=/\\S*/curl .* http://stackd/v1/stacks/${s}/up\\?wait=900000$`)),
        expect.stringMatching(new RegExp(`^ExecStop=/\\S*/curl .* http://stackd/v1/stacks/${s}/stop\\?wait=300000$`)),
      ]);
    }
    expect(await readFile(join(unitDir, 'stackd-update.service'), 'utf8')).toMatch(/^ExecStart=\S+ \S*stackctl\.js --socket \S+ update$/m);
  });

  it('stackd becomes active only after READY=1 (state loaded, podman answered)', async () => {
    expect(await show(DAEMON, 'Type')).toBe('notify');
    const r = await systemctl('start', '--no-block', DAEMON);
    expect(r.code, r.stderr).toBe(0);
    // stackd runs, but podman does not answer (its socket path does not exist yet): no READY=1
    await waitFor(async () => Number(await show(DAEMON, 'MainPID')) > 0, 30_000, 'stackd to run');
    const pid = Number(await show(DAEMON, 'MainPID'));
    await new Promise((res) => setTimeout(res, 5000)); // past several of stackd's readiness checks (every 1 s)
    expect(await show(DAEMON, 'ActiveState')).toBe('activating');
    expect(Number(await show(DAEMON, 'MainPID'))).toBe(pid); // still the same process, waiting, not crashing
    const notReady = await run(['curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', apiSocket, 'http://stackd/readyz']);
    expect(notReady.stdout).toBe('503');
    // podman answers from now on
    await symlink(PODMAN_SOCKET, podmanLink);
    await waitFor(async () => await show(DAEMON, 'ActiveState') === 'active', 30_000, 'stackd active once podman answers');
    // /readyz also wants the compose provider's verdict, asked again now that podman answers
    await waitFor(async () => (await run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', apiSocket, 'http://stackd/readyz'])).stdout === '200',
      30_000, '/readyz 200');
    expect(Number(await show(DAEMON, 'MainPID'))).toBe(pid);
    expect(await show(DAEMON, 'WatchdogUSec')).toBe('6s');
  });

  it('five generated stack units started at once all converge through the queue; each unit active (exited), stackd\'s verdict in its output', async () => {
    const r = await systemctl('start', ...STACKS.map((s) => `${s}.service`));
    expect(r.code, r.stderr).toBe(0);
    for (const s of STACKS) {
      expect(`${await show(`${s}.service`, 'ActiveState')} (${await show(`${s}.service`, 'SubState')})`).toBe('active (exited)');
      expect((await projectContainers(s)).map((c) => c.state)).toEqual(['running']);
      // curl printed the one line stackd answered with (200): the verdict stackctl up would print
      // (ok, or skipped when stackd's own start-up reconcile had converged it already)
      expect(await journal(s)).toEqual([expect.stringMatching(new RegExp(`^up ${s}: (ok in \\S+|skipped in \\S+: unchanged: .+)$`))]);
    }
  });

  it('systemctl --user reload of one unit is one reconcile of that stack', async () => {
    const before = await reconciles('g-one');
    const others = await Promise.all(STACKS.slice(1).map(reconciles));
    expect((await systemctl('reload', 'g-one.service')).code).toBe(0);
    await new Promise((r) => setTimeout(r, 3000)); // anything else it might set off has time to show
    expect(await reconciles('g-one')).toBe(before + 1);
    // the reload's curl got the verdict of that reconcile (the stack was unchanged: skipped)
    expect((await journal('g-one')).slice(1)).toEqual([expect.stringMatching(/^up g-one: skipped in \S+: /)]);
    expect(await Promise.all(STACKS.slice(1).map(reconciles))).toEqual(others);
  });

  it('stop stops the stack, and it stays stopped when stackd restarts', async () => {
    expect((await systemctl('stop', 'g-two.service')).code).toBe(0);
    expect((await projectContainers('g-two')).map((c) => c.state)).toEqual(['exited']);
    expect(await show('g-two.service', 'ActiveState')).toBe('inactive');
    expect((await journal('g-two')).slice(1)).toEqual([expect.stringMatching(/^stop g-two: ok in \S+$/)]);
    expect((await systemctl('restart', DAEMON)).code).toBe(0);
    await waitFor(async () => {
      const r = await run([...stackctl, '--socket', apiSocket, 'status', '--json']);
      if (r.code !== 0) return false;
      const stacks = (JSON.parse(r.stdout) as { stacks: { name: string; state: string }[] }).stacks;
      // g-bad's unit was never started: whatever stackd makes of it (no desired state yet) is not this test's
      return stacks.filter((s) => s.name !== BAD).every((s) => (s.name === 'g-two' ? s.state === 'stopped' : s.state === 'converged'));
    }, 60_000, 'stacks after a stackd restart');
    expect((await projectContainers('g-two')).map((c) => c.state)).toEqual(['exited']);
  });

  it('starting the stopped stack\'s unit again brings it up through curl: a real compose up, `up g-two: ok in …`', async () => {
    const r = await systemctl('start', 'g-two.service');
    expect(r.code, r.stderr).toBe(0);
    expect(`${await show('g-two.service', 'ActiveState')} (${await show('g-two.service', 'SubState')})`).toBe('active (exited)');
    expect((await projectContainers('g-two')).map((c) => c.state)).toEqual(['running']);
    expect((await journal('g-two')).slice(2)).toEqual([expect.stringMatching(/^up g-two: ok in \S+$/)]);
  });

  it('a stackd whose event loop is blocked is restarted by systemd', async () => {
    const pid = Number(await show(DAEMON, 'MainPID'));
    const restarts = Number(await show(DAEMON, 'NRestarts'));
    expect(pid).toBeGreaterThan(0);
    // the control: with its loop running, stackd outlives WatchdogSec= (6 s) by far, fed by WATCHDOG=1
    await new Promise((res) => setTimeout(res, 9000));
    expect({ pid: Number(await show(DAEMON, 'MainPID')), restarts: Number(await show(DAEMON, 'NRestarts')) }).toEqual({ pid, restarts });

    // the wedge: SIGUSR2 blocks the event loop (the process keeps running; nothing stops it from outside)
    // (WATCHDOG=1 went out at most 3 s before: systemd acts 3 s after the wedge at the earliest)
    expect((await systemctl('kill', '--kill-whom=main', '-s', 'SIGUSR2', DAEMON)).code).toBe(0);
    await new Promise((res) => setTimeout(res, 300));
    const procState = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).replace(/^.*\) /s, '').split(' ')[0];
    expect(procState, 'the wedged stackd is alive and not stopped').toMatch(/^[RSD]$/);
    const wedged = await run(['curl', '-s', '-m', '1', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', apiSocket, 'http://stackd/readyz']);
    expect(wedged.stdout).toBe('000'); // no answer: the loop does not run
    // why it died, seen in the RestartSec= (2 s) between the watchdog's kill and the restart
    const results = new Set<string>();
    const end = Date.now() + 60_000;
    while (Number(await show(DAEMON, 'NRestarts')) === restarts && Date.now() < end) {
      results.add(await show(DAEMON, 'Result'));
      await new Promise((res) => setTimeout(res, 100));
    }
    expect([...results]).toContain('watchdog');
    await waitFor(async () => Number(await show(DAEMON, 'NRestarts')) > restarts && await show(DAEMON, 'ActiveState') === 'active',
      60_000, 'systemd to restart the wedged stackd', () => `NRestarts ${restarts}`);
    console.log(`[units] wedged stackd pid ${pid}: Result values seen before the restart: ${[...results].join(', ')}`);
    const newPid = Number(await show(DAEMON, 'MainPID'));
    expect(newPid).not.toBe(pid);
    expect(await show(DAEMON, 'Result')).toBe('success');
    const ready = await run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', apiSocket, 'http://stackd/readyz']);
    expect(ready.stdout).toBe('200');
  });

  it('a stack whose compose fails: the unit is failed, and its output is stackd\'s line saying why', async () => {
    const r = await systemctl('start', `${BAD}.service`);
    expect(r.code).not.toBe(0);
    expect(await show(`${BAD}.service`, 'ActiveState')).toBe('failed');
    expect(await show(`${BAD}.service`, 'Result')).toBe('exit-code');
    expect(await show(`${BAD}.service`, 'ExecMainStatus')).toBe('22'); // curl --fail-with-body on stackd's 502
    const status = await run([...stackctl, '--socket', apiSocket, 'status', BAD, '--json']);
    const last = (JSON.parse(status.stdout) as { lastResult?: { result: string; reasonCode?: string } }).lastResult;
    expect(last).toMatchObject({ result: 'failed', reasonCode: 'compose-failed' });
    const lines = await journal(BAD);
    // stackd's line (the verdict stackctl up prints, compose's reason in it), then curl's own word on the 502
    expect(lines[0]).toMatch(new RegExp(`^up ${BAD}: failed in \\S+: compose-failed: .*does-not-exist`));
    expect(lines.slice(1)).toEqual(['curl: (22) The requested URL returned error: 502']);
  });
});
