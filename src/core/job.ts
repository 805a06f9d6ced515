// A job as the API shows it: what a client follows by id (stack actions, check, gc, update). The shape lives in
// the core because both stackctl and stackd's text answers judge and word a finished job (core/verdict.ts).
import type { ReconcileResult, StackAction } from './model.js';

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
