import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  composeWarnings, databaseBackendOf, hostWarnings, isEnabledState, obsoleteVersionKey, renderCheck, type HostCheck, type StackCheck,
} from '../../../src/core/check-report.js';
import { parseComposeConfig } from '../../../src/core/compose-model.js';
import { checkLabelInvariant } from '../../../src/core/preflight.js';

const text = (name: string): string => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');

describe('obsoleteVersionKey', () => {
  it.each([
    ['version: "3.8"\nservices: {}\n', '3.8'],
    ["version: '2'\nservices: {}\n", '2'],
    ['version: 3\nservices: {}\n', '3'],
    ['services:\n  a:\n    image: x\n    labels: { version: "1" }\n', undefined],
    ['# version: "3.8"\nservices: {}\n', undefined],
    ['services: [unclosed\n', undefined],
    ['', undefined],
    ['- a\n- b\n', undefined],
  ])('%j → %s', (yaml, version) => {
    expect(obsoleteVersionKey(yaml)).toBe(version);
  });
});

describe('composeWarnings (compose.fmwarn.yml and the model compose made of it in the lab)', () => {
  const model = parseComposeConfig(text('compose-config.fmwarn.json'), 'fmwarn');
  const warnings = composeWarnings([{ path: '/srv/fmwarn/compose.yml', text: text('compose.fmwarn.yml') }], model);
  const messages = (code: string) => warnings.filter((w) => w.code === code).map((w) => w.message);

  it('compose config drops `version:`, so it is read from the raw file', () => {
    expect(JSON.parse(text('compose-config.fmwarn.json'))).not.toHaveProperty('version');
    expect(messages('obsolete-version')).toEqual([expect.stringMatching(/^\/srv\/fmwarn\/compose.yml: top-level `version: "3.8"` is obsolete/)]);
  });
  it('names the services whose images are not fully qualified', () => {
    expect(messages('image-no-registry')).toEqual([
      expect.stringMatching(/^service "proxy": image "library\/nginx"/),
      expect.stringMatching(/^service "web": image "busybox"/),
    ]);
    expect(messages('image-no-tag')).toEqual([expect.stringMatching(/^service "db": image "docker.io\/library\/postgres" has no tag/)]);
  });
  it('names the services without a healthcheck', () => {
    expect(messages('no-healthcheck').map((m) => /service "(\w+)"/.exec(m)?.[1])).toEqual(['db', 'web']);
  });
});

describe('host warnings', () => {
  it('reads host.databaseBackend from the lab\'s podman info', () => {
    expect(databaseBackendOf(JSON.parse(text('libpod-info.sqlite.json')))).toBe('sqlite');
    expect(databaseBackendOf({ host: {} })).toBeUndefined();
    expect(databaseBackendOf(null)).toBeUndefined();
  });

  it.each([
    ['enabled', true], ['enabled-runtime', true], ['linked', true], ['alias', true],
    ['disabled', false], ['masked', false], ['static', false], ['not-found', false], ['unknown', false], ['', false],
  ])('is-enabled %s → enabled %s', (state, enabled) => {
    expect(isEnabledState(state)).toBe(enabled);
  });

  it.each([
    [{ databaseBackend: 'sqlite', autoUpdateTimer: { user: 'disabled', system: 'unknown' } }, []],
    [{ databaseBackend: 'boltdb', autoUpdateTimer: { user: 'disabled', system: 'disabled' } }, ['boltdb']],
    [{ databaseBackend: 'BoltDB', autoUpdateTimer: { user: 'disabled', system: 'disabled' } }, ['boltdb']],
    [{ autoUpdateTimer: { user: 'enabled', system: 'disabled' } }, ['podman-auto-update-timer']],
    [{ autoUpdateTimer: { user: 'enabled', system: 'enabled' } }, ['podman-auto-update-timer', 'podman-auto-update-timer']],
  ])('%j → %j', (input, codes) => {
    expect(hostWarnings(input).map((w) => w.code)).toEqual(codes);
  });

  it('says which scope and how to disable it', () => {
    const [user] = hostWarnings({ autoUpdateTimer: { user: 'enabled', system: 'disabled' } });
    expect(user?.message).toContain('(user scope)');
    expect(user?.message).toContain('systemctl --user disable --now podman-auto-update.timer');
  });
});

describe('renderCheck', () => {
  const model = parseComposeConfig(text('compose-config.fxtest.json'), 'fxtest');
  const violations = checkLabelInvariant(model, 'fxtest.service', ['/srv/fxtest/compose.yml']);
  const host: HostCheck = { warnings: [], autoUpdateTimer: { user: 'disabled', system: 'unknown' }, orphanUnits: [], notes: [] };

  it('prints the exact label line to add, on a line of its own', () => {
    expect(violations.length).toBeGreaterThan(0);
    const stack: StackCheck = { stack: 'fxtest', ok: false, violations, drifted: [], stale: [], warnings: [] };
    const lines = renderCheck([stack], host);
    expect(lines[0]).toMatch(/^fxtest: FAILED \(\d+ violations?\)/);
    expect(lines).toContain('      PODMAN_SYSTEMD_UNIT: fxtest.service');
    expect(lines.at(-1)).toMatch(/^check: FAILED/);
  });

  it('reports drifted and stale containers and orphaned units without failing', () => {
    const stack: StackCheck = {
      stack: 'immich', ok: true, violations: [], warnings: [],
      drifted: [{ id: 'a'.repeat(64), name: 'immich-server-1', found: 'podman-compose@immich.service', expected: 'immich.service' }],
      stale: [{ id: 'b'.repeat(64), name: 'immich-ml-1', service: 'ml', health: 'starting', forMs: 412_000, thresholdMs: 95_000 }],
    };
    const lines = renderCheck([stack], { ...host, orphanUnits: [`${'c'.repeat(64)}.timer`] });
    expect(lines).toEqual([
      'immich: ok (1 drifted container, 1 stale container)',
      '  drifted: container immich-server-1 has PODMAN_SYSTEMD_UNIT=podman-compose@immich.service, expected immich.service: the next reconcile removes it and compose recreates it',
      '  stale: container immich-ml-1 (service ml): health starting for 412s, longer than 95s: the next reconcile runs its healthcheck once and removes it if it still fails',
      'host: 1 orphaned healthcheck unit',
      `  orphaned healthcheck units (\`stackctl gc\` stops them): ${'c'.repeat(64)}.timer`,
      'check: ok; 0 violations, 1 drifted, 1 stale, 0 warnings, 1 orphaned unit',
    ]);
  });
});

describe('healthcheck tests podman splits at spaces (podman issue 26519)', () => {
  const withTest = (test: unknown) => parseComposeConfig(JSON.stringify({
    name: 'hc', services: { app: { image: 'docker.io/library/busybox:1', healthcheck: { test } } },
  }), 'hc');
  const split = (test: unknown) => composeWarnings([], withTest(test)).filter((w) => w.code === 'healthcheck-split').map((w) => w.message);

  it.each([
    [['CMD', 'sh', '-c', 'case $(cat /v) in bad*) exit 1;; esac'], '"case $(cat /v) in bad*) exit 1;; esac"'],
    [['CMD', '/usr/bin/mysql', '--execute=SELECT 1;'], '"--execute=SELECT 1;"'],
    [['CMD', 'test', '-f', "/tab\there"], '"/tab\\there"'],
  ])('%j is warned about, naming the argument', (test, named) => {
    expect(split(test)).toEqual([expect.stringContaining(`service "app": its healthcheck \`["CMD", …]\` has an argument with spaces (${named})`)]);
    expect(split(test)[0]).toContain('["CMD-SHELL", "<the command line>"]');
  });

  it.each([
    [['CMD-SHELL', 'case $(cat /v) in bad*) exit 1;; esac']],
    [['CMD', 'test', '-f', '/variant.txt']],
    [['NONE']],
    [['CMD', 'sh', '-c', 'true']],
  ])('%j is not', (test) => {
    expect(split(test)).toEqual([]);
  });

  it('a disabled healthcheck is not warned about', () => {
    const model = parseComposeConfig(JSON.stringify({
      name: 'hc', services: { app: { image: 'docker.io/library/busybox:1', healthcheck: { disable: true, test: ['CMD', 'sh', '-c', 'a b'] } } },
    }), 'hc');
    expect(composeWarnings([], model).filter((w) => w.code === 'healthcheck-split')).toEqual([]);
  });
});
