// `stackctl units` in-process against a temp unit directory and config: writes, rewrites nothing unchanged,
// removes only what it wrote for a stack that left the config, never touches a hand-written unit, and
// --dry-run writes nothing.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/stackctl.js';

let dir: string;
let units: string;
let config: string;

async function ctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    env: { HOME: dir, XDG_RUNTIME_DIR: join(dir, 'run') }, uid: 1000,
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
    [['status', '--dir', '/x'], '--dir and --daemon-unit apply only to "units"'],
  ])('usage: %j', async (args, message) => {
    const r = await ctl(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('a bad config exits 2 naming the file', async () => {
    await writeFile(config, 'stacks: [ { name: "Bad Name" } ]\n');
    const r = await ctl('units', '--config', config, '--dir', units);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(config);
  });
});
