import { readFileSync } from 'node:fs';
import { NOW, ago, container } from '../../support/builders.js';
import { describe, expect, it } from 'vitest';
import { healthchecksByService, parseComposeConfig } from '../../../src/core/compose-model.js';
import type { HealthcheckSpec, ObservedContainer } from '../../../src/core/model.js';
import { parseInspect } from '../../../src/core/podman-parse.js';
import { findStaleContainers, shouldRecheck, staleThresholdMs } from '../../../src/core/stale-health.js';

const S = 1000;
const MIN = 60 * S;
const hc = (over: Partial<HealthcheckSpec> = {}): HealthcheckSpec => ({
  disabled: false,
  intervalMs: 30 * S,
  timeoutMs: 30 * S,
  retries: 3,
  startPeriodMs: 0,
  ...over,
});
const ctr = (service: string, over: Partial<ObservedContainer>): ObservedContainer => container(service, over);

describe('staleThresholdMs = max(floor, startPeriod + interval × (retries + 1) + timeout)', () => {
  it.each<[string, HealthcheckSpec | undefined, number, number]>([
    ['podman defaults', hc(), 0, 0 + 30 * S * 4 + 30 * S],
    ['start period 60s, interval 10s, retries 3, timeout 5s', hc({ startPeriodMs: 60 * S, intervalMs: 10 * S, timeoutMs: 5 * S }), 0, 60 * S + 40 * S + 5 * S],
    ['the demo holder (5s, 2 retries, 2s start, 30s timeout)', hc({ intervalMs: 5 * S, retries: 2, startPeriodMs: 2 * S }), 0, 2 * S + 15 * S + 30 * S],
    ['floor wins over a short check', hc({ intervalMs: 1 * S, timeoutMs: 1 * S, retries: 1 }), 5 * MIN, 5 * MIN],
    ['check wins over the floor', hc({ startPeriodMs: 10 * MIN }), 5 * MIN, 10 * MIN + 150 * S],
    ['no compose healthcheck: defaults (the image may bring one)', undefined, 0, 150 * S],
    ['disabled: defaults', hc({ disabled: true, intervalMs: 1 }), 0, 150 * S],
  ])('%s', (_label, spec, floor, expected) => {
    expect(staleThresholdMs(spec, floor)).toBe(expected);
  });
});

describe('findStaleContainers', () => {
  const specs = { web: hc({ intervalMs: 10 * S, timeoutMs: 5 * S, retries: 3, startPeriodMs: 60 * S }) }; // 105 s
  const opts = { nowMs: NOW, startingFloorMs: 0, unhealthyAfterMs: 5 * MIN };
  const find = (c: ObservedContainer, o: Partial<typeof opts> = {}) => findStaleContainers([c], specs, { ...opts, ...o });

  it.each<[string, Partial<ObservedContainer>, string | undefined]>([
    ['starting 106 s > 105 s', { health: 'starting', startedAt: ago(106 * S) }, 'starting'],
    ['starting exactly 105 s is not yet stale', { health: 'starting', startedAt: ago(105 * S) }, undefined],
    ['starting 60 s', { health: 'starting', startedAt: ago(60 * S) }, undefined],
    ['starting, start time unknown', { health: 'starting', startedAt: undefined }, undefined],
    ['starting but not running', { health: 'starting', state: 'exited', startedAt: ago(MIN * 60) }, undefined],
    ['unhealthy 6 min since the failing streak began', { health: 'unhealthy', healthSince: ago(6 * MIN), startedAt: ago(60 * MIN) }, 'unhealthy'],
    ['unhealthy 4 min since the streak, though started an hour ago', { health: 'unhealthy', healthSince: ago(4 * MIN), startedAt: ago(60 * MIN) }, undefined],
    ['unhealthy, no healthSince: StartedAt 6 min ago', { health: 'unhealthy', startedAt: ago(6 * MIN) }, 'unhealthy'],
    ['unhealthy, no healthSince: StartedAt 4 min ago', { health: 'unhealthy', startedAt: ago(4 * MIN) }, undefined],
    ['unhealthy, no times at all', { health: 'unhealthy' }, undefined],
    ['healthy for an hour', { health: 'healthy', startedAt: ago(60 * MIN) }, undefined],
    ['no healthcheck', { health: 'none', startedAt: ago(60 * MIN) }, undefined],
  ])('%s → %s', (_label, over, expected) => {
    const out = find(ctr('web', over));
    expect(out.map((c) => c.health)).toEqual(expected ? [expected] : []);
  });

  it('reports since, for, threshold and a readable reason', () => {
    const [c] = find(ctr('web', { health: 'starting', startedAt: ago(412 * S) }));
    expect(c).toMatchObject({ sinceMs: NOW - 412 * S, forMs: 412 * S, thresholdMs: 105 * S, reason: 'health starting for 412s, longer than 105s' });
  });

  it('applies the floor to starting, not to unhealthy', () => {
    const c = ctr('web', { health: 'starting', startedAt: ago(200 * S) });
    expect(find(c, { startingFloorMs: 5 * MIN })).toEqual([]);
    expect(find(c, { startingFloorMs: 3 * MIN })).toHaveLength(1);
  });

  it('uses defaults for a service the compose model does not know', () => {
    const c = ctr('other', { health: 'starting', startedAt: ago(151 * S) });
    expect(find(c).map((x) => x.thresholdMs)).toEqual([150 * S]);
  });

  it('judges the captured fxtest containers', () => {
    const text = (name: string): string => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
    const specsFx = healthchecksByService(parseComposeConfig(text('compose-config.fxtest.json'), 'fxtest').services);
    const sick = parseInspect(JSON.parse(text('libpod-inspect.sick-unhealthy.json')) as unknown);
    const slow = parseInspect(JSON.parse(text('libpod-inspect.slow-starting.json')) as unknown);
    // sick's streak began 10:00:39.751Z; slow (1 h start period) started 10:00:28.890Z.
    const at = (iso: string) => findStaleContainers([sick, slow], specsFx, { nowMs: Date.parse(iso), startingFloorMs: 5 * MIN, unhealthyAfterMs: 5 * MIN });
    expect(at('2026-11-26T10:05:39Z')).toEqual([]);
    expect(at('2026-11-26T10:05:40Z').map((c) => c.container.service)).toEqual(['sick']);
    // slow: 1 h + 3 s × 4 + 2 s = 3614 s after 10:00:28.890Z
    expect(at('2026-11-26T11:00:42Z').map((c) => c.container.service)).toEqual(['sick']);
    expect(at('2026-11-26T11:00:43Z').map((c) => c.container.service)).toEqual(['sick', 'slow']);
  });
});

describe('shouldRecheck: once per container per window', () => {
  const last = new Map([['a', NOW - 10 * MIN]]);
  it.each([
    ['never rechecked', 'b', NOW, true],
    ['rechecked 10 min ago, window 15 min', 'a', NOW, false],
    ['exactly one window later', 'a', NOW + 5 * MIN, true],
    ['just inside the window', 'a', NOW + 5 * MIN - 1, false],
  ])('%s → %s', (_label, id, now, expected) => {
    expect(shouldRecheck(id, last, now, 15 * MIN)).toBe(expected);
  });
});
