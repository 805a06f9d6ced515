// `stackctl check --offline`: the owner's host-configuration CI has compose files and the stackd config,
// but no stackd and no podman service. The real CLI, the real docker-compose; the podman socket in the
// config deliberately points nowhere, to show nothing asks it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE, ROOT, cleanup, run, scratch, writeFiles } from './harness.js';

const STACKCTL = [process.execPath, join(ROOT, 'dist/cli/stackctl.js')];

const GOOD = `version: "3.8"
services:
  web:
    image: ${BASE_IMAGE}
    labels: { io.containers.autoupdate: registry, PODMAN_SYSTEMD_UNIT: oc-good.service }
`;
const BAD = `services:
  ok:
    image: ${BASE_IMAGE}
  app:
    image: ${BASE_IMAGE}
    labels: { io.containers.autoupdate: registry }
`;

describe('stackctl check --offline', () => {
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await scratch('offline-check');
    await writeFiles(dir, { 'good/compose.yml': GOOD, 'bad/compose.yml': BAD });
    config = join(dir, 'stackd.yaml');
    await writeFile(config, `podman: { socket: /nonexistent/podman.sock }
api: { socket: /nonexistent/stackd.sock }
stacks:
  - { name: oc-good, compose: [good/compose.yml] }
  - { name: oc-bad, compose: [bad/compose.yml] }
`);
  });

  afterAll(async () => {
    if (dir) await cleanup(dir);
  });

  it('fails on a label-invariant violation, naming service, file and the line to add, with no daemon or podman', async () => {
    const r = await run([...STACKCTL, 'check', '--offline', '--config', config]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/oc-bad: FAILED/);
    expect(r.stdout).toMatch(/violation: service "app" \(.*bad\/compose\.yml\) sets io\.containers\.autoupdate=registry but has no PODMAN_SYSTEMD_UNIT label/);
    expect(r.stdout).toContain('PODMAN_SYSTEMD_UNIT: oc-bad.service');
    expect(r.stdout).not.toContain('violation: service "ok"');
    expect(r.stdout).toMatch(/oc-good: ok/);
    expect(r.stdout).toMatch(/offline: only the files were checked/);
  });

  it('passes a good stack and still warns about the obsolete version key and the missing healthcheck', async () => {
    const r = await run([...STACKCTL, 'check', '--offline', '--config', config, 'oc-good', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; stacks: { stack: string; warnings: { code: string; message: string }[] }[] };
    expect(report.ok).toBe(true);
    const codes = report.stacks[0]?.warnings.map((w) => w.code) ?? [];
    expect(codes).toContain('obsolete-version');
    expect(codes).toContain('no-healthcheck');
    expect(report.stacks[0]?.warnings.some((w) => /version/.test(w.message))).toBe(true);
  });

  it('refuses a bad config with the key path, exit 2', async () => {
    const badConfig = join(dir, 'bad.yaml');
    await writeFile(badConfig, 'stacks:\n  - { name: oc-x, compose: [] }\n');
    const r = await run([...STACKCTL, 'check', '--offline', '--config', badConfig]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stacks\[0\]\.compose/);
  });

  it('--config without --offline is a usage error', async () => {
    const r = await run([...STACKCTL, 'check', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--config needs --offline');
  });
});
