import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ComposeModelError,
  expectedServices,
  healthchecksByService,
  parseComposeConfig,
  parseDurationMs,
} from '../../../src/core/compose-model.js';
import type { ExpectedService } from '../../../src/core/model.js';

const text = (name: string): string => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
const svc = (services: ExpectedService[], name: string): ExpectedService => {
  const s = services.find((x) => x.name === name);
  if (!s) throw new Error(`no service ${name}`);
  return s;
};
// One service, inline, in the shape `compose config --format json` prints.
const one = (service: Record<string, unknown>): ExpectedService => {
  const model = parseComposeConfig({ name: 'p', services: { s: { image: 'busybox', ...service } } }, 'p');
  return svc(model.services, 's');
};

describe('parseComposeConfig: the demo fixture', () => {
  const model = parseComposeConfig(text('compose-config.demo.json'), 'demo');

  it('lists every service with image and labels', () => {
    expect(model.project).toBe('demo');
    expect(model.services.map((s) => s.name)).toEqual(['app', 'client', 'holder', 'web']);
    expect(svc(model.services, 'holder')).toMatchObject({
      image: 'localhost/busybox:lab',
      labels: { PODMAN_SYSTEMD_UNIT: 'demo.service', 'io.containers.autoupdate': 'registry' },
      profiles: [],
      oneShot: false,
    });
  });

  it('fills healthcheck defaults for what the file leaves out (timeout 30s)', () => {
    expect(svc(model.services, 'holder').healthcheck).toEqual({
      disabled: false,
      intervalMs: 5000,
      timeoutMs: 30_000,
      retries: 2,
      startPeriodMs: 2000,
    });
  });

  it('calls a service without restart policy and healthcheck a one-shot', () => {
    expect(svc(model.services, 'web')).toMatchObject({ oneShot: true, labels: {} });
    expect(svc(model.services, 'web').healthcheck).toBeUndefined();
  });
});

describe('parseComposeConfig: the fxtest fixture (restart policies, disabled checks, Go durations)', () => {
  const model = parseComposeConfig(text('compose-config.fxtest.json'), 'fxtest');

  it.each([
    // service, oneShot, why
    ['crash', true, 'no restart, no healthcheck'],
    ['once', true, 'restart "no", no healthcheck'],
    ['nohc', false, 'restart always (healthcheck disabled)'],
    ['sick', false, 'restart unless-stopped'],
    ['slow', false, 'healthcheck, no restart'],
    ['defaults', false, 'restart on-failure:3'],
  ])('%s: oneShot %s (%s)', (name, oneShot) => {
    expect(svc(model.services, name).oneShot).toBe(oneShot);
  });

  it.each([
    ['sick', { disabled: false, intervalMs: 2000, timeoutMs: 1000, retries: 2, startPeriodMs: 0 }],
    ['slow', { disabled: false, intervalMs: 3000, timeoutMs: 2000, retries: 3, startPeriodMs: 3_600_000 }],
    ['defaults', { disabled: false, intervalMs: 90_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 500 }],
    ['nohc', { disabled: true, intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 }],
  ])('%s healthcheck', (name, expected) => {
    expect(svc(model.services, name).healthcheck).toEqual(expected);
  });

  it('drops profile-gated services itself when no profile is active', () => {
    expect(model.services.map((s) => s.name)).not.toContain('debug');
  });

  it('keeps profiles and test ["NONE"] when the profile is active', () => {
    const debug = svc(parseComposeConfig(text('compose-config.fxtest-profile-debug.json'), 'fxtest').services, 'debug');
    expect(debug.profiles).toEqual(['debug']);
    expect(debug.healthcheck?.disabled).toBe(true);
    expect(debug.oneShot).toBe(true);
  });

  it('maps the services by healthcheck', () => {
    const specs = healthchecksByService(model.services);
    expect(specs['slow']?.startPeriodMs).toBe(3_600_000);
    expect(specs['crash']).toBeUndefined();
    expect(Object.keys(specs).sort()).toEqual(['crash', 'defaults', 'nohc', 'once', 'sick', 'slow']);
  });
});

describe('parseComposeConfig: inline variants', () => {
  it.each([
    ['list labels', ['io.containers.autoupdate=registry', 'PODMAN_SYSTEMD_UNIT=x.service'], { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'x.service' }],
    ['list label with "=" in the value', ['a=b=c'], { a: 'b=c' }],
    ['list label without a value', ['flag'], { flag: '' }],
    ['map labels', { a: 'b' }, { a: 'b' }],
    ['map label with a number value', { port: 8080 }, { port: '8080' }],
    ['no labels', undefined, {}],
  ])('%s', (_label, labels, expected) => {
    expect(one(labels === undefined ? {} : { labels }).labels).toEqual(expected);
  });

  it.each([
    ['disable: true', { disable: true }, true],
    ['test ["NONE"]', { test: ['NONE'] }, true],
    ['test "NONE"', { test: 'NONE' }, true],
    ['a real test', { test: ['CMD', 'true'] }, false],
  ])('healthcheck %s → disabled %s', (_label, healthcheck, disabled) => {
    const s = one({ healthcheck });
    expect(s.healthcheck?.disabled).toBe(disabled);
    expect(s.oneShot).toBe(disabled);
  });

  it('uses podman/compose defaults for an empty healthcheck, and retries 0 as default', () => {
    expect(one({ healthcheck: { test: ['CMD', 'true'], retries: 0 } }).healthcheck).toEqual({
      disabled: false,
      intervalMs: 30_000,
      timeoutMs: 30_000,
      retries: 3,
      startPeriodMs: 0,
    });
  });

  it.each([
    [undefined, true],
    ['no', true],
    ['always', false],
    ['unless-stopped', false],
    ['on-failure', false],
  ])('restart %s without healthcheck → oneShot %s', (restart, oneShot) => {
    expect(one(restart === undefined ? {} : { restart }).oneShot).toBe(oneShot);
  });

  it('accepts a JSON string and an already parsed object alike', () => {
    const doc = { services: { a: { image: 'x' } } };
    expect(parseComposeConfig(JSON.stringify(doc), 'p')).toEqual(parseComposeConfig(doc, 'p'));
  });

  it('accepts a model without services', () => {
    expect(parseComposeConfig('{"name":"p"}', 'p').services).toEqual([]);
  });

  it.each([
    ['not JSON', 'services: {}', /not JSON/],
    ['not an object', '[]', /Expected compose config output to be an object, got a list/],
    ['services a list', { services: [] }, /`services` to be a mapping, got a list/],
    ['bad duration', { services: { a: { healthcheck: { interval: 'soon' } } } }, /services\.a\.healthcheck\.interval .*got `soon`/],
    ['numeric duration', { services: { a: { healthcheck: { interval: 30 } } } }, /services\.a\.healthcheck\.interval/],
    ['bad retries', { services: { a: { healthcheck: { retries: 'x' } } } }, /retries to be a whole number/],
    ['bad label list entry', { services: { a: { labels: [1] } } }, /services\.a\.labels entries/],
    ['bad profiles', { services: { a: { profiles: 'debug' } } }, /services\.a\.profiles to be a list/],
    ['bad restart', { services: { a: { restart: false } } }, /services\.a\.restart to be a string/],
  ])('rejects %s with the key path', (_label, input, message) => {
    expect(() => parseComposeConfig(input, 'p')).toThrow(ComposeModelError);
    expect(() => parseComposeConfig(input, 'p')).toThrow(message);
  });
});

describe('expectedServices', () => {
  const model = parseComposeConfig(
    {
      services: {
        always: { image: 'a' },
        debug: { image: 'a', profiles: ['debug'] },
        tools: { image: 'a', profiles: ['debug', 'tools'] },
      },
    },
    'p',
  );

  it.each([
    [[], ['always']],
    [['debug'], ['always', 'debug', 'tools']],
    [['tools'], ['always', 'tools']],
    [['other'], ['always']],
  ])('active profiles %j → %j', (active, names) => {
    expect(expectedServices(model, active).map((s) => s.name)).toEqual(names);
  });
});

describe('parseDurationMs (Go durations as compose prints them)', () => {
  it.each([
    ['5s', 5000],
    ['1m30s', 90_000],
    ['1h0m0s', 3_600_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['1.001s', 1001],
    ['2h45m', 9_900_000],
    ['1500us', 1],
    ['1500µs', 1],
    ['999999ns', 0],
    ['0', 0],
    ['0s', 0],
  ])('%s → %i ms', (input, ms) => {
    expect(parseDurationMs(input)).toBe(ms);
  });

  it.each(['', '5', 's', '5x', '-5s', '1m 30s', '5s!'])('%j → undefined', (input) => {
    expect(parseDurationMs(input)).toBeUndefined();
  });
});
