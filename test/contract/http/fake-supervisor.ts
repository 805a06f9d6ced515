// An in-memory SupervisorApi for the HTTP and CLI contract tests: jobs finish when the test (or `onRequest`) says so.
import { ShuttingDownError, UnknownStackError } from '../../../src/supervisor/api.js';
import type { Job, JobKind, Readiness, StackAction, SupervisorApi, TaskKind } from '../../../src/supervisor/api.js';
import type { ReconcileResult, StackStatus } from '../../../src/core/model.js';

export function makeStack(name: string, overrides: Partial<StackStatus> = {}): StackStatus {
  return {
    name,
    project: name,
    unit: `${name}.service`,
    desired: 'running',
    phase: 'idle',
    health: 'healthy',
    state: 'converged',
    lastResult: okResult('2026-02-12T21:00:00.000Z'),
    containers: [
      { id: `${name}-1`, name: `${name}-app-1`, service: 'app', state: 'running', health: 'healthy' },
      { id: `${name}-2`, name: `${name}-db-1`, service: 'db', state: 'running', health: 'none' },
    ],
    ...overrides,
  };
}

export function okResult(finishedAt: string): ReconcileResult {
  return { result: 'ok', startedAt: finishedAt, finishedAt, durationMs: 4200 };
}

export class FakeSupervisor implements SupervisorApi {
  readonly jobs = new Map<string, Job>();
  readonly requests: { kind: JobKind; stack?: string }[] = [];
  readiness: () => Promise<Readiness> = async () => ({ ready: true, podman: { reachable: true, version: '5.4.2' } });
  /** caps every long-poll, like a daemon that answers early; lets tests see the client poll again */
  maxWaitMs = Infinity;
  waitCalls = 0;
  /** the wait (ms) each long-poll asked for */
  readonly waitRequests: number[] = [];
  /** like a stackd that got SIGTERM: stack actions are refused with ShuttingDownError */
  shuttingDown = false;
  /** called after a job is created; may finish it right away */
  onRequest: (job: Job) => void = () => undefined;
  #nextId = 1;
  readonly #waiters = new Map<string, (() => void)[]>();

  constructor(public stacks: StackStatus[]) {}

  listStacks(): StackStatus[] {
    return this.stacks;
  }

  getStack(name: string): StackStatus | undefined {
    return this.stacks.find((s) => s.name === name);
  }

  request(name: string, action: StackAction): Promise<Job> {
    if (!this.getStack(name)) throw new UnknownStackError(name, this.stacks.map((s) => s.name));
    if (this.shuttingDown) return Promise.reject(new ShuttingDownError());
    return Promise.resolve(this.#create(action, name));
  }

  /** what startJob was asked, for tests of the routes that start jobs */
  readonly jobRequests: { kind: TaskKind; stack?: string; dryRun?: boolean }[] = [];

  startJob(kind: TaskKind, stack?: string, options: { dryRun?: boolean } = {}): Job {
    if (stack !== undefined && !this.getStack(stack)) throw new UnknownStackError(stack, this.stacks.map((s) => s.name));
    this.jobRequests.push({ kind, ...(stack !== undefined ? { stack } : {}), ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}) });
    return this.#create(kind, stack);
  }

  getJob(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  waitJob(id: string, requestedMs: number, signal?: AbortSignal): Promise<Job | undefined> {
    this.waitCalls++;
    this.waitRequests.push(requestedMs);
    const timeoutMs = Math.min(requestedMs, this.maxWaitMs);
    const job = this.jobs.get(id);
    if (!job || job.status === 'done' || job.status === 'failed' || signal?.aborted) return Promise.resolve(job);
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', end);
        this.#waiters.set(id, (this.#waiters.get(id) ?? []).filter((w) => w !== end));
        resolve(this.jobs.get(id));
      };
      const timer = setTimeout(end, timeoutMs);
      signal?.addEventListener('abort', end, { once: true });
      this.#waiters.set(id, [...(this.#waiters.get(id) ?? []), end]);
    });
  }

  /** waits (POST ?wait= or GET long-polls) not yet answered */
  get openWaits(): number {
    return [...this.#waiters.values()].reduce((n, ws) => n + ws.length, 0);
  }

  finish(id: string, patch: Partial<Job>): void {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no job ${id}`);
    this.jobs.set(id, { ...job, status: 'done', finishedAt: '2026-02-12T21:00:05.000Z', ...patch });
    for (const w of this.#waiters.get(id) ?? []) w();
    this.#waiters.delete(id);
  }

  #create(kind: JobKind, stack: string | undefined): Job {
    const job: Job = { id: `job-${this.#nextId++}`, kind, status: 'queued', createdAt: '2026-02-12T21:00:00.000Z', ...(stack === undefined ? {} : { stack }) };
    this.jobs.set(job.id, job);
    this.requests.push({ kind, ...(stack === undefined ? {} : { stack }) });
    this.onRequest(job);
    return this.jobs.get(job.id) ?? job;
  }
}
