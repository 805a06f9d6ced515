import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseComposeConfig } from '../../../../src/core/compose-model.js';
import type { ComposeModel, ExpectedService } from '../../../../src/core/model.js';
import { isImageRefError, parseImageRef } from '../../../../src/core/registry/reference.js';
import { policyOf, updateCandidates } from '../../../../src/core/update/candidates.js';

const svc = (name: string, over: Partial<ExpectedService>): ExpectedService => ({ name, labels: {}, oneShot: false, profiles: [], ...over });
const model = (...services: ExpectedService[]): ComposeModel => ({ project: 'p', services });
const AU = 'io.containers.autoupdate';

describe('policyOf', () => {
  it.each([
    [{ [AU]: 'registry' }, 'registry'],
    [{ [AU]: 'image' }, 'registry'], // podman's old spelling
    [{ [AU]: 'local' }, 'local'],
    [{ [AU]: 'disabled' }, undefined],
    [{}, undefined],
  ] as const)('%j → %s', (labels, expected) => {
    expect(policyOf(labels)).toBe(expected);
  });
});

describe('updateCandidates', () => {
  const DIGEST = `sha256:${'a'.repeat(64)}`;
  it.each<[string, ExpectedService, 'apply' | 'monitor' | 'off', { candidate?: string; skipped?: RegExp } | 'ignored']>([
    ['a labelled registry service', svc('web', { image: 'docker.io/library/nginx:1.27', labels: { [AU]: 'registry' } }), 'apply', { candidate: 'registry' }],
    ['monitor mode still checks', svc('web', { image: 'docker.io/library/nginx:1.27', labels: { [AU]: 'registry' } }), 'monitor', { candidate: 'registry' }],
    ['a local policy', svc('app', { image: 'localhost/app:dev', labels: { [AU]: 'local' } }), 'apply', { candidate: 'local' }],
    ['an unlabelled service is not part of the report', svc('db', { image: 'docker.io/library/postgres:16' }), 'apply', 'ignored'],
    ['update: off', svc('web', { image: 'x.io/a:1', labels: { [AU]: 'registry' } }), 'off', { skipped: /update: off/ }],
    ['pinned by digest', svc('web', { image: `x.io/a@${DIGEST}`, labels: { [AU]: 'registry' } }), 'apply', { skipped: /pinned by digest/ }],
    ['build only', svc('web', { build: true, labels: { [AU]: 'registry' } }), 'apply', { skipped: /no image/ }],
    ['build with an image name', svc('web', { build: true, image: 'x.io/a:1', labels: { [AU]: 'registry' } }), 'apply', { skipped: /built from source/ }],
    ['build with the local policy is a candidate', svc('web', { build: true, image: 'localhost/a:1', labels: { [AU]: 'local' } }), 'apply', { candidate: 'local' }],
  ])('%s', (_what, service, mode, expected) => {
    const r = updateCandidates(model(service), mode);
    if (expected === 'ignored') {
      expect(r).toEqual({ candidates: [], skipped: [] });
      return;
    }
    if (expected.candidate) expect(r.candidates).toEqual([{ service: service.name, reference: service.image, policy: expected.candidate }]);
    else expect(r.candidates).toEqual([]);
    if (expected.skipped) {
      expect(r.skipped).toHaveLength(1);
      expect(r.skipped[0]?.reason).toMatch(expected.skipped);
    }
  });
});

describe('references after compose interpolated them (captured: compose.interp.yml → compose-config.interp.json)', () => {
  const model = parseComposeConfig(readFileSync(new URL('../../../fixtures/compose-config.interp.json', import.meta.url), 'utf8'), 'interp');
  const { candidates } = updateCandidates(model, 'apply');
  it.each<[string, string, string]>([
    // service, what compose resolved, what stackd asks the registry about
    ['web', 'nginx:latest', 'docker.io/library/nginx:latest'], // image: nginx:${TAG:-latest}, TAG unset
    ['app', 'registry.lan:5000/team/app:1.2', 'registry.lan:5000/team/app:1.2'], // ${REGISTRY:-registry.lan:5000}/team/app:${APP_TAG:-1.2}
    ['hub', 'docker.io/linuxserver/sonarr:4', 'docker.io/linuxserver/sonarr:4'], // docker.io/${HUB_IMAGE} from the project .env
  ])('%s: %s → %s', (service, resolved, canonical) => {
    const c = candidates.find((x) => x.service === service);
    expect(c?.reference).toBe(resolved);
    const ref = parseImageRef(c?.reference ?? '');
    expect(isImageRefError(ref) ? ref.error : ref.canonical).toBe(canonical);
  });
});
