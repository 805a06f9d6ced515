// The health watch window after a deploy (DESIGN.md: deploys never wait for health; a watch window follows).
// A deploy (a reconcile that ran `compose up`, or an update apply) opens a window of the stack's healthWindow.
// At its end the stack is judged once: every service fine → nothing; a service not healthy (without a
// healthcheck: not running) → ONE alert. Once alerted, the first observation with every service fine is ONE
// recovery. A later deploy while alerted opens a new window but does not alert again (the owner already knows);
// it still recovers as soon as everything is fine. Pure: the shell keeps the state, observes, and sets a timer
// for `checkAtMs`.
import type { DesiredState, ExpectedService, ObservedContainer } from './model.js';

/** What the watch remembers of one stack between observations. */
export interface WatchState {
  /** epoch ms the last deploy finished (the window's start); undefined: no deploy seen yet */
  deployAtMs?: number;
  /** that deploy's window, ms (the stack's healthWindow when it deployed); 0 = no window */
  windowMs: number;
  /** the end of the last deploy's window has been judged (or there is nothing left to judge) */
  judged: boolean;
  /** an alert went out and no recovery since (the metric is 1) */
  alerted: boolean;
}

export const IDLE_WATCH: WatchState = { windowMs: 0, judged: true, alerted: false };

/** A service the window found not fine, and why, in words for the message. */
export interface UnwellService {
  service: string;
  /** unhealthy; starting (not healthy yet); stopped (exited or otherwise not running); missing (no container) */
  kind: 'unhealthy' | 'starting' | 'stopped' | 'missing';
  why: string;
}

export type WatchVerdict =
  | { kind: 'none' }
  /** the window ended with these services not fine: one message, metric 1 */
  | { kind: 'alert'; unwell: UnwellService[] }
  /** every service fine again after an alert: one message, metric 0 */
  | { kind: 'recover' }
  /** the owner stopped or removed the stack while alerted: metric 0, no message (nothing recovered) */
  | { kind: 'cleared' };

export interface WatchInput {
  nowMs: number;
  desired: DesiredState;
  expected: readonly ExpectedService[];
  /** undefined until podman was first asked */
  containers: readonly ObservedContainer[] | undefined;
}

export interface WatchStep {
  next: WatchState;
  verdict: WatchVerdict;
  /** when the shell must look again even without a new observation (the window's end) */
  checkAtMs?: number;
}

/** A deploy finished at `atMs`: a new window opens; an alert already out stays out until recovery. */
export function openWindow(state: WatchState, atMs: number, windowMs: number): WatchState {
  return { deployAtMs: atMs, windowMs: Math.max(0, windowMs), judged: windowMs <= 0, alerted: state.alerted };
}

/** One step of the watch: the state after looking at the stack now, what to announce, when to look again. */
export function stepWatch(state: WatchState, input: WatchInput): WatchStep {
  if (input.desired !== 'running') {
    // the owner's stop or down ends any watch; an alert out is withdrawn without a "recovered" message
    const next: WatchState = { ...state, judged: true, alerted: false };
    return { next, verdict: state.alerted ? { kind: 'cleared' } : { kind: 'none' } };
  }
  const end = state.deployAtMs === undefined || state.judged ? undefined : state.deployAtMs + state.windowMs;
  // a window still open is looked at again when it ends, observed or not
  const later = end !== undefined && input.nowMs < end ? { checkAtMs: end } : {};
  if (input.containers === undefined) return { next: state, verdict: { kind: 'none' }, ...later };
  const unwell = unwellServices(input.expected, input.containers);
  if (state.alerted) {
    // the owner knows already: a new deploy's window does not alert again; recovery is what is awaited
    if (unwell.length > 0) return { next: { ...state, judged: true }, verdict: { kind: 'none' } };
    return { next: { ...state, alerted: false, judged: true }, verdict: { kind: 'recover' } };
  }
  if (end === undefined) return { next: state, verdict: { kind: 'none' } };
  if (input.nowMs < end) return { next: state, verdict: { kind: 'none' }, ...later };
  if (unwell.length === 0) return { next: { ...state, judged: true }, verdict: { kind: 'none' } };
  return { next: { ...state, judged: true, alerted: true }, verdict: { kind: 'alert', unwell } };
}

/**
 * The services that are not fine, in the model's order, then services of the project the model does not name.
 * Fine: a running container that is healthy, or has no healthcheck verdict (none, reset, stopped); a one-shot
 * also when a container of it exited 0. Not fine: unhealthy, still starting, exited, or no container at all.
 * Containers of services the model does not name (a profile turned off, leftovers) count only while they run.
 */
export function unwellServices(expected: readonly ExpectedService[], containers: readonly ObservedContainer[]): UnwellService[] {
  const out: UnwellService[] = [];
  for (const svc of expected) {
    const mine = containers.filter((c) => c.service === svc.name);
    if (mine.some((c) => fine(c) || (svc.oneShot && c.state === 'exited' && c.exitCode === 0))) continue;
    out.push(mine.length === 0 ? { service: svc.name, kind: 'missing', why: 'no container' } : { service: svc.name, ...worst(mine) });
  }
  const named = new Set(expected.map((s) => s.name));
  const others = new Map<string, ObservedContainer[]>();
  for (const c of containers) {
    if (named.has(c.service) || c.state !== 'running') continue;
    others.set(c.service, [...(others.get(c.service) ?? []), c]);
  }
  for (const [service, mine] of others) if (!mine.some(fine)) out.push({ service: service || '(no service label)', ...worst(mine) });
  return out;
}

function fine(c: ObservedContainer): boolean {
  return c.state === 'running' && c.health !== 'unhealthy' && c.health !== 'starting';
}

/** The most telling reason among a service's containers (at least one): unhealthy, starting, how it stopped. */
function worst(containers: readonly ObservedContainer[]): Omit<UnwellService, 'service'> {
  const running = containers.filter((c) => c.state === 'running');
  if (running.some((c) => c.health === 'unhealthy')) return { kind: 'unhealthy', why: 'unhealthy' };
  if (running.some((c) => c.health === 'starting')) return { kind: 'starting', why: 'not healthy yet (starting)' };
  const c = containers[0];
  const why = c === undefined ? 'no container' : c.state === 'exited' ? `exited (code ${c.exitCode})` : `not running (${c.state})`;
  return { kind: 'stopped', why };
}
