// `stackctl units` in-process against a temp unit directory and config: writes, rewrites nothing unchanged,
// removes only what it wrote for a stack that left the config, never touches a hand-written unit, and
// --dry-run writes nothing. The stack units run curl when there is one (--curl, or found on PATH), else stackctl
// (and stderr says how to get the curl units).
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/stackctl.js';

let dir: string;
let units: string;
let config: string;

function ctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return ctlWith({}, ...args);
}

async function ctlWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    env: { HOME: dir, XDG_RUNTIME_DIR: join(dir, 'run'), ...env }, uid: 1000,
    stdout: { write: (s: string) => { stdout += s; return true; } }, stderr: { write: (s: string) => { stderr += s; return true; } },
  });
  return { code, stdout, stderr };
}

const stacksYaml = (names: string[]) => `stacks:\n${names.map((n) => `  - { name: ${n}, compose: [${join(dir, 'c.yml')}] }`).join('\n')}\n`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackctl-units-'));
  units = join(dir, 'units');
  config = join(dir, 'stackd.yaml');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('stackctl units', () => {
  it('--dry-run says what it would write and writes nothing', async () => {
    await writeFile(config, stacksYaml(['alpha', 'beta']));
    const r = await ctl('units', '--config', config, '--dir', units, '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`would create ${units}/alpha.service`);
    await expect(readdir(units)).rejects.toThrow(/ENOENT/);
  });

  it('writes one unit per stack and the update timer, with --socket passed on', async () => {
    const r = await ctl('units', '--config', config, '--dir', units, '--socket', '/run/s/api.sock', '--daemon-unit', 'stackd-x.service');
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(units)).sort()).toEqual(['alpha.service', 'beta.service', 'stackd-update.service', 'stackd-update.timer']);
    const alpha = await readFile(join(units, 'alpha.service'), 'utf8');
    expect(alpha).toMatch(/^ExecStart=\/\S+ .*--socket \/run\/s\/api\.sock up alpha --timeout 15m$/m);
    expect(alpha).toContain('Wants=stackd-x.service');
    expect(r.stdout).toContain('next: systemctl --user daemon-reload && systemctl --user enable --now alpha.service beta.service stackd-update.timer');
    const again = await ctl('units', '--config', config, '--dir', units, '--socket', '/run/s/api.sock', '--daemon-unit', 'stackd-x.service');
    expect(again.stdout.trim()).toBe('4 units unchanged');
  });

  it('a stack that left the config loses its unit and its enablement; a hand-written unit stays', async () => {
    await mkdir(join(units, 'default.target.wants'), { recursive: true });
    await symlink(join(units, 'beta.service'), join(units, 'default.target.wants', 'beta.service'));
    await writeFile(join(units, 'mine.service'), '[Unit]\nDescription=mine\n');
    await writeFile(config, stacksYaml(['alpha']));
    const r = await ctl('units', '--config', config, '--dir', units, '--socket', '/run/s/api.sock', '--daemon-unit', 'stackd-x.service');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed ${units}/beta.service (its stack is no longer configured)`);
    expect((await readdir(units)).sort()).toEqual(['alpha.service', 'default.target.wants', 'mine.service', 'stackd-update.service', 'stackd-update.timer']);
    expect(await readdir(join(units, 'default.target.wants'))).toEqual([]);
  });

  it('refuses to overwrite a unit it did not write, and exits 1', async () => {
    await writeFile(join(units, 'gamma.service'), '[Unit]\nDescription=hand-made\n');
    await writeFile(config, stacksYaml(['alpha', 'gamma']));
    const r = await ctl('units', '--config', config, '--dir', units);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`left alone ${units}/gamma.service: not written by stackctl units`);
    expect(await readFile(join(units, 'gamma.service'), 'utf8')).toContain('hand-made');
  });

  it.each<[string[], string]>([
    [['units', 'alpha'], '"units" takes no arguments'],
    [['status', '--dir', '/x'], '--dir, --daemon-unit and --curl apply only to "units"'],
    [['up', 'alpha', '--curl', '/usr/bin/curl'], '--dir, --daemon-unit and --curl apply only to "units"'],
  ])('usage: %j', async (args, message) => {
    const r = await ctl(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  describe('curl in the stack units', () => {
    let bin: string;
    let noCurl: string;
    const NO_CURL_LINE = 'stackctl: no curl on PATH, so the stack units run stackctl (a node process per stack at every start); install curl or pass --curl PATH, then run stackctl units again\n';
    const curlUp = (curl: string, socket: string, stack: string) =>
      `ExecStart=${curl} --silent --show-error --fail-with-body --no-buffer --max-time 930 --unix-socket ${socket} -H "Accept: text/plain" -X POST http://stackd/v1/stacks/${stack}/up?wait=900000`;

    beforeAll(async () => {
      await writeFile(config, stacksYaml(['alpha']));
      bin = join(dir, 'bin');
      noCurl = join(dir, 'bin-without-curl');
      await mkdir(bin, { recursive: true });
      await mkdir(noCurl, { recursive: true });
      await writeFile(join(bin, 'curl'), '#!/bin/sh\nexit 0\n');
      await chmod(join(bin, 'curl'), 0o755);
      await writeFile(join(noCurl, 'curl'), 'not executable\n'); // skipped: a file without x is no curl
    });

    it('--curl PATH: the stack units call stackd\'s socket with it; the update service keeps stackctl', async () => {
      const out = join(dir, 'units-given');
      const r = await ctlWith({ PATH: noCurl }, 'units', '--config', config, '--dir', out, '--curl', join(bin, 'curl'), '--socket', '/run/s/api.sock');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const alpha = await readFile(join(out, 'alpha.service'), 'utf8');
      expect(alpha.split('\n')).toContain(curlUp(join(bin, 'curl'), '/run/s/api.sock', 'alpha'));
      expect(alpha).toMatch(/^ExecStop=\S+\/curl .* http:\/\/stackd\/v1\/stacks\/alpha\/stop\?wait=300000$/m);
      expect(alpha).not.toMatch(/ (up|stop) alpha --timeout/); // no stackctl line
      expect(await readFile(join(out, 'stackd-update.service'), 'utf8')).toMatch(/^ExecStart=\/\S+ .*update$/m);
    });

    it('no --curl: the first curl on PATH (relative entries and non-executables skipped), the default socket as %t', async () => {
      const out = join(dir, 'units-path');
      const r = await ctlWith({ PATH: `bin:${noCurl}:${join(dir, 'nothing-here')}:${bin}` }, 'units', '--config', config, '--dir', out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect((await readFile(join(out, 'alpha.service'), 'utf8')).split('\n')).toContain(curlUp(join(bin, 'curl'), '%t/stackd/stackd.sock', 'alpha'));
    });

    it('no curl anywhere: stackctl units as before, and one stderr line says how to get the curl units', async () => {
      const out = join(dir, 'units-none');
      const r = await ctlWith({ PATH: noCurl }, 'units', '--config', config, '--dir', out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe(NO_CURL_LINE);
      const alpha = await readFile(join(out, 'alpha.service'), 'utf8');
      expect(alpha).toMatch(/^ExecStart=\/\S+ .*up alpha --timeout 15m$/m);
      expect(alpha.split('\n').filter((l) => /^Exec\w+=/.test(l) && l.includes('curl'))).toEqual([]);
    });

    it('the fallback units become curl units on the next run once curl is there (an update, not a conflict)', async () => {
      const out = join(dir, 'units-none');
      const r = await ctlWith({ PATH: bin }, 'units', '--config', config, '--dir', out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`updated ${out}/alpha.service`);
      expect(await readFile(join(out, 'alpha.service'), 'utf8')).toContain(`ExecStart=${join(bin, 'curl')} `);
    });

    it.each<[string, () => string]>([
      ['a file that is not executable', () => join(noCurl, 'curl')],
      ['a directory', () => bin],
      ['nothing', () => join(dir, 'no-such-curl')],
    ])('--curl naming %s: exit 2, nothing written', async (_what, path) => {
      const out = join(dir, 'units-bad-curl');
      const r = await ctlWith({ PATH: bin }, 'units', '--config', config, '--dir', out, '--curl', path());
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`stackctl: --curl: ${path()} is not an executable file; expected the path of curl (e.g. /usr/bin/curl)\n`);
      await expect(readdir(out)).rejects.toThrow(/ENOENT/);
    });
  });

  it('a bad config exits 2 naming the file', async () => {
    await writeFile(config, 'stacks: [ { name: "Bad Name" } ]\n');
    const r = await ctl('units', '--config', config, '--dir', units);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(config);
  });
});
