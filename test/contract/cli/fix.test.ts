// `stackctl fix` over real files in a temp dir. compose `config` is a fake that merges the files with the
// yaml package (the real `podman compose config` is covered by the offline-check system test); everything
// else — reading, planning, diff, atomic write, refusals — runs for real.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fix, type FixDeps } from '../../../src/cli/fix.js';
import { offlineChecker, readOfflineConfig } from '../../../src/cli/offline-check.js';
import type { ComposeOutcome, ComposeSpec } from '../../../src/supervisor/ports.js';

const fakeCompose = {
  async config(spec: ComposeSpec): Promise<ComposeOutcome> {
    const services: Record<string, Record<string, unknown>> = {};
    for (const f of spec.composeFiles) {
      const doc = (parse(await readFile(f, 'utf8'), { merge: true }) ?? {}) as { services?: Record<string, Record<string, unknown>> };
      for (const [name, s] of Object.entries(doc.services ?? {})) services[name] = { ...services[name], ...s };
    }
    return { ok: true, exitCode: 0, stdout: JSON.stringify({ name: spec.project, services }), stderr: '', timedOut: false, durationMs: 1 };
  },
};

const MAP_STYLE = `# immich, map-style labels
version: "3.8"

x-logging: &logging
  driver: journald

services:
  server:
    image: ghcr.io/immich-app/immich-server:release # pinned by digest in prod
    logging: *logging
    labels:
      io.containers.autoupdate: 'registry'   # the owner's policy
      com.example.note: "quoted: value"

  redis:
    image: redis:7
    logging: *logging
`;

const LIST_STYLE = `services:
  web:
    image: docker.io/library/nginx:1.27
    labels:
      - "io.containers.autoupdate=registry"
      - PODMAN_SYSTEMD_UNIT=podman-compose@web.service
    # trailing comment stays
`;

let dir: string;
let out: string;
let err: string;
const io = () => ({
  env: { HOME: dir }, uid: 1000, cwd: dir,
  stdout: { write: (s: string) => (out += s) },
  stderr: { write: (s: string) => (err += s) },
});
const run = (args: { stacks?: string[]; write?: boolean; qualifyImages?: boolean }, deps: FixDeps = {}) =>
  fix(io(), { config: join(dir, 'stackd.yaml'), stacks: args.stacks ?? [], write: args.write ?? false, qualifyImages: args.qualifyImages ?? false },
    { compose: fakeCompose, ...deps });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-fix-'));
  out = '';
  err = '';
  await writeFile(join(dir, 'immich.yml'), MAP_STYLE, { mode: 0o640 });
  await writeFile(join(dir, 'web.yml'), LIST_STYLE);
  await writeFile(join(dir, 'stackd.yaml'), `stacks:\n  - name: immich\n    compose: ${join(dir, 'immich.yml')}\n  - name: web\n    compose: ${join(dir, 'web.yml')}\n`);
});
afterEach(async () => {
  await chmod(join(dir, 'store'), 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('stackctl fix', () => {
  it('without --write prints a unified diff and leaves the files byte- and mtime-identical', async () => {
    const before = await stat(join(dir, 'immich.yml'));
    expect(await run({}), err).toBe(0);
    expect(out).toContain(`--- ${join(dir, 'immich.yml')}`);
    expect(out).toContain('-version: "3.8"');
    expect(out).toContain('+      PODMAN_SYSTEMD_UNIT: immich.service');
    expect(out).toContain('-      - PODMAN_SYSTEMD_UNIT=podman-compose@web.service');
    expect(out).toContain('+      - PODMAN_SYSTEMD_UNIT=web.service');
    expect(out).toContain('2 file(s) would change; run again with --write');
    expect(await readFile(join(dir, 'immich.yml'), 'utf8')).toBe(MAP_STYLE);
    expect((await stat(join(dir, 'immich.yml'))).mtimeMs).toBe(before.mtimeMs);
  });

  it('--write fixes both label styles, keeps everything else byte-identical and the mode; check is then clean; a second run has nothing to fix', async () => {
    expect(await run({ write: true })).toBe(0);
    expect(err).toBe('');
    const immich = await readFile(join(dir, 'immich.yml'), 'utf8');
    expect(immich).toBe(MAP_STYLE.replace('version: "3.8"\n', '').replace(
      `      com.example.note: "quoted: value"\n`, `      com.example.note: "quoted: value"\n      PODMAN_SYSTEMD_UNIT: immich.service\n`));
    expect(await readFile(join(dir, 'web.yml'), 'utf8')).toBe(LIST_STYLE.replace('podman-compose@web.service', 'web.service'));
    expect((await stat(join(dir, 'immich.yml'))).mode & 0o777).toBe(0o640);

    const config = await readOfflineConfig(io(), join(dir, 'stackd.yaml'));
    if (typeof config === 'number') throw new Error('config');
    const check = await offlineChecker(config, io(), fakeCompose).run();
    expect(check.ok).toBe(true);
    expect(check.output.stacks.flatMap((s) => s.violations)).toEqual([]);
    expect(check.output.stacks.flatMap((s) => s.warnings.map((w) => w.code))).not.toContain('obsolete-version');

    out = '';
    expect(await run({ write: true })).toBe(0);
    expect(out).toBe('stackctl fix: nothing to fix\n');
  });

  it('--qualify-images rewrites short names only when asked', async () => {
    expect(await run({ stacks: ['immich'], write: true })).toBe(0);
    expect(await readFile(join(dir, 'immich.yml'), 'utf8')).toContain('    image: redis:7\n');
    out = '';
    expect(await run({ stacks: ['immich'], write: true, qualifyImages: true })).toBe(0);
    expect(out).toContain('image redis:7 → docker.io/library/redis:7');
    expect(await readFile(join(dir, 'immich.yml'), 'utf8')).toContain('    image: docker.io/library/redis:7\n');
  });

  it('refuses a symlink into a read-only store, printing the diff and the note', async () => {
    const store = join(dir, 'store');
    await mkdir(store);
    await writeFile(join(store, 'web.yml'), LIST_STYLE, { mode: 0o444 });
    await chmod(store, 0o555);
    await rm(join(dir, 'web.yml'));
    await symlink(join(store, 'web.yml'), join(dir, 'web.yml'));
    expect(await run({ stacks: ['web'], write: true })).toBe(1);
    expect(out).toContain('+      - PODMAN_SYSTEMD_UNIT=web.service');
    expect(err).toMatch(/symlink into a read-only location .*belongs in the host configuration/);
    expect(await readFile(join(store, 'web.yml'), 'utf8')).toBe(LIST_STYLE);
  });

  it('refuses a file edited between read and write (content, or only the mtime)', async () => {
    const edited = `${LIST_STYLE}# someone else's edit\n`;
    expect(await run({ stacks: ['web'], write: true }, { beforeWrite: (f) => writeFile(f, edited) })).toBe(1);
    expect(err).toContain('changed since it was read; not written');
    expect(await readFile(join(dir, 'web.yml'), 'utf8')).toBe(edited);

    err = '';
    await writeFile(join(dir, 'web.yml'), LIST_STYLE);
    const touch = (f: string) => utimes(f, new Date(), new Date(Date.now() + 60_000));
    expect(await run({ stacks: ['web'], write: true }, { beforeWrite: touch })).toBe(1);
    expect(err).toContain('changed since it was read');
    expect(await readFile(join(dir, 'web.yml'), 'utf8')).toBe(LIST_STYLE);
  });

  it('names what it cannot fix mechanically and exits 1', async () => {
    await writeFile(join(dir, 'web.yml'), 'services:\n  web:\n    image: docker.io/library/nginx:1\n    labels: {io.containers.autoupdate: registry}\n');
    expect(await run({ stacks: ['web'], write: true })).toBe(1);
    expect(err).toMatch(/service "web": its labels are in flow style .*add PODMAN_SYSTEMD_UNIT=web.service to its labels by hand/);
  });
});
