// Long operations run as jobs that clients follow by id (long-poll), so no client timeout cuts them off.
import { randomUUID } from 'node:crypto';
import type { Job, JobKind } from './api.js';

/** Finished jobs kept for lookups; older ones are forgotten first. */
const KEEP_FINISHED = 500;

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private readonly waiters = new Map<string, Set<(job: Job) => void>>();

  constructor(private readonly now: () => number = Date.now) {}

  create(kind: JobKind, stack?: string): Job {
    const job: Job = { id: randomUUID(), kind, status: 'queued', createdAt: new Date(this.now()).toISOString(), ...(stack ? { stack } : {}) };
    this.jobs.set(job.id, job);
    this.trim();
    return job;
  }

  get(id: string): Job | undefined {
    const j = this.jobs.get(id);
    return j ? { ...j } : undefined;
  }

  update(id: string, patch: Partial<Job>): void {
    const j = this.jobs.get(id);
    if (!j) return;
    Object.assign(j, patch);
    if (j.status === 'done' || j.status === 'failed') {
      j.finishedAt ??= new Date(this.now()).toISOString();
      const ws = this.waiters.get(id);
      this.waiters.delete(id);
      for (const w of ws ?? []) w({ ...j });
    }
  }

  /** Resolves when the job finishes, or after timeoutMs with its state then. */
  wait(id: string, timeoutMs: number): Promise<Job | undefined> {
    const j = this.jobs.get(id);
    if (!j) return Promise.resolve(undefined);
    if (j.status === 'done' || j.status === 'failed' || timeoutMs <= 0) return Promise.resolve({ ...j });
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = (job: Job) => {
        clearTimeout(timer);
        resolve(job);
      };
      const timer = setTimeout(() => {
        set.delete(done);
        resolve(this.get(id));
      }, timeoutMs);
      set.add(done);
    });
  }

  private trim(): void {
    if (this.jobs.size <= KEEP_FINISHED) return;
    for (const [id, j] of this.jobs) {
      if (this.jobs.size <= KEEP_FINISHED) break;
      if (j.status === 'done' || j.status === 'failed') this.jobs.delete(id);
    }
  }
}
