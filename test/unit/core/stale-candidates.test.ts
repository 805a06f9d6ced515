import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ComposeModel, ObservedContainer } from '../../../src/core/model.js';
import { parseInspect, parseInspectHealthcheck } from '../../../src/core/podman-parse.js';
import { findStaleInspected, mayBeStale } from '../../../src/core/stale-health.js';

// A container started with `--health-interval 1h --health-retries 2 --health-start-period 1s` whose check
// fails: `starting` in the lab, with its own spec in Config.Healthcheck.
const raw: unknown = JSON.parse(readFileSync(new URL('../../fixtures/libpod-inspect.hc-starting-interval-1h.json', import.meta.url), 'utf8'));
const container = parseInspect(raw);
const started = Date.parse(container.startedAt ?? '');
const FLOOR = 5_000;

describe('mayBeStale', () => {
  const base: ObservedContainer = { id: 'x', name: 'x', service: 's', project: 'p', state: 'running', exitCode: 0, health: 'starting', labels: {}, image: '' };
  it.each([
    [{}, true],
    [{ health: 'unhealthy' as const }, true],
    [{ health: 'healthy' as const }, false],
    [{ health: 'none' as const }, false],
    [{ state: 'exited' }, false],
  ])('%j → %s', (over, expected) => {
    expect(mayBeStale({ ...base, ...over })).toBe(expected);
  });
});

describe('findStaleInspected', () => {
  it('the fixture is starting with an 1h interval', () => {
    expect(container.health).toBe('starting');
    expect(parseInspectHealthcheck(raw)).toMatchObject({ intervalMs: 3_600_000, retries: 2, startPeriodMs: 1000 });
  });

  // threshold from the container's own spec: 1s + 1h × 3 + 30s
  const ownThreshold = 1000 + 3_600_000 * 3 + 30_000;
  it.each([
    ['just under its own threshold', ownThreshold - 1000, false],
    ['past its own threshold', ownThreshold + 1000, true],
  ])('own spec, %s → stale %s', (_what, ageMs, stale) => {
    const out = findStaleInspected([{ container, healthcheck: parseInspectHealthcheck(raw) }], undefined, {
      nowMs: started + ageMs, startingFloorMs: FLOOR, unhealthyAfterMs: 60_000,
    });
    expect(out.length).toBe(stale ? 1 : 0);
  });

  it('falls back to the compose model\'s healthcheck when inspect has none', () => {
    const model: ComposeModel = {
      project: 'p',
      services: [{ name: container.service, labels: {}, oneShot: false, profiles: [], healthcheck: { disabled: false, intervalMs: 2000, timeoutMs: 2000, retries: 3, startPeriodMs: 0 } }],
    };
    // 0 + 2s × 4 + 2s = 10s
    const at = (ms: number) => findStaleInspected([{ container, healthcheck: undefined }], model, { nowMs: started + ms, startingFloorMs: FLOOR, unhealthyAfterMs: 60_000 });
    expect(at(9_000)).toEqual([]);
    expect(at(11_000)[0]?.thresholdMs).toBe(10_000);
  });
});
