// A job as the API shows it: what a client follows by id (stack actions, check, gc, update). The shape lives in
// the core because both stackctl and stackd's text answers judge and word a finished job (core/verdict.ts).
import type { ReconcileResult, StackAction } from './model.js';

/**
 * POST /v1/stacks/:name/{up,stop,down}?wait=: one request holds the whole reconcile (a stack unit's curl), so its
 * cap is an hour: above any startupTimeout a stack sensibly has, below systemd's longest sensible start. Here in
 * the core because the unit renderer (core/systemd-units.ts) must never write a wait stackd would refuse.
 */
export const MAX_ACTION_WAIT_MS = 3_600_000;

export type JobKind = StackAction | 'check' | 'gc' | 'update';
/** Jobs that are not a stack action: they run a task and report its output. */
export type TaskKind = 'check' | 'gc' | 'update';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
  id: string;
  kind: JobKind;
  stack?: string;
  status: JobStatus;
  createdAt: string;
  finishedAt?: string;
  /** the verdict of the reconcile this job waited for (stack actions) */
  result?: ReconcileResult;
  /** a human-readable one-liner for failed jobs */
  error?: string;
  /** structured output of check/gc jobs */
  output?: unknown;
}
