import { describe, expect, it } from 'vitest';
import type { ExpectedService } from '../../../src/core/model.js';
import { decideRepair, type RepairInput } from '../../../src/core/repair.js';
import { NOW, container } from '../../support/builders.js';

const MIN = 60_000;
const web: ExpectedService = { name: 'web', labels: {}, oneShot: false, profiles: [] };
const killed = [container('web', { state: 'exited', exitCode: 137 })];

const input = (over: Partial<RepairInput> = {}): RepairInput => ({
  policy: 'reconcile', desired: 'running', phase: 'idle', expected: [web], containers: killed, nowMs: NOW, windowMs: 5 * MIN, ...over,
});

describe('decideRepair', () => {
  it.each<[string, Partial<RepairInput>, string]>([
    ['a killed container, reconcile, idle: repair', {}, 'act'],
    ['an unhealthy container: repair', { containers: [container('web', { health: 'unhealthy' })] }, 'act'],
    ['no container left of a service: repair', { containers: [] }, 'act'],
    ['repair: none: events only alert', { policy: 'none' }, 'policy'],
    ['everything running: nothing to do', { containers: [container('web')] }, 'fine'],
    ['starting is on its way, not broken', { containers: [container('web', { health: 'starting' })] }, 'fine'],
    ['a one-shot that finished is fine', { expected: [{ ...web, oneShot: true }], containers: [container('web', { state: 'exited', exitCode: 0 })] }, 'fine'],
    ['the owner stopped the stack', { desired: 'stopped' }, 'not-running'],
    ['the owner took it down', { desired: 'removed' }, 'not-running'],
    ['a reconcile is queued: it sees the containers itself', { phase: 'queued' }, 'busy'],
    ['a reconcile runs (compose recreating containers kills the old ones)', { phase: 'reconciling' }, 'busy'],
    ['an update holds the slot', { phase: 'updating' }, 'busy'],
    ['the queue backs off after a failure: its retry comes, not sooner', { phase: 'backoff' }, 'backoff'],
    ['repaired 1 min ago, window 5 min: not again', { lastRepairAtMs: NOW - MIN }, 'rate-limited'],
    ['repaired exactly one window ago: again', { lastRepairAtMs: NOW - 5 * MIN }, 'act'],
    ['repaired long ago: again', { lastRepairAtMs: NOW - 60 * MIN }, 'act'],
  ])('%s', (_name, over, want) => {
    const d = decideRepair(input(over));
    expect(d.act ? 'act' : d.why).toBe(want);
  });

  it('names what is broken, and when a rate-limited repair is allowed again', () => {
    const d = decideRepair(input({ lastRepairAtMs: NOW - MIN }));
    expect(d).toEqual({ act: false, why: 'rate-limited', broken: [{ service: 'web', kind: 'stopped', why: 'exited (code 137)' }], allowedAtMs: NOW + 4 * MIN });
    expect(decideRepair(input())).toEqual({ act: true, broken: [{ service: 'web', kind: 'stopped', why: 'exited (code 137)' }] });
  });
});
