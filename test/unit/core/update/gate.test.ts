import { describe, expect, it } from 'vitest';
import { gateSampleFromInspect, gateSpec, imageIdOf, judgeGate, wantsOnDemandCheck, type GateInput } from '../../../../src/core/update/gate.js';

const HC = { disabled: false, intervalMs: 10_000, timeoutMs: 5_000, retries: 3, startPeriodMs: 20_000 };

describe('gateSpec', () => {
  it('with a healthcheck: start_period + retries × interval + timeout + slack', () => {
    expect(gateSpec(HC, 120_000, 15_000)).toEqual({ kind: 'healthcheck', deadlineMs: 20_000 + 30_000 + 5_000 + 15_000, intervalMs: 10_000, timeoutMs: 5_000 });
  });
  it.each([undefined, { ...HC, disabled: true }])('without one (%j): settle', (hc) => {
    expect(gateSpec(hc, 120_000, 15_000)).toEqual({ kind: 'settle', settleMs: 120_000 });
  });
});

const base = (over: Partial<GateInput>): GateInput => ({
  spec: gateSpec(HC, 120_000, 15_000),
  sample: { state: 'running', health: 'starting', restartCount: 0, imageId: 'sha256:abc123' },
  expectedImageId: 'abc123',
  initialRestarts: 0,
  elapsedMs: 1000,
  runningForMs: 1000,
  ...over,
});

describe('judgeGate', () => {
  it.each<[string, Partial<GateInput>, string]>([
    ['healthy passes', { sample: { state: 'running', health: 'healthy', restartCount: 0, imageId: 'abc123' } }, 'pass'],
    ['starting before the deadline waits', {}, 'wait'],
    ['starting at the deadline fails', { elapsedMs: 70_000 }, 'fail:still starting after 70s'],
    ['unhealthy fails at once', { sample: { state: 'running', health: 'unhealthy', restartCount: 0 } }, 'fail:unhealthy'],
    ['restarting fails', { sample: { state: 'restarting', restartCount: 1 } }, 'fail:restarting'],
    ['an exit fails, naming the code', { sample: { state: 'exited', exitCode: 3 } }, 'fail:exited (exit 3)'],
    ['a growing restart count fails', { sample: { state: 'running', health: 'healthy', restartCount: 2 }, initialRestarts: 1 }, 'fail:restarted 1 time'],
    ['another image fails', { sample: { state: 'running', health: 'healthy', imageId: 'sha256:ffff' } }, 'fail:runs image ffff'],
    ['gone fails', { sample: {} }, 'fail:gone'],
    ['settle: running long enough passes', { spec: { kind: 'settle', settleMs: 60_000 }, sample: { state: 'running', restartCount: 0 }, runningForMs: 60_000 }, 'pass'],
    ['settle: not yet waits', { spec: { kind: 'settle', settleMs: 60_000 }, sample: { state: 'running', restartCount: 0 }, runningForMs: 59_999 }, 'wait'],
    ['settle: a restart fails', { spec: { kind: 'settle', settleMs: 60_000 }, sample: { state: 'running', restartCount: 1 } }, 'fail:restarted'],
  ])('%s', (_what, over, expected) => {
    const v = judgeGate(base(over));
    if (expected.startsWith('fail:')) {
      expect(v.kind).toBe('fail');
      if (v.kind === 'fail') expect(v.reason).toContain(expected.slice(5));
    } else {
      expect(v.kind).toBe(expected);
    }
  });
});

describe('wantsOnDemandCheck (podman 19326: a missing healthcheck timer)', () => {
  const spec = gateSpec(HC, 120_000, 15_000);
  it.each([
    ['starting, before interval + timeout', 'starting', 14_999, false],
    ['starting, after interval + timeout', 'starting', 15_000, true],
    ['healthy', 'healthy', 60_000, false],
  ] as const)('%s → %s', (_what, health, elapsed, expected) => {
    expect(wantsOnDemandCheck(spec, health, elapsed)).toBe(expected);
  });
  it('never without a healthcheck', () => {
    expect(wantsOnDemandCheck({ kind: 'settle', settleMs: 1 }, 'starting', 1e9)).toBe(false);
  });
});

describe('gateSampleFromInspect', () => {
  it('reads state, health, restarts, exit code and image id from a libpod inspect', () => {
    const raw = { Id: 'c1', Image: 'sha256:img', RestartCount: 2, State: { Status: 'running', ExitCode: 0, Health: { Status: 'healthy' } } };
    expect(gateSampleFromInspect(raw)).toEqual({ state: 'running', health: 'healthy', restartCount: 2, exitCode: 0, imageId: 'sha256:img' });
  });
  it('a container without a healthcheck has no health; a gone one is empty', () => {
    expect(gateSampleFromInspect({ State: { Status: 'exited', ExitCode: 1, Health: { Status: '' } } })).toEqual({ state: 'exited', exitCode: 1 });
    expect(gateSampleFromInspect(undefined)).toEqual({});
  });
  it('imageIdOf', () => {
    expect(imageIdOf({ Id: 'abc' })).toBe('abc');
    expect(imageIdOf(undefined)).toBeUndefined();
  });
});
