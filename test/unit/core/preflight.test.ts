import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseComposeConfig } from '../../../src/core/compose-model.js';
import type { ComposeModel } from '../../../src/core/model.js';
import { parseContainerList, selectProjectContainers } from '../../../src/core/podman-parse.js';
import { checkLabelInvariant, findDriftedContainers, formatInvariantReason } from '../../../src/core/preflight.js';

const text = (name: string): string => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
const model = (services: Record<string, Record<string, string> | string[]>): ComposeModel =>
  parseComposeConfig({ services: Object.fromEntries(Object.entries(services).map(([n, labels]) => [n, { image: 'x', labels }])) }, 'p');
const FILE = '/srv/stacks/immich/docker-compose.yml';

describe('checkLabelInvariant', () => {
  it.each<[string, Record<string, string> | string[], { problem: string; found?: string } | undefined]>([
    ['registry without unit', { 'io.containers.autoupdate': 'registry' }, { problem: 'missing' }],
    ['local without unit', { 'io.containers.autoupdate': 'local' }, { problem: 'missing' }],
    ['deprecated image without unit', { 'io.containers.autoupdate': 'image' }, { problem: 'missing' }],
    ['registry with the wrong unit', { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'podman-compose@immich.service' }, { problem: 'wrong-unit', found: 'podman-compose@immich.service' }],
    ['registry with an empty unit', { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: '' }, { problem: 'wrong-unit', found: '' }],
    ['list form without unit', ['io.containers.autoupdate=registry'], { problem: 'missing' }],
    ['wrong unit without autoupdate (drift removal would loop)', { PODMAN_SYSTEMD_UNIT: 'old.service' }, { problem: 'wrong-unit', found: 'old.service' }],
    ['registry with the right unit', { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'immich.service' }, undefined],
    ['list form with the right unit', ['io.containers.autoupdate=registry', 'PODMAN_SYSTEMD_UNIT=immich.service'], undefined],
    ['no autoupdate, no unit', { 'com.example': 'x' }, undefined],
    ['autoupdate disabled', { 'io.containers.autoupdate': 'disabled' }, undefined],
    ['autoupdate with another case', { 'io.containers.autoupdate': 'Registry' }, undefined],
  ])('%s', (_label, labels, expected) => {
    const violations = checkLabelInvariant(model({ server: labels }), 'immich.service', [FILE]);
    if (expected === undefined) {
      expect(violations).toEqual([]);
    } else {
      expect(violations).toHaveLength(1);
      expect(violations[0]).toMatchObject({
        service: 'server',
        ...expected,
        expected: 'immich.service',
        line: 'PODMAN_SYSTEMD_UNIT: immich.service',
        files: [FILE],
      });
      if (expected.found === undefined) expect(violations[0]).not.toHaveProperty('found');
    }
  });

  it('reports every offending service and only those', () => {
    const m = model({
      a: { 'io.containers.autoupdate': 'registry' },
      b: { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'immich.service' },
      c: { 'io.containers.autoupdate': 'local', PODMAN_SYSTEMD_UNIT: 'x.service' },
      d: {},
    });
    expect(checkLabelInvariant(m, 'immich.service', [FILE]).map((v) => [v.service, v.autoupdate, v.problem])).toEqual([
      ['a', 'registry', 'missing'],
      ['c', 'local', 'wrong-unit'],
    ]);
  });

  it('passes the demo fixture (holder carries PODMAN_SYSTEMD_UNIT=demo.service)', () => {
    const m = parseComposeConfig(text('compose-config.demo.json'), 'demo');
    expect(checkLabelInvariant(m, 'demo.service', ['/tmp/demo/compose.yml'])).toEqual([]);
    expect(checkLabelInvariant(m, 'other.service', ['/tmp/demo/compose.yml']).map((v) => v.service)).toEqual(['holder']);
  });

  it('flags `slow` in the fxtest fixture (autoupdate, no unit) and not `sick`', () => {
    const m = parseComposeConfig(text('compose-config.fxtest.json'), 'fxtest');
    expect(checkLabelInvariant(m, 'fxtest.service', ['/tmp/stackd-fx/compose.yml']).map((v) => v.service)).toEqual(['slow']);
  });
});

describe('formatInvariantReason', () => {
  const violations = checkLabelInvariant(
    model({
      server: { 'io.containers.autoupdate': 'registry' },
      ml: { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'podman-compose@immich.service' },
    }),
    'immich.service',
    [FILE],
  );

  it('names the stack, each service, the file and the line to add', () => {
    const reason = formatInvariantReason('immich', violations, [FILE]);
    expect(reason).toBe(
      'stack "immich": every service that sets io.containers.autoupdate (or any PODMAN_SYSTEMD_UNIT) must carry ' +
        'PODMAN_SYSTEMD_UNIT=immich.service; 2 services do not, so nothing was started or removed; ' +
        `in ${FILE}: ` +
        'service "ml" has PODMAN_SYSTEMD_UNIT=podman-compose@immich.service: change it to `PODMAN_SYSTEMD_UNIT: immich.service` under its `labels:` (`- PODMAN_SYSTEMD_UNIT=immich.service` if they are a list); ' +
        'service "server" has no PODMAN_SYSTEMD_UNIT label: add `PODMAN_SYSTEMD_UNIT: immich.service` under its `labels:` (`- PODMAN_SYSTEMD_UNIT=immich.service` if they are a list)',
    );
  });

  it('names every file when compose merged several', () => {
    const reason = formatInvariantReason('immich', violations.slice(0, 1), ['/a.yml', '/b.yml']);
    expect(reason).toContain('; 1 service does not,');
    expect(reason).toContain('in /a.yml or /b.yml (compose merges them');
  });
});

describe('findDriftedContainers', () => {
  const list = parseContainerList(JSON.parse(text('libpod-containers-json.fxtest-fxold.json')) as unknown);

  it('finds podman-compose containers labelled podman-compose@<project>.service, and those without a unit', () => {
    const drifted = findDriftedContainers(selectProjectContainers(list, 'fxold'), 'fxold.service');
    expect(drifted.map((d) => [d.container.name, d.found, d.expected]).sort()).toEqual([
      ['fxold_db_1', undefined, 'fxold.service'], // autoupdate=registry, no PODMAN_SYSTEMD_UNIT
      ['fxold_web_1', 'podman-compose@fxold.service', 'fxold.service'],
    ]);
  });

  it('keeps the demo containers: the right unit, or no autoupdate at all', () => {
    const demo = parseContainerList(JSON.parse(text('libpod-containers-json.demo.json')) as unknown);
    expect(findDriftedContainers(demo, 'demo.service')).toEqual([]);
    expect(findDriftedContainers(demo, 'renamed.service').map((d) => d.container.name)).toEqual(['demo-holder-1']);
  });

  it('in fxtest, flags `slow` (autoupdate, no unit) but not `sick` (right unit) nor the rest', () => {
    const drifted = findDriftedContainers(selectProjectContainers(list, 'fxtest'), 'fxtest.service');
    expect(drifted.map((d) => d.container.service)).toEqual(['slow']);
  });
});
