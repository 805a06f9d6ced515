// The shipped systemd units, for real: stackd socket-activated under the lab user's systemd user manager,
// and per-stack units that only ask stackd (systemd/example-stack.service as shipped: one curl each, held by
// stackd until the verdict). Reproduces the owner's thundering herd: every stack unit started at once (what
// `nixos-rebuild switch` does) — all converge, through one queue, each unit with stackd's verdict line in its
// output (sent to a file by a drop-in: no journald in the lab).
import { chmod, readdir, readFile, writeFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE, ROOT, RUNTIME_DIR, captureUnitOutput, cleanup, renderDaemonUnits, unitOutput, projectContainers, removeProject, run, scratch, waitFor, writeFiles, PODMAN_SOCKET } from './harness.js';

const SUFFIX = 'systest';
const STACKS = ['u-one', 'u-two', 'u-three', 'u-four', 'u-five'];
const unitDir = join(process.env['HOME'] ?? '', '.config/systemd/user');
const apiSocket = join(RUNTIME_DIR, `stackd-${SUFFIX}`, 'stackd.sock');
const stackctl = [process.execPath, join(ROOT, 'dist/cli/stackctl.js'), '--socket', apiSocket];

const systemctl = (...args: string[]) => run(['systemctl', '--user', ...args]);

/** systemd/example-stack.service for one stack, asking this test's stackd (its socket and unit renamed as renderDaemonUnits does). */
async function renderStackUnit(name: string): Promise<string> {
  const text = (await readFile(join(ROOT, 'systemd/example-stack.service'), 'utf8'))
    .replaceAll('stackd.service', `stackd-${SUFFIX}.service`)
    .replaceAll('%t/stackd/', `%t/stackd-${SUFFIX}/`)
    .replaceAll('/v1/stacks/example/', `/v1/stacks/${name}/`)
    .replaceAll('"example"', `"${name}"`);
  const exec = text.split('\n').filter((l) => /^Exec\w+=/.test(l));
  if (exec.length !== 3 || !exec.every((l) => l.includes(`--unix-socket %t/stackd-${SUFFIX}/stackd.sock `) && l.includes(`/v1/stacks/${name}/`))) {
    throw new Error(`systemd/example-stack.service: expected three curl lines to the stack's routes on %t/stackd/stackd.sock, got ${JSON.stringify(exec)}`);
  }
  return text;
}

describe('shipped systemd units', () => {
  let dir: string;
  const written: string[] = [];

  beforeAll(async () => {
    for (const s of STACKS) await removeProject(s);
    dir = await scratch('units');
    const compose = `services:\n  main:\n    image: ${BASE_IMAGE}\n    init: true\n    command: ["sleep", "100000"]\n`;
    const files: Record<string, string> = { 'compose.yml': compose };
    await writeFiles(dir, files);
    const config = `podman: { socket: ${PODMAN_SOCKET} }
api: { socket: ${apiSocket} }
stateFile: ${join(dir, 'state.json')}
stacks:
${STACKS.map((s) => `  - { name: ${s}, compose: [${join(dir, 'compose.yml')}] }`).join('\n')}
`;
    await writeFile(join(dir, 'stackd.yaml'), config);
    await mkdir(unitDir, { recursive: true });
    const units: Record<string, string> = await renderDaemonUnits(SUFFIX, join(dir, 'stackd.yaml'));
    for (const s of STACKS) units[`${s}.service`] = await renderStackUnit(s);
    for (const [name, text] of Object.entries(units)) {
      await writeFile(join(unitDir, name), text);
      written.push(name);
    }
    for (const s of STACKS) await captureUnitOutput(unitDir, `${s}.service`, join(dir, `${s}.journal`));
    expect((await systemctl('daemon-reload')).code).toBe(0);
    const started = await systemctl('start', `stackd-${SUFFIX}.socket`);
    expect(started.code, started.stderr).toBe(0);
  });

  afterAll(async () => {
    await systemctl('stop', ...STACKS.map((s) => `${s}.service`), `stackd-${SUFFIX}.service`, `stackd-${SUFFIX}.socket`);
    for (const name of written) await rm(join(unitDir, name), { force: true });
    for (const s of STACKS) await rm(join(unitDir, `${s}.service.d`), { recursive: true, force: true });
    await systemctl('daemon-reload');
    await systemctl('reset-failed');
    for (const s of STACKS) await removeProject(s);
    if (dir) await cleanup(dir);
  });

  it('every shipped unit passes systemd-analyze verify (--user for the user units)', async () => {
    // `stackd`/`stackctl` are bare names in the shipped units (found on the manager's PATH when installed);
    // here they are executable stand-ins, so verify checks everything else as shipped
    const vdir = join(dir, 'verify');
    await mkdir(vdir, { recursive: true });
    for (const bin of ['stackd', 'stackctl']) {
      await writeFile(join(vdir, bin), '#!/bin/sh\nexit 0\n');
      await chmod(join(vdir, bin), 0o755);
    }
    const names = (await readdir(join(ROOT, 'systemd'))).filter((n) => /\.(service|socket|timer)$/.test(n));
    expect(names).toEqual(expect.arrayContaining(['stackd.service', 'stackd.socket', 'example-stack.service', 'example-secrets.service', 'stackd-update.timer']));
    for (const name of names) {
      const text = (await readFile(join(ROOT, 'systemd', name), 'utf8')).replace(/^(Exec\w+=)(stackd|stackctl) /gm, `$1${vdir}/$2 `);
      await writeFile(join(vdir, name), text);
    }
    for (const name of names) {
      const system = name === 'example-secrets.service'; // the one root unit
      const r = await run(['systemd-analyze', 'verify', ...(system ? [] : ['--user']), join(vdir, name)]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    }
  });

  it('the API socket exists before stackd runs, mode 0600, and the first request starts stackd', async () => {
    const ls = await run(['stat', '-c', '%a %F', apiSocket]);
    expect(ls.stdout.trim()).toBe('600 socket');
    expect((await systemctl('is-active', `stackd-${SUFFIX}.service`)).stdout.trim()).not.toBe('active');
    const status = await run([...stackctl, 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    // Type=notify: it answers once it listens, and turns active when READY=1 follows (state loaded, podman up)
    await waitFor(async () => (await systemctl('is-active', `stackd-${SUFFIX}.service`)).stdout.trim() === 'active', 30_000, 'stackd active');
  });

  it('all stack units started at once (a rebuild) each succeed with stackd\'s verdict line, and every stack converges', async () => {
    const r = await systemctl('start', ...STACKS.map((s) => `${s}.service`));
    expect(r.code, r.stderr).toBe(0);
    for (const s of STACKS) {
      expect((await systemctl('is-active', `${s}.service`)).stdout.trim()).toBe('active');
      const containers = await projectContainers(s);
      expect(containers.map((c) => c.state)).toEqual(['running']);
      expect(await unitOutput(join(dir, `${s}.journal`))).toEqual([expect.stringMatching(new RegExp(`^up ${s}: (ok in \\S+|skipped in \\S+: unchanged: .+)$`))]);
    }
  });

  it('stopping a stack unit stops the stack, and it stays stopped when stackd restarts', async () => {
    expect((await systemctl('stop', 'u-two.service')).code).toBe(0);
    expect((await projectContainers('u-two')).map((c) => c.state)).toEqual(['exited']);
    expect((await unitOutput(join(dir, 'u-two.journal'))).slice(1)).toEqual([expect.stringMatching(/^stop u-two: ok in \S+$/)]);
    expect((await systemctl('restart', `stackd-${SUFFIX}.service`)).code).toBe(0);
    let states: string[] = [];
    await waitFor(async () => {
      const r = await run([...stackctl, 'status', '--json']);
      if (r.code !== 0) return false;
      const stacks = (JSON.parse(r.stdout) as { stacks: { name: string; state: string }[] }).stacks;
      states = stacks.map((s) => `${s.name}=${s.state}`);
      return stacks.every((s) => (s.name === 'u-two' ? s.state === 'stopped' : s.state === 'converged'));
    }, 60_000, 'stacks after a stackd restart', () => states.join(' '));
    expect((await projectContainers('u-two')).map((c) => c.state)).toEqual(['exited']);
  });
});
