// Long operations run as jobs that clients follow by id (long-poll), so no client timeout cuts them off.
// The table stays bounded: requests that would only repeat an unfinished job join it (a stack action joins the
// stack's queued job of the same kind; check/gc join a running one), and finished jobs are forgotten oldest
// first past KEEP_FINISHED. Each create is O(1) amortized, whatever the backlog.
import { randomUUID } from 'node:crypto';
import type { Job, JobKind } from './api.js';

/** Finished jobs kept for lookups; older ones are forgotten first. */
export const KEEP_FINISHED = 500;

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private readonly waiters = new Map<string, Set<(job: Job) => void>>();
  /** finished job ids, oldest first */
  private readonly finished: string[] = [];
  private finishedHead = 0;
  /** the newest unfinished job per kind+stack, for joining */
  private readonly open = new Map<string, string>();
  /** job id → its key in `open`, while unfinished */
  private readonly openKeyOf = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now, private readonly newId: () => string = randomUUID) {}

  /** `variant`: requests of one kind and stack that must not answer each other (an update and a dry run). */
  create(kind: JobKind, stack?: string, variant = ''): Job {
    const job: Job = { id: this.newId(), kind, status: 'queued', createdAt: new Date(this.now()).toISOString(), ...(stack ? { stack } : {}) };
    this.jobs.set(job.id, job);
    const key = openKey(kind, stack, variant);
    this.open.set(key, job.id);
    this.openKeyOf.set(job.id, key);
    return { ...job };
  }

  /**
   * The newest unfinished job of this kind (and stack) whose status is one of `statuses`, if any: a new request
   * joins it instead of creating another.
   */
  joinable(kind: JobKind, stack: string | undefined, statuses: readonly Job['status'][], variant = ''): Job | undefined {
    const id = this.open.get(openKey(kind, stack, variant));
    const j = id === undefined ? undefined : this.jobs.get(id);
    return j && j.kind === kind && statuses.includes(j.status) ? { ...j } : undefined;
  }

  get(id: string): Job | undefined {
    const j = this.jobs.get(id);
    return j ? { ...j } : undefined;
  }

  get size(): number {
    return this.jobs.size;
  }

  update(id: string, patch: Partial<Job>): void {
    const j = this.jobs.get(id);
    if (!j || isFinished(j)) return;
    Object.assign(j, patch);
    if (isFinished(j)) {
      j.finishedAt ??= new Date(this.now()).toISOString();
      const key = this.openKeyOf.get(id);
      this.openKeyOf.delete(id);
      if (key !== undefined && this.open.get(key) === id) this.open.delete(key);
      const ws = this.waiters.get(id);
      this.waiters.delete(id);
      for (const w of ws ?? []) w({ ...j });
      this.finished.push(id);
      this.trim();
    }
  }

  /**
   * Resolves when the job finishes, or after timeoutMs (or when `signal` aborts: the client went away, stackd
   * closes its API) with its state then. An ended wait leaves no waiter or timer behind.
   */
  wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<Job | undefined> {
    const j = this.jobs.get(id);
    if (!j) return Promise.resolve(undefined);
    if (j.status === 'done' || j.status === 'failed' || timeoutMs <= 0 || signal?.aborted) return Promise.resolve({ ...j });
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const end = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', stop);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
      };
      const done = (job: Job) => {
        end();
        resolve(job);
      };
      const stop = () => {
        end();
        resolve(this.get(id));
      };
      const timer = setTimeout(stop, timeoutMs);
      signal?.addEventListener('abort', stop, { once: true });
      set.add(done);
    });
  }

  private trim(): void {
    while (this.finished.length - this.finishedHead > KEEP_FINISHED) {
      const id = this.finished[this.finishedHead];
      this.finishedHead += 1;
      if (id !== undefined) this.jobs.delete(id);
    }
    // compact the id list now and then, so it does not grow with every job ever finished
    if (this.finishedHead > KEEP_FINISHED) {
      this.finished.splice(0, this.finishedHead);
      this.finishedHead = 0;
    }
  }
}

function isFinished(j: Job): boolean {
  return j.status === 'done' || j.status === 'failed';
}

// A stack's up/stop/down share one slot: only the newest action of a stack may be joined, so `up` after `stop`
// never joins an `up` queued before the `stop`.
function openKey(kind: JobKind, stack: string | undefined, variant: string): string {
  const slot = kind === 'check' || kind === 'gc' || kind === 'update' ? kind : 'stack';
  return `${slot}\u0000${stack ?? ''}\u0000${variant}`;
}
