// What the HTTP layer (and so stackctl) may ask of the supervisor. The HTTP app gets an object of this
// shape as an argument; tests pass a fake one.
import { StackdError } from '../core/errors.js';
import type { Job, TaskKind } from '../core/job.js';
import type { StackAction, StackStatus } from '../core/model.js';

export type { StackAction };
export type { Job, JobKind, JobStatus, TaskKind } from '../core/job.js';

export interface Readiness {
  ready: boolean;
  podman: { reachable: boolean; version?: string; error?: string };
  /** the compose provider `podman compose` runs; ready is false unless it is docker-compose v2 */
  compose?: { ok: boolean; provider: string; detail: string };
  /** false while the state file is being loaded at start */
  stateLoaded?: boolean;
}

export class UnknownStackError extends StackdError {
  constructor(readonly stackName: string, known: string[]) {
    super('STACKD_UNKNOWN_STACK', `no stack named "${stackName}" in the config; known stacks: ${known.length ? known.join(', ') : '(none)'}`);
  }
}

/** A write arrived while stackd is stopping: it would be saved but never carried out, so it is refused (HTTP 503). */
export class ShuttingDownError extends StackdError {
  constructor() {
    super('STACKD_SHUTTING_DOWN', 'stackd is shutting down and accepts no new work; retry once it has restarted');
  }
}

export interface SupervisorApi {
  /** configured stacks, then stacks that left the config but still have containers (state `removed`) */
  listStacks(): StackStatus[];
  getStack(name: string): StackStatus | undefined;
  /**
   * Sets the desired state (up → running, stop → stopped, down → removed), persists it, and queues a reconcile.
   * Resolves once the desired state is saved (requests made while the state file loads wait for it).
   * Throws UnknownStackError, ShuttingDownError.
   */
  request(name: string, action: StackAction): Promise<Job>;
  /**
   * Starts a check, gc or update job; a second request while one of the same kind (and stack, and for update
   * the same dryRun) is running joins it. `dryRun` applies to update only (the registries are asked; nothing is
   * pulled or changed).
   */
  startJob(kind: TaskKind, stack?: string, options?: { dryRun?: boolean }): Job;
  getJob(id: string): Job | undefined;
  /**
   * Resolves when the job is done/failed, or after timeoutMs with its current state (long-poll); an aborted
   * `signal` ends the wait early, with the current state.
   */
  waitJob(id: string, timeoutMs: number, signal?: AbortSignal): Promise<Job | undefined>;
  readiness(): Promise<Readiness>;
}

/**
 * What the status feed announces (GET /v1/events): `stack` with the stack's status (the same JSON as
 * GET /v1/stacks/:name) whenever that JSON changes; `gone` when a stack is no longer listed at all.
 */
export type StackEvent = { kind: 'stack'; stack: StackStatus } | { kind: 'gone'; name: string };

/** The one emitter port of stack status changes; the HTTP layer subscribes, the supervisor's feed implements it. */
export interface StackEvents {
  /** Calls `listener` for every change from now on; returns the unsubscribe. */
  subscribe(listener: (event: StackEvent) => void): () => void;
}
