// What the HTTP layer (and so stackctl) may ask of the supervisor. The HTTP app gets an object of this
// shape as an argument; tests pass a fake one.
import type { ReconcileResult, StackStatus } from '../core/model.js';

export type StackAction = 'up' | 'stop' | 'down';
export type JobKind = StackAction | 'check' | 'gc';
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

export interface Readiness {
  ready: boolean;
  podman: { reachable: boolean; version?: string; error?: string };
}

export class UnknownStackError extends Error {
  readonly code = 'STACKD_UNKNOWN_STACK';
  constructor(readonly stackName: string, known: string[]) {
    super(`no stack named "${stackName}" in the config; known stacks: ${known.length ? known.join(', ') : '(none)'}`);
  }
}

export interface SupervisorApi {
  listStacks(): StackStatus[];
  getStack(name: string): StackStatus | undefined;
  /** Sets the desired state (up → running, stop/down → stopped) and queues a reconcile. Throws UnknownStackError. */
  request(name: string, action: StackAction): Job;
  /** Starts a check or gc job. */
  startJob(kind: 'check' | 'gc', stack?: string): Job;
  getJob(id: string): Job | undefined;
  /** Resolves when the job is done/failed, or after timeoutMs with its current state (long-poll). */
  waitJob(id: string, timeoutMs: number): Promise<Job | undefined>;
  readiness(): Promise<Readiness>;
}
