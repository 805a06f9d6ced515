import { readFileSync } from 'node:fs';
import { NOW, ago, container } from '../../support/builders.js';
import { describe, expect, it } from 'vitest';
import { expectedServices, parseComposeConfig } from '../../../src/core/compose-model.js';
import type { ExpectedService, ObservedContainer, ReconcileResult } from '../../../src/core/model.js';
import { parseContainerList, selectProjectContainers } from '../../../src/core/podman-parse.js';
import { deriveStatus, toContainerView, type StatusInput } from '../../../src/core/stack-status.js';

const MIN = 60_000;

const service = (name: string, oneShot = false): ExpectedService => ({ name, labels: {}, oneShot, profiles: [] });
const ctr = (service: string, over: Partial<ObservedContainer> = {}): ObservedContainer =>
  container(service, { startedAt: ago(60 * MIN), ...over });
const result = (r: ReconcileResult['result']): ReconcileResult => ({
  result: r,
  startedAt: ago(2 * MIN),
  finishedAt: ago(MIN),
  durationMs: 1000,
});

const web = service('web');
const db = service('db');
const migrate = service('migrate', true);

const input = (over: Partial<StatusInput>): StatusInput => ({
  desired: 'running',
  phase: 'idle',
  lastResult: result('ok'),
  expected: [web, db],
  containers: [ctr('web'), ctr('db')],
  nowMs: NOW,
  healthWindow: { windowMs: 5 * MIN },
  ...over,
});

describe('deriveStatus: health', () => {
  it.each<[string, Partial<StatusInput>, string]>([
    ['not observed yet', { containers: undefined }, 'unknown'],
    ['no containers, desired stopped', { desired: 'stopped', containers: [] }, 'down'],
    ['no containers, desired running', { containers: [] }, 'down'],
    ['all exited, desired stopped', { desired: 'stopped', containers: [ctr('web', { state: 'exited' }), ctr('db', { state: 'exited' })] }, 'down'],
    ['all running, no healthchecks', {}, 'healthy'],
    ['all running, healthy', { containers: [ctr('web', { health: 'healthy' }), ctr('db', { health: 'healthy' })] }, 'healthy'],
    ['healthcheck disabled (podman says reset)', { containers: [ctr('web', { health: 'reset' }), ctr('db')] }, 'healthy'],
    ['one service missing, the other runs', { containers: [ctr('web')] }, 'degraded'],
    ['one service exited, the other runs', { containers: [ctr('web'), ctr('db', { state: 'exited', exitCode: 137 })] }, 'degraded'],
    ['one service paused', { containers: [ctr('web'), ctr('db', { state: 'paused' })] }, 'degraded'],
    ['nothing running, desired running', { containers: [ctr('web', { state: 'exited' }), ctr('db', { state: 'created' })] }, 'down'],
    ['one unhealthy', { containers: [ctr('web', { health: 'unhealthy' }), ctr('db')] }, 'degraded'],
    [
      'unhealthy beats starting',
      { containers: [ctr('web', { health: 'unhealthy' }), ctr('db', { health: 'starting', startedAt: ago(1000) })], healthWindow: { windowMs: 5 * MIN, deployFinishedAtMs: NOW - 1000 } },
      'degraded',
    ],
    ['missing beats unhealthy', { containers: [ctr('web', { health: 'unhealthy' })] }, 'degraded'],
    [
      'an unexpected container that is unhealthy still counts',
      { containers: [ctr('web'), ctr('db'), ctr('debug', { health: 'unhealthy' })] },
      'degraded',
    ],
  ])('%s → %s', (_label, over, health) => {
    expect(deriveStatus(input(over)).health).toBe(health);
  });
});

describe('deriveStatus: starting, inside and outside the grace', () => {
  const starting = (startedAgoMs: number) => [ctr('web', { health: 'starting', startedAt: ago(startedAgoMs) }), ctr('db')];

  it.each<[string, Partial<StatusInput>, string]>([
    ['inside the deploy watch window', { containers: starting(60 * MIN), healthWindow: { windowMs: 5 * MIN, deployFinishedAtMs: NOW - 4 * MIN } }, 'progressing'],
    ['at the end of the watch window', { containers: starting(60 * MIN), healthWindow: { windowMs: 5 * MIN, deployFinishedAtMs: NOW - 5 * MIN } }, 'degraded'],
    ['after the watch window, no start period', { containers: starting(60 * MIN), healthWindow: { windowMs: 5 * MIN, deployFinishedAtMs: NOW - 6 * MIN } }, 'degraded'],
    ['no deploy seen, no start period', { containers: starting(60 * MIN) }, 'degraded'],
    ['inside the container start period', { containers: starting(MIN), startPeriods: { web: 2 * MIN } }, 'progressing'],
    ['past the container start period', { containers: starting(3 * MIN), startPeriods: { web: 2 * MIN } }, 'degraded'],
    ['start period of another service does not help', { containers: starting(MIN), startPeriods: { db: 2 * MIN } }, 'degraded'],
    ['unknown start time, no window', { containers: [ctr('web', { health: 'starting', startedAt: undefined }), ctr('db')], startPeriods: { web: 2 * MIN } }, 'degraded'],
    [
      'one starting inside, another outside',
      {
        containers: [ctr('web', { health: 'starting', startedAt: ago(MIN) }), ctr('db', { health: 'starting', startedAt: ago(10 * MIN) })],
        startPeriods: { web: 2 * MIN, db: 2 * MIN },
      },
      'degraded',
    ],
  ])('%s → %s', (_label, over, health) => {
    expect(deriveStatus(input(over)).health).toBe(health);
  });
});

describe('deriveStatus: one-shot services', () => {
  it.each<[string, ObservedContainer[], string]>([
    ['exited 0', [ctr('web'), ctr('migrate', { state: 'exited', exitCode: 0 })], 'healthy'],
    ['still running', [ctr('web'), ctr('migrate')], 'healthy'],
    ['exited 1', [ctr('web'), ctr('migrate', { state: 'exited', exitCode: 1 })], 'degraded'],
    ['never created', [ctr('web')], 'degraded'],
    [
      'an old failed run beside a new good one',
      [ctr('web'), ctr('migrate', { id: 'old', state: 'exited', exitCode: 1 }), ctr('migrate', { id: 'new', state: 'exited', exitCode: 0 })],
      'healthy',
    ],
  ])('%s → %s', (_label, containers, health) => {
    expect(deriveStatus(input({ expected: [web, migrate], containers })).health).toBe(health);
  });

  it('a stack of one-shots that all finished is healthy, not down', () => {
    const containers = [ctr('migrate', { state: 'exited' })];
    expect(deriveStatus(input({ expected: [migrate], containers })).health).toBe('healthy');
  });
});

describe('deriveStatus: state', () => {
  const running = [ctr('web'), ctr('db')];
  const stoppedCtrs = [ctr('web', { state: 'exited' }), ctr('db', { state: 'exited' })];
  it.each<[string, Partial<StatusInput>, string]>([
    ['desired stopped, nothing runs', { desired: 'stopped', containers: stoppedCtrs }, 'stopped'],
    ['desired stopped, nothing runs, last result failed', { desired: 'stopped', containers: [], lastResult: result('failed') }, 'stopped'],
    ['desired stopped, not observed yet', { desired: 'stopped', containers: undefined }, 'stopped'],
    ['desired stopped, still running, stop failed', { desired: 'stopped', containers: running, lastResult: result('failed') }, 'failed'],
    ['desired stopped, still running, stop queued', { desired: 'stopped', containers: running, phase: 'queued' }, 'progressing'],
    ['desired stopped, still running, stop underway', { desired: 'stopped', containers: running, phase: 'reconciling' }, 'progressing'],
    ['desired stopped, still running, idle', { desired: 'stopped', containers: running }, 'degraded'],
    ['no reconcile yet', { lastResult: undefined }, 'pending'],
    ['no reconcile yet, even if healthy containers run', { lastResult: undefined, phase: 'reconciling' }, 'pending'],
    ['last reconcile failed, old containers healthy', { lastResult: result('failed') }, 'failed'],
    ['last reconcile failed and backing off', { lastResult: result('failed'), phase: 'backoff' }, 'failed'],
    ['ok, not observed yet', { containers: undefined }, 'pending'],
    ['ok and healthy', {}, 'converged'],
    ['skipped (unchanged) and healthy', { lastResult: result('skipped') }, 'converged'],
    ['ok, starting inside the window', { containers: [ctr('web', { health: 'starting' }), ctr('db')], healthWindow: { windowMs: 5 * MIN, deployFinishedAtMs: NOW } }, 'progressing'],
    ['ok, degraded', { containers: [ctr('web')] }, 'degraded'],
    ['ok, down', { containers: [] }, 'degraded'],
  ])('%s → %s', (_label, over, state) => {
    expect(deriveStatus(input(over)).state).toBe(state);
  });
});

describe('deriveStatus on captured podman output', () => {
  const text = (name: string): string => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
  const list = parseContainerList(JSON.parse(text('libpod-containers-json.fxtest-fxold.json')) as unknown);

  it('the demo stack is healthy and converged', () => {
    const expected = expectedServices(parseComposeConfig(text('compose-config.demo.json'), 'demo'));
    const containers = selectProjectContainers(parseContainerList(JSON.parse(text('libpod-containers-json.demo.json')) as unknown), 'demo');
    expect(deriveStatus(input({ expected, containers, nowMs: Date.parse('2026-11-26T10:00:00Z') }))).toEqual({
      health: 'healthy',
      state: 'converged',
    });
  });

  it('fxtest (one unhealthy, one one-shot exited 3) is degraded', () => {
    const expected = expectedServices(parseComposeConfig(text('compose-config.fxtest.json'), 'fxtest')).filter((s) => s.name !== 'defaults');
    const containers = selectProjectContainers(list, 'fxtest');
    expect(deriveStatus(input({ expected, containers })).health).toBe('degraded');
    // Without the unhealthy and the crashed service, `slow` is starting inside its 1 h start period.
    const rest = expected.filter((s) => s.name !== 'sick' && s.name !== 'crash');
    const fine = containers.filter((c) => c.service !== 'sick' && c.service !== 'crash');
    expect(
      deriveStatus(input({ expected: rest, containers: fine, nowMs: Date.parse('2026-11-26T10:10:00Z'), startPeriods: { slow: 3_600_000 } })).health,
    ).toBe('progressing');
  });
});

describe('toContainerView', () => {
  it('keeps exactly the fields of the status JSON', () => {
    expect(toContainerView(ctr('web', { health: 'healthy', labels: { a: 'b' } }))).toEqual({
      id: 'web-id',
      name: 'p-web-1',
      service: 'web',
      state: 'running',
      health: 'healthy',
    });
  });
});
