// ONE queue for every stack's reconcile (DESIGN.md "One queue").
// - A stack is queued at most once. A trigger while it is queued joins that queued run; a trigger while it
//   runs schedules exactly one rerun, however many arrive.
// - Every waiter gets the verdict of the first reconcile that STARTS AFTER its request (so a caller never
//   gets a verdict computed from inputs older than its request).
// - Retry with capped exponential backoff lives here and only here; reconcilers never sleep or retry.
import PQueue from 'p-queue';
import { backoffDelay } from '../core/backoff.js';
import type { Phase, ReconcileResult } from '../core/model.js';

export type TriggerSource = 'start' | 'request' | 'resync' | 'config' | 'retry' | 'event';

export interface RunContext {
  stack: string;
  runId: string;
  /** why this run happens: the sources of every trigger it absorbed */
  sources: TriggerSource[];
  attempt: number;
}

export interface QueueOptions {
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  run: (ctx: RunContext) => Promise<ReconcileResult>;
  /** whether a failed result is worth retrying by itself (a config error is not: only a new config helps) */
  isRetryable: (result: ReconcileResult) => boolean;
  /** observer for phase changes, metrics and logs */
  onPhase?: (stack: string, phase: Phase, retryAt?: Date) => void;
  onResult?: (ctx: RunContext, result: ReconcileResult) => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => { cancel: () => void };
  newRunId?: () => string;
}

interface Waiter {
  resolve: (r: ReconcileResult) => void;
}

interface Entry {
  phase: Phase;
  running: boolean;
  /** waiters and sources for the next run that has not started yet */
  nextWaiters: Waiter[];
  nextSources: TriggerSource[];
  /** true when a run is in p-queue but not started, or one must follow the current run */
  nextScheduled: boolean;
  attempt: number;
  retryTimer?: { cancel: () => void };
  retryAt?: number;
}

const defaultTimer = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

let counter = 0;
const defaultRunId = () => `r${Date.now().toString(36)}${(counter++).toString(36)}`;

export class ReconcileQueue {
  private readonly pq: PQueue;
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly setTimer: NonNullable<QueueOptions['setTimer']>;
  private readonly newRunId: () => string;
  private closed = false;

  constructor(private readonly opts: QueueOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new TypeError(`Expected \`concurrency\` to be an integer from 1 and up, got \`${opts.concurrency}\``);
    }
    this.pq = new PQueue({ concurrency: opts.concurrency });
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? defaultTimer;
    this.newRunId = opts.newRunId ?? defaultRunId;
  }

  /** Queue a reconcile of `stack`; resolves with the verdict of the first run that starts after this call. */
  trigger(stack: string, source: TriggerSource): Promise<ReconcileResult> {
    if (this.closed) return Promise.reject(new Error('stackd is shutting down; not queuing more work'));
    const e = this.entry(stack);
    const verdict = new Promise<ReconcileResult>((resolve) => e.nextWaiters.push({ resolve }));
    e.nextSources.push(source);
    if (source !== 'retry' && e.retryTimer) {
      // An explicit trigger runs now rather than waiting out the backoff; the attempt count stays, so a
      // repeated failure still backs off further.
      e.retryTimer.cancel();
      e.retryTimer = undefined;
      e.retryAt = undefined;
    }
    this.schedule(stack, e);
    return verdict;
  }

  /** Like trigger, but without a waiter: for resyncs and events. Skips stacks waiting out a backoff. */
  poke(stack: string, source: TriggerSource): void {
    const e = this.entry(stack);
    if (e.retryTimer || e.nextScheduled) return;
    e.nextSources.push(source);
    this.schedule(stack, e);
  }

  phase(stack: string): { phase: Phase; retryAt?: string } {
    const e = this.entries.get(stack);
    if (!e) return { phase: 'idle' };
    return e.retryAt !== undefined ? { phase: e.phase, retryAt: new Date(e.retryAt).toISOString() } : { phase: e.phase };
  }

  get depth(): number {
    return this.pq.size + this.pq.pending;
  }

  /** Forget a stack removed from the config (its pending waiters get nothing new queued). */
  forget(stack: string): void {
    const e = this.entries.get(stack);
    e?.retryTimer?.cancel();
    if (e && !e.running && !e.nextScheduled) this.entries.delete(stack);
  }

  /** Stop accepting work, cancel retries, and wait for running reconciles to finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.entries.values()) e.retryTimer?.cancel();
    this.pq.clear();
    await this.pq.onIdle();
  }

  private entry(stack: string): Entry {
    let e = this.entries.get(stack);
    if (!e) {
      e = { phase: 'idle', running: false, nextWaiters: [], nextSources: [], nextScheduled: false, attempt: 0 };
      this.entries.set(stack, e);
    }
    return e;
  }

  private setPhase(stack: string, e: Entry, phase: Phase): void {
    e.phase = phase;
    this.opts.onPhase?.(stack, phase, e.retryAt !== undefined ? new Date(e.retryAt) : undefined);
  }

  private schedule(stack: string, e: Entry): void {
    if (e.nextScheduled) return; // already queued, or a rerun already follows the current run
    e.nextScheduled = true;
    if (e.running) return; // the current run enqueues its follower when it ends
    this.enqueue(stack, e);
  }

  private enqueue(stack: string, e: Entry): void {
    if (!e.running) this.setPhase(stack, e, 'queued');
    void this.pq.add(() => this.runOnce(stack, e)).catch(() => {
      // p-queue rejects only when cleared at shutdown; waiters then never get a verdict from this run.
    });
  }

  private async runOnce(stack: string, e: Entry): Promise<void> {
    // Take the waiters now: triggers from here on belong to the next run.
    const waiters = e.nextWaiters;
    const sources = e.nextSources;
    e.nextWaiters = [];
    e.nextSources = [];
    e.nextScheduled = false;
    e.running = true;
    e.retryAt = undefined;
    this.setPhase(stack, e, 'reconciling');
    const ctx: RunContext = { stack, runId: this.newRunId(), sources, attempt: e.attempt + 1 };
    let result: ReconcileResult;
    const startedAt = this.now();
    try {
      result = await this.opts.run(ctx);
    } catch (err) {
      // A reconciler should return failures as data; a throw is a bug, reported as such and retried.
      const finishedAt = this.now();
      result = {
        result: 'failed',
        reasonCode: 'internal',
        reason: `internal error: ${err instanceof Error ? err.message : String(err)}`,
        startedAt: new Date(startedAt).toISOString(),
        finishedAt: new Date(finishedAt).toISOString(),
        durationMs: finishedAt - startedAt,
      };
    }
    e.running = false;
    this.opts.onResult?.(ctx, result);
    for (const w of waiters) w.resolve(result);

    if (result.result === 'failed' && this.opts.isRetryable(result)) {
      e.attempt += 1;
    } else {
      e.attempt = 0;
    }

    if (e.nextScheduled) {
      this.enqueue(stack, e);
      return;
    }
    if (e.attempt > 0 && !this.closed) {
      const delay = backoffDelay(e.attempt, this.opts.retryBaseMs, this.opts.retryMaxMs);
      e.retryAt = this.now() + delay;
      this.setPhase(stack, e, 'backoff');
      e.retryTimer = this.setTimer(() => {
        e.retryTimer = undefined;
        e.nextSources.push('retry');
        this.schedule(stack, e);
      }, delay);
      return;
    }
    this.setPhase(stack, e, 'idle');
  }
}
