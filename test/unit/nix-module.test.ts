// nix/module.nix evaluated for real: Debian's nix-instantiate runs nixpkgs' lib.evalModules (test/nix/eval.nix)
// over the module and the owner's two hosts (test/nix/fixtures: 19 and 5 stacks). The generated config must be
// one stackd accepts, the generated units must pass systemd-analyze verify, and the mistakes the owner's
// hosts.nix caught (an unknown stack name) and the module's types catch (a bad option value) must fail with a
// message that says what to fix. nixpkgs' lib is not in this repo: it is read from ../shared/nixpkgs-lib next
// to the checkout, or from STACKD_NIXPKGS_LIB.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { renderStackUnit } from '../../src/core/systemd-units.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const EVAL = join(REPO, 'test/nix/eval.nix');
const FIXTURES = join(REPO, 'test/nix/fixtures');
const LIB = [process.env['STACKD_NIXPKGS_LIB'], join(REPO, '../shared/nixpkgs-lib/lib'), '/work/shared/nixpkgs-lib/lib']
  .find((p): p is string => p !== undefined && existsSync(join(p, 'default.nix')));
const NIX = ['/usr/bin/nix-instantiate', '/run/current-system/sw/bin/nix-instantiate'].find((p) => existsSync(p));
const skip = !NIX ? 'nix-instantiate is not installed (test/lab/provision.sh installs nix-bin)'
  : !LIB ? 'nixpkgs lib not found at ../shared/nixpkgs-lib/lib (set STACKD_NIXPKGS_LIB)' : undefined;
if (skip) console.warn(`[nix-module] skipped: ${skip}`);

interface Evaluated {
  failedAssertions: string[];
  config: string | null;
  configPath: string;
  linger: Record<string, boolean>;
  userUnits: Record<string, string>;
  systemUnits: Record<string, string>;
  restartTriggers: Record<string, string[]>;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let work: string;
let pkg: string;

/** host: a module expression (a path or a `{ lib, ... }: { … }` text). */
async function evaluate(host: string): Promise<{ code: number; value?: Evaluated; stderr: string }> {
  const r = await run(NIX ?? 'nix-instantiate', [
    '--option', 'build-users-group', '', '--readonly-mode', '--eval', '--strict', '--json', EVAL,
    '--arg', 'lib', `import ${LIB ?? ''}`, '--arg', 'host', host, '--argstr', 'package', pkg,
  ], { NIX_STATE_DIR: join(work, 'nix-state') });
  return { code: r.code, stderr: r.stderr, ...(r.code === 0 ? { value: JSON.parse(r.stdout) as Evaluated } : {}) };
}

async function verifyUnits(units: Record<string, string>, scope: 'user' | 'system'): Promise<{ code: number; stderr: string }> {
  const dir = await mkdtemp(join(work, `units-${scope}-`));
  for (const [name, text] of Object.entries(units)) await writeFile(join(dir, name), text);
  const r = await run('systemd-analyze', [...(scope === 'user' ? ['--user'] : []), 'verify', ...Object.keys(units).map((n) => join(dir, n))], { XDG_RUNTIME_DIR: dir });
  return { code: r.code, stderr: r.stderr };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'stackd-nix-'));
  pkg = join(work, 'stackd-pkg');
  await mkdir(join(pkg, 'bin'), { recursive: true });
  for (const b of ['stackd', 'stackctl']) {
    await writeFile(join(pkg, 'bin', b), '#!/bin/sh\n');
    await chmod(join(pkg, 'bin', b), 0o755);
  }
});
afterAll(async () => { if (work) await rm(work, { recursive: true, force: true }); });

// nix-instantiate and systemd-analyze are processes of their own: generous timeouts for a loaded CI machine
describe.skipIf(skip !== undefined).each([
  ['doc1', 19, ['immich', 'paperless']],
  ['igpu', 5, ['plex']],
])('the owner\'s host %s through nix/module.nix', { timeout: 60_000 }, (host, stackCount, withSecrets) => {
  let ev: Evaluated;
  beforeAll(async () => {
    const r = await evaluate(join(FIXTURES, `${host}.nix`));
    if (!r.value) throw new Error(`evaluation failed (${r.code}):\n${r.stderr}`);
    ev = r.value;
  }, 60_000);

  it('evaluates with no failed assertion and lingers the user', () => {
    expect(ev.failedAssertions).toEqual([]);
    expect(ev.linger).toEqual({ abl030: true });
    expect(ev.configPath).toBe('/etc/stackd/stackd.json');
  });

  it('writes a config stackd accepts, with exactly the enabled stacks', () => {
    if (ev.config === null) throw new Error('no config written');
    const parsed = parseConfig(ev.config, '/etc/stackd/stackd.json', { env: { XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/abl030' }, uid: 1000 });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues, null, 1));
    expect(parsed.config.stacks).toHaveLength(stackCount);
    expect(parsed.config.stacks.every((s) => s.unit === `${s.name}.service`)).toBe(true);
  });

  it('installs stackd.socket, stackd.service, the update timer and one unit per stack, each passing systemd-analyze --user verify', async () => {
    expect(Object.keys(ev.userUnits).sort()).toEqual(
      ['stackd.service', 'stackd.socket', 'stackd-update.service', 'stackd-update.timer', ...JSON.parse(ev.config ?? '{"stacks":[]}').stacks.map((s: { unit: string }) => s.unit)].sort(),
    );
    const r = await verifyUnits(ev.userUnits, 'user');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a root secrets unit per stack with secrets, bouncing the stack\'s user unit; passes systemd-analyze verify', async () => {
    expect(Object.keys(ev.systemUnits).sort()).toEqual(withSecrets.map((s) => `${s}-secrets.service`).sort());
    for (const s of withSecrets) {
      expect(ev.systemUnits[`${s}-secrets.service`]).toContain(`systemctl --user reload-or-restart --no-block ${s}.service`);
      expect(ev.restartTriggers[`${s}-secrets`]).toContain(`/srv/stacks/${s}/docker-compose.yml`);
    }
    const r = await verifyUnits(ev.systemUnits, 'system');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('stackd.service gets the NODE_OPTIONS of systemd/stackd.service (the V8 flags the footprint bench measured)', async () => {
    const unit = await readFile(join(import.meta.dirname, '../../systemd/stackd.service'), 'utf8');
    const line = /^Environment=NODE_OPTIONS=.+$/m.exec(unit)?.[0];
    expect(line).toBe('Environment=NODE_OPTIONS=--max-semi-space-size=1');
    expect(ev.userUnits['stackd.service']).toMatch(new RegExp(`^Environment="?${(line ?? '').slice('Environment='.length)}"?$`, 'm'));
  });

  it('each stack unit asks stackd with one curl (pkgs.curl) at stackd.socket\'s path: the lines `stackctl units` writes', () => {
    const stacks = JSON.parse(ev.config ?? '{"stacks":[]}').stacks as { name: string; unit: string }[];
    const run = (text: string) => text.split('\n').filter((l) => /^(Exec\w+|Timeout\w+Sec)=/.test(l)).sort();
    expect(stacks).toHaveLength(stackCount);
    for (const s of stacks) {
      const generated = renderStackUnit(s, {
        curl: '/usr/bin/curl', stackctl: ['/unused/stackctl'], daemonUnit: 'stackd.service', configPath: '/etc/stackd/stackd.json',
        upTimeoutMs: 15 * 60_000, stopTimeoutMs: 5 * 60_000,
      });
      expect(run(ev.userUnits[s.unit] ?? '')).toEqual(run(generated.text));
      expect(ev.userUnits[s.unit]).toContain(`ExecStart=/usr/bin/curl --silent --show-error --fail-with-body --no-buffer --max-time 930 --unix-socket %t/stackd/stackd.sock -H "Accept: text/plain" -X POST http://stackd/v1/stacks/${s.name}/up?wait=900000`);
    }
    expect(ev.userUnits['stackd.socket']).toContain('ListenStream=%t/stackd/stackd.sock');
    // the update service stays on stackctl (it prints a table and runs for long)
    expect(ev.userUnits['stackd-update.service']).toContain(`ExecStart=${pkg}/bin/stackctl update`);
  });

  it('a stack unit restarts when its compose file changes (restartTriggers)', () => {
    const first = JSON.parse(ev.config ?? '{}').stacks[0] as { name: string; compose: string[] };
    expect(ev.restartTriggers[first.name]).toEqual(expect.arrayContaining(first.compose));
  });
});

describe.skipIf(skip !== undefined)('mistakes fail evaluation with a message that says what to fix', { timeout: 60_000 }, () => {
  const igpu = join(FIXTURES, 'igpu.nix');

  it('an unknown stack name in enabledStacks (what hosts.nix asserted)', async () => {
    const r = await evaluate(`{ lib, ... }: { imports = [ ${igpu} ]; services.stackd.enabledStacks = lib.mkForce [ "plex" "plexx" ]; }`);
    expect(r.value?.failedAssertions).toEqual([expect.stringMatching(/^services\.stackd\.enabledStacks: unknown stack name\(s\) plexx; known stacks: .*\bplex\b/)]);
  }, 60_000);

  it('secrets for a stack that does not exist', async () => {
    const r = await evaluate(`{ ... }: { imports = [ ${igpu} ]; services.stackd.secrets.nosuch = { }; }`);
    expect(r.value?.failedAssertions).toEqual([expect.stringMatching(/^services\.stackd\.secrets: no stack named nosuch; known stacks: /)]);
  }, 60_000);

  it.each([
    ['uid = "1000"', 'services.stackd.uid', /is not of type `positive integer/],
    ['stacks.plex.update = "sometimes"', 'services.stackd.stacks.plex.update', /is not of type `null or one of "off", "monitor", "apply"/],
  ])('a bad option type: %s', async (setting, option, expected) => {
    const r = await evaluate(`{ lib, ... }: { imports = [ ${igpu} ]; services.stackd.${setting.replace(' = ', ' = lib.mkForce ')}; }`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`A definition for option \`${option}' is not of type`);
    expect(r.stderr).toMatch(expected);
  }, 60_000);
});
