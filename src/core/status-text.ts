// The one-line summaries of a stack's status that stackctl's table and the status page both show: pure text
// from the status JSON and a clock passed in.
import type { ReconcileResult, StackStatus } from './model.js';

/** "now", "12s", "3m", "5h", "2d": coarse on purpose, it is read at a glance. Future times count as now. */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'now';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** "850ms", "4.2s", "3m05s", "1h02m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "ok 3m ago", "failed now", or "-" when the stack was never reconciled. */
export function formatLast(last: { result: string; finishedAt: string } | undefined, nowMs: number): string {
  if (!last) return '-';
  const at = Date.parse(last.finishedAt);
  if (Number.isNaN(at)) return last.result;
  const age = formatAge(nowMs - at);
  return `${last.result} ${age === 'now' ? 'now' : `${age} ago`}`;
}

/** Containers running / containers known, e.g. "2/3". */
export function containerCount(stack: StackStatus): string {
  const up = stack.containers.filter((c) => c.state === 'running').length;
  return `${up}/${stack.containers.length}`;
}

export type RemovedFromConfig = NonNullable<StackStatus['removedFromConfig']>;

/** What removedStacks does (done) or is doing (not done yet) with the containers of a stack that left the config. */
function containersFate({ action, done }: RemovedFromConfig): string {
  if (action === 'keep') return 'containers kept';
  if (action === 'stop') return done ? 'containers stopped' : 'stopping containers';
  return done ? 'containers removed' : 'removing containers';
}

/**
 * State, then what removedStacks did if the stack left the config, then the queue phase when not idle:
 * "converged", "failed (backoff)", "removed (left config; containers stopped)".
 */
export function formatState(stack: StackStatus): string {
  const notes: string[] = [];
  if (stack.removedFromConfig) notes.push(`left config; ${containersFate(stack.removedFromConfig)}`);
  if (stack.phase !== 'idle') notes.push(stack.phase);
  return notes.length ? `${stack.state} (${notes.join('; ')})` : stack.state;
}

/** `reasonCode: reason`, whichever of the two there is, or ''. */
export function reasonText(last: ReconcileResult | undefined): string {
  if (!last) return '';
  if (last.reasonCode && last.reason) return `${last.reasonCode}: ${last.reason}`;
  return last.reason ?? last.reasonCode ?? '';
}
