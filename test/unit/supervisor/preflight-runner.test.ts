// PreflightRunner against a fake podman that records every call: what is touched, and in which order.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { StackConfig } from '../../../src/core/config-types.js';
import type { ComposeModel, ObservedContainer } from '../../../src/core/model.js';
import { PreflightRunner } from '../../../src/supervisor/preflight-runner.js';

const log = pino({ level: 'silent' });
const stack: StackConfig = {
  name: 'app', project: 'app', compose: ['/srv/app/compose.yml'], envFiles: [], unit: 'app.service',
  startupTimeoutMs: 300_000, envWaitMs: 0, healthWindowMs: 0, repair: 'none', update: 'apply',
};
const MIN = 60_000;
const T0 = Date.parse('2026-02-13T00:00:00Z');
const good: ComposeModel = { project: 'app', services: [{ name: 'web', labels: { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'app.service' }, oneShot: false, profiles: [] }] };
const bad: ComposeModel = { project: 'app', services: [{ name: 'web', labels: { 'io.containers.autoupdate': 'registry' }, oneShot: false, profiles: [] }] };

function container(id: string, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id, name: `app-${id}`, service: 'web', project: 'app', state: 'running', exitCode: 0, health: 'healthy', image: 'x',
    labels: { 'com.docker.compose.project': 'app', 'com.docker.compose.service': 'web', 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'app.service' },
    startedAt: new Date(T0).toISOString(), ...over,
  };
}

function inspectOf(c: ObservedContainer): unknown {
  return {
    Id: c.id, Name: c.name,
    State: { Status: c.state, StartedAt: c.startedAt, Health: { Status: c.health, FailingStreak: 0, Log: [] } },
    Config: { Labels: c.labels, Healthcheck: { Test: ['CMD', 'true'], Interval: 2e9, Timeout: 2e9, Retries: 3, StartPeriod: 0 } },
  };
}

function setup(recheckAnswer: string) {
  const calls: string[] = [];
  const byId = new Map<string, ObservedContainer>();
  let now = T0;
  const violations: string[] = [];
  const runner = new PreflightRunner({
    podman: {
      inspectContainer: async (id) => { calls.push(`inspect ${id}`); const c = byId.get(id); return c ? inspectOf(c) : undefined; },
      removeContainer: async (id) => { calls.push(`remove ${id}`); return true; },
      runHealthcheck: async (id) => { calls.push(`healthcheck ${id}`); return { Status: recheckAnswer, FailingStreak: 1, Log: null }; },
    },
    config: () => ({ staleHealth: { startingFloorMs: 5000, unhealthyAfterMs: MIN, recheckWindowMs: 30 * MIN } }),
    now: () => now,
    onViolation: (s, kind) => violations.push(`${s}:${kind}`),
  });
  return {
    calls, violations,
    at: (ms: number) => { now = T0 + ms; },
    run: (model: ComposeModel, cs: ObservedContainer[]) => {
      for (const c of cs) byId.set(c.id, c);
      return runner.run(stack, model, cs, log);
    },
  };
}

describe('PreflightRunner', () => {
  it('label invariant: fails naming the service and the line, touching nothing (not even drifted containers)', async () => {
    const t = setup('unhealthy');
    const drifted = container('old', { labels: { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'podman-compose@app.service' } });
    const r = await t.run(bad, [drifted, container('stuck', { health: 'starting' })]);
    if (!r || !('reasonCode' in r)) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
    expect(r.reasonCode).toBe('label-invariant');
    expect(r.reason).toContain('service "web"');
    expect(r.reason).toContain('`PODMAN_SYSTEMD_UNIT: app.service`');
    expect(r.reason).toContain('/srv/app/compose.yml');
    expect(t.calls).toEqual([]);
    expect(t.violations).toEqual(['app:label-invariant']);
  });

  it.each([
    ['podman-compose label', { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'podman-compose@app.service' }, true],
    ['missing while autoupdate is set', { 'io.containers.autoupdate': 'registry' }, true],
    ['an old unit name, no autoupdate', { PODMAN_SYSTEMD_UNIT: 'app-stack.service' }, true],
    ['right label', { 'io.containers.autoupdate': 'registry', PODMAN_SYSTEMD_UNIT: 'app.service' }, false],
    ['no labels of ours', {}, false],
  ])('drift: %s → removed %s', async (_what, labels, removed) => {
    const t = setup('healthy');
    const r = await t.run(good, [container('c1', { labels })]);
    // what was removed is reported, so the reconciler lists the project again (and only then)
    expect(r).toEqual(removed ? { removed: 1 } : undefined);
    expect(t.calls).toEqual(removed ? ['remove c1'] : []);
  });

  it.each([
    ['starting past the threshold, recheck fails', { health: 'starting' as const }, 'unhealthy', 2 * MIN, ['inspect c1', 'healthcheck c1', 'remove c1']],
    ['starting past the threshold, recheck passes', { health: 'starting' as const }, 'healthy', 2 * MIN, ['inspect c1', 'healthcheck c1']],
    ['starting within the threshold', { health: 'starting' as const }, 'unhealthy', 8_000, ['inspect c1']],
    ['healthy', { health: 'healthy' as const }, 'unhealthy', 2 * MIN, []],
    ['exited while starting', { health: 'starting' as const, state: 'exited' }, 'unhealthy', 2 * MIN, []],
  ])('stale: %s', async (_what, over, answer, atMs, calls) => {
    const t = setup(answer);
    t.at(atMs);
    const r = await t.run(good, [container('c1', over)]);
    expect(t.calls).toEqual(calls);
    expect(r).toEqual((calls as string[]).includes('remove c1') ? { removed: 1 } : undefined);
  });

  it('a dead dependency: the replacement (new id, same service) is not removed again within recheckWindow', async () => {
    const t = setup('unhealthy');
    t.at(2 * MIN);
    await t.run(good, [container('first', { health: 'starting' })]);
    t.at(10 * MIN);
    await t.run(good, [container('second', { health: 'starting', startedAt: new Date(T0 + 2 * MIN).toISOString() })]);
    expect(t.calls.filter((c) => c.startsWith('remove'))).toEqual(['remove first']);
    expect(t.violations).toEqual(['app:stale', 'app:stale']);
    // after the window, one more try
    t.at(33 * MIN);
    await t.run(good, [container('second', { health: 'starting', startedAt: new Date(T0 + 2 * MIN).toISOString() })]);
    expect(t.calls.filter((c) => c.startsWith('remove'))).toEqual(['remove first', 'remove second']);
  });
});
