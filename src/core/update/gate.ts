// The health gate of an update: stackd runs it itself (no sdnotify), and it decides only whether an update
// stays or is rolled back — deploys are never gated on health.
//
// With a healthcheck, every updated container must be `healthy` by start_period + retries × interval +
// timeout + slack (the latest moment podman itself could call it healthy); still `starting` then is a failure.
// Without one: running, with an unchanged restart count, for `settle`. Either way a restart, an exit, or
// the container running another image than the one pulled fails the gate at once.
import type { HealthcheckSpec } from '../model.js';

export type GateSpec =
  | { kind: 'healthcheck'; deadlineMs: number; intervalMs: number; timeoutMs: number }
  | { kind: 'settle'; settleMs: number };

export function gateSpec(hc: HealthcheckSpec | undefined, settleMs: number, slackMs: number): GateSpec {
  if (!hc || hc.disabled) return { kind: 'settle', settleMs };
  return {
    kind: 'healthcheck',
    deadlineMs: hc.startPeriodMs + hc.retries * hc.intervalMs + hc.timeoutMs + slackMs,
    intervalMs: hc.intervalMs,
    timeoutMs: hc.timeoutMs,
  };
}

/** What one look at an updated container shows (from inspect). */
export interface GateSample {
  /** undefined: the container is gone */
  state?: string;
  health?: string;
  restartCount?: number;
  exitCode?: number;
  imageId?: string;
}

export type GateVerdict = { kind: 'pass' } | { kind: 'wait' } | { kind: 'fail'; reason: string };

export interface GateInput {
  spec: GateSpec;
  sample: GateSample;
  /** the image id the pull produced (or, for a rollback, the pinned one) */
  expectedImageId: string;
  /** restart count right after `up` */
  initialRestarts: number;
  /** ms since `up` finished */
  elapsedMs: number;
  /** ms the container has been running without a restart (settle) */
  runningForMs: number;
}

export function judgeGate(i: GateInput): GateVerdict {
  const s = i.sample;
  if (s.state === undefined) return { kind: 'fail', reason: 'the container is gone' };
  if (s.imageId !== undefined && !sameImage(s.imageId, i.expectedImageId)) {
    return { kind: 'fail', reason: `the container runs image ${short(s.imageId)}, not ${short(i.expectedImageId)}` };
  }
  if (s.state === 'restarting') return { kind: 'fail', reason: 'the container is restarting' };
  if (s.state !== 'running') return { kind: 'fail', reason: `the container is ${s.state}${s.exitCode !== undefined ? ` (exit ${s.exitCode})` : ''}` };
  if ((s.restartCount ?? 0) > i.initialRestarts) return { kind: 'fail', reason: `the container restarted ${(s.restartCount ?? 0) - i.initialRestarts} time(s)` };
  if (i.spec.kind === 'settle') {
    return i.runningForMs >= i.spec.settleMs ? { kind: 'pass' } : { kind: 'wait' };
  }
  if (s.health === 'healthy') return { kind: 'pass' };
  if (s.health === 'unhealthy') return { kind: 'fail', reason: 'its healthcheck failed (unhealthy)' };
  if (i.elapsedMs >= i.spec.deadlineMs) {
    return { kind: 'fail', reason: `still ${s.health ?? 'without health'} after ${Math.round(i.spec.deadlineMs / 1000)}s (start_period + retries × interval + timeout + slack)` };
  }
  return { kind: 'wait' };
}

/**
 * podman 19326: a container whose transient healthcheck timer is missing stays `starting` for ever. Once it has
 * been starting longer than one interval plus the check's timeout, the gate runs the check on demand.
 */
export function wantsOnDemandCheck(spec: GateSpec, health: string | undefined, elapsedMs: number): boolean {
  return spec.kind === 'healthcheck' && health === 'starting' && elapsedMs >= spec.intervalMs + spec.timeoutMs;
}

function sameImage(a: string, b: string): boolean {
  const x = a.replace(/^sha256:/, '');
  const y = b.replace(/^sha256:/, '');
  return x.startsWith(y) || y.startsWith(x);
}

function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** A gate sample from podman's container inspect (undefined inspect: the container is gone). */
export function gateSampleFromInspect(raw: unknown): GateSample {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as { State?: unknown; RestartCount?: unknown; Image?: unknown };
  const state = typeof r.State === 'object' && r.State !== null ? (r.State as Record<string, unknown>) : {};
  const health = typeof state['Health'] === 'object' && state['Health'] !== null ? (state['Health'] as Record<string, unknown>) : undefined;
  const out: GateSample = {};
  if (typeof state['Status'] === 'string') out.state = state['Status'];
  if (health && typeof health['Status'] === 'string' && health['Status'] !== '') out.health = health['Status'];
  if (typeof r.RestartCount === 'number') out.restartCount = r.RestartCount;
  if (typeof state['ExitCode'] === 'number') out.exitCode = state['ExitCode'];
  if (typeof r.Image === 'string') out.imageId = r.Image;
  return out;
}

/** The image id of podman's image inspect answer (Id), or undefined. */
export function imageIdOf(raw: unknown): string | undefined {
  return typeof raw === 'object' && raw !== null && 'Id' in raw && typeof raw.Id === 'string' ? raw.Id : undefined;
}
