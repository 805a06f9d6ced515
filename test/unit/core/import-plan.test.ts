import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/core/config.js';
import { draftStacks, renderDraftConfig } from '../../../src/core/import-plan.js';

const dc = (project: string, extra: Record<string, string> = {}) => ({
  labels: { 'com.docker.compose.project': project, 'com.docker.compose.project.config_files': `/srv/${project}/compose.yml`, ...extra },
});

describe('draftStacks', () => {
  it.each([
    ['docker-compose labels, one stack per project, containers merged', [dc('immich'), dc('immich')],
      [{ name: 'immich', project: 'immich', compose: ['/srv/immich/compose.yml'], envFiles: [], guesses: [] }]],
    ['podman-compose: its project label and the per-stack template unit', [{ labels: {
      'io.podman.compose.project': 'paperless', 'com.docker.compose.project.config_files': 'docker-compose.yml',
      'com.docker.compose.project.working_dir': '/srv/paperless', PODMAN_SYSTEMD_UNIT: 'podman-compose@paperless.service' } }],
      [{ name: 'paperless', project: 'paperless', compose: ['/srv/paperless/docker-compose.yml'], envFiles: [],
        guesses: ['unit from PODMAN_SYSTEMD_UNIT=podman-compose@paperless.service (the per-stack template unit becomes paperless.service)'] }]],
    ['env files and an own unit kept', [dc('web', { 'com.docker.compose.project.environment_file': '/run/secrets/web.env', PODMAN_SYSTEMD_UNIT: 'site.service' })],
      [{ name: 'web', project: 'web', compose: ['/srv/web/compose.yml'], envFiles: ['/run/secrets/web.env'], unit: 'site.service', guesses: [] }]],
    ['a directory with a compose file', [{ dir: { path: '/srv/My.App/', composeFile: '/srv/My.App/compose.yaml' } }],
      [{ name: 'myapp', project: 'myapp', compose: ['/srv/My.App/compose.yaml'], envFiles: [], guesses: ['project from the directory name, as compose derives it'] }]],
    ['containers of no compose project are ignored', [{ labels: { foo: 'bar' } }], []],
  ])('%s', (_name, sources, expected) => {
    expect(draftStacks(sources)).toEqual(expected);
  });
});

describe('renderDraftConfig', () => {
  it('marks guesses with comments and gives a config stackd accepts', () => {
    const text = renderDraftConfig(draftStacks([dc('immich'), { labels: {
      'io.podman.compose.project': 'paper_less', 'com.docker.compose.project.config_files': '/srv/p/compose.yml', PODMAN_SYSTEMD_UNIT: 'podman-compose@paper_less.service' } }]));
    expect(text).toContain('  # guess: unit from PODMAN_SYSTEMD_UNIT=podman-compose@paper_less.service');
    expect(parse(text)).toEqual({ stacks: [
      { name: 'immich', project: 'immich', compose: ['/srv/immich/compose.yml'] },
      { name: 'paper_less', project: 'paper_less', compose: ['/srv/p/compose.yml'] },
    ] });
    const r = parseConfig(text, 'draft.yaml', { env: { HOME: '/home/u' }, uid: 1000, cwd: '/' });
    expect(r.ok ? r.config.stacks.map((s) => s.name) : r.issues).toEqual(['immich', 'paper_less']);
  });
  it('an empty host gives an empty, valid config', () => {
    expect(parse(renderDraftConfig([]))).toEqual({ stacks: [] });
  });
});
