// `stackctl import` over fake container labels and a real directory; the draft must parse as a stackd config
// (parseConfig is what `stackd --check-config` runs).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importConfig } from '../../../src/cli/import.js';
import { parseConfig } from '../../../src/core/config.js';

let dir: string;
let out: string;
let err: string;
const io = () => ({ env: {}, uid: 1000, cwd: dir, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-import-'));
  out = '';
  err = '';
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('stackctl import', () => {
  it('drafts one stack per compose project (docker-compose and podman-compose labels) plus directories; stackd accepts it', async () => {
    await mkdir(join(dir, 'notes'));
    await writeFile(join(dir, 'notes', 'compose.yaml'), 'services: {}\n');
    await mkdir(join(dir, 'empty'));
    const labels: Record<string, string>[] = [
      { 'com.docker.compose.project': 'immich', 'com.docker.compose.project.config_files': '/srv/immich/compose.yml',
        'com.docker.compose.project.environment_file': '/run/secrets/immich.env' },
      { 'io.podman.compose.project': 'paperless', 'com.docker.compose.project.config_files': 'docker-compose.yml',
        'com.docker.compose.project.working_dir': '/srv/paperless', PODMAN_SYSTEMD_UNIT: 'podman-compose@paperless.service' },
      { 'io.containers.autoupdate': 'registry' },
    ];
    const code = await importConfig(io(), { fromPodman: true, dirs: ['notes', 'empty'] }, { listContainerLabels: () => Promise.resolve(labels) });
    expect(code).toBe(0);
    expect(err).toContain('empty holds none of compose.yaml');
    expect(out).toContain('# guess: unit from PODMAN_SYSTEMD_UNIT=podman-compose@paperless.service');
    expect(out).toContain('# guess: project from the directory name');
    const parsed = parseConfig(out, 'draft.yaml', { env: { HOME: dir }, uid: 1000, cwd: dir });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    expect(parsed.config.stacks.map((s) => [s.name, s.project, s.unit, s.compose, s.envFiles])).toEqual([
      ['immich', 'immich', 'immich.service', ['/srv/immich/compose.yml'], ['/run/secrets/immich.env']],
      ['notes', 'notes', 'notes.service', [join(dir, 'notes', 'compose.yaml')], []],
      ['paperless', 'paperless', 'paperless.service', ['/srv/paperless/docker-compose.yml'], []],
    ]);
  });

  it('says so and exits 3 when podman does not answer', async () => {
    expect(await importConfig(io(), { fromPodman: true, dirs: [] }, { listContainerLabels: () => Promise.reject(new Error('ECONNREFUSED')) })).toBe(3);
    expect(err).toContain('cannot list podman\'s containers (ECONNREFUSED)');
    expect(out).toBe('');
  });
  it('finds nothing: says what it looked at and exits 1, printing no draft', async () => {
    expect(await importConfig(io(), { fromPodman: true, dirs: [join(dir, 'empty')] }, { listContainerLabels: async () => [{ 'io.podman.annotation': 'x' }] })).toBe(1);
    expect(err).toContain('holds none of compose.yaml');
    expect(err).toContain('found no compose project');
    expect(out).toBe('');
  });
});
