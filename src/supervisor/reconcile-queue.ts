// ONE queue for every stack's reconcile (DESIGN.md "One queue").
// - A stack is queued at most once. A trigger while it is queued joins that queued run; a trigger while it
//   runs schedules exactly one rerun, however many arrive.
// - Every waiter gets the verdict of the first reconcile that STARTS AFTER its request (so a caller never
//   gets a verdict computed from inputs older than its request).
// - Retry with capped exponential backoff lives here and only here; reconcilers never sleep or retry. WHICH
//   failures are retried by the clock is core's one table (retriesByClock in core/reason-codes.ts); the delay is
//   jittered so stacks that failed together (podman restarted) do not retry in lockstep.
import PQueue from 'p-queue';
import { backoffDelay } from '../core/backoff.js';
import type { Phase, ReconcileResult } from '../core/model.js';
import { InvalidOptionError } from '../core/errors.js';
import { retriesByClock } from '../core/reason-codes.js';

/** podman-back: podman answers again, and the stack's backoff waited only for that (its last failure was podman-unreachable) */
export type TriggerSource = 'start' | 'request' | 'resync' | 'config' | 'retry' | 'event' | 'podman-back';

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
  /** [0, 1) for the backoff's jitter; default Math.random */
  random?: () => number;
  /** observer for phase changes, metrics and logs */
  onPhase?: (stack: string, phase: Phase, retryAt?: Date) => void;
  onResult?: (ctx: RunContext, result: ReconcileResult) => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => { cancel: () => void };
  newRunId?: () => string;
}

interface Waiter {
  resolve: (r: ReconcileResult) => void;
  /** told when the run that will answer this waiter starts */
  onStart?: () => void;
}

/** Sources that only say "look again": they never cut a backoff short (a request or a new config does). */
const PASSIVE: ReadonlySet<TriggerSource> = new Set(['resync', 'event']);

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
  /** a reconcile or an exclusive task holds the stack's slot */
  busy: boolean;
  lockWaiters: (() => void)[];
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
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly opts: QueueOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new InvalidOptionError('concurrency', 'an integer from 1 and up', opts.concurrency);
    }
    this.pq = new PQueue({ concurrency: opts.concurrency });
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? defaultTimer;
    this.newRunId = opts.newRunId ?? defaultRunId;
    this.random = opts.random ?? Math.random;
  }

  /** Queue a reconcile of `stack`; resolves with the verdict of the first run that starts after this call. */
  trigger(stack: string, source: TriggerSource, hooks: { onStart?: () => void } = {}): Promise<ReconcileResult> {
    if (this.closed) return Promise.reject(new Error('stackd is shutting down; not queuing more work'));
    const e = this.entry(stack);
    const verdict = new Promise<ReconcileResult>((resolve) => e.nextWaiters.push({ resolve, ...(hooks.onStart ? { onStart: hooks.onStart } : {}) }));
    e.nextSources.push(source);
    this.cutBackoff(e, source);
    this.schedule(stack, e);
    return verdict;
  }

  /**
   * Like trigger, but without a waiter. A resync or an event leaves a stack waiting out its backoff alone; a new
   * config or the daemon's start runs it now (the config may be the fix the failure was waiting for).
   */
  poke(stack: string, source: TriggerSource): void {
    if (this.closed) return;
    const e = this.entry(stack);
    if (e.retryTimer && PASSIVE.has(source)) return;
    this.cutBackoff(e, source);
    if (e.nextScheduled) return;
    e.nextSources.push(source);
    this.schedule(stack, e);
  }

  /** An active trigger runs now; the attempt count stays, so a repeated failure still backs off further. */
  private cutBackoff(e: Entry, source: TriggerSource): void {
    if (source === 'retry' || PASSIVE.has(source) || !e.retryTimer) return;
    e.retryTimer.cancel();
    e.retryTimer = undefined;
    e.retryAt = undefined;
  }

  phase(stack: string): { phase: Phase; retryAt?: string } {
    const e = this.entries.get(stack);
    if (!e) return { phase: 'idle' };
    return e.retryAt !== undefined ? { phase: e.phase, retryAt: new Date(e.retryAt).toISOString() } : { phase: e.phase };
  }

  /** How many reconciles may run at once; a change applies as running ones end (p-queue starts more at once). */
  get concurrency(): number {
    return this.pq.concurrency;
  }

  setConcurrency(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new InvalidOptionError('concurrency', 'an integer from 1 and up', n);
    this.pq.concurrency = n;
  }

  get depth(): number {
    return this.pq.size + this.pq.pending;
  }

  /**
   * Runs `task` in the stack's slot: it takes one of the queue's workers like a reconcile, never overlaps a
   * reconcile of the same stack (it waits for a running one), and a reconcile triggered meanwhile runs right
   * after it — an update and a reconcile of one stack never interleave.
   */
  runExclusive<T>(stack: string, phase: Phase, task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('stackd is shutting down; not queuing more work'));
    const e = this.entry(stack);
    return new Promise<T>((resolve, reject) => {
      void this.pq.add(async () => {
        await this.lock(e, async () => {
          e.running = true;
          const before = e.phase;
          this.setPhase(stack, e, phase);
          try {
            resolve(await task());
          } catch (err) {
            reject(err);
          } finally {
            e.running = false;
            if (e.nextScheduled && !this.closed) this.enqueue(stack, e);
            else this.setPhase(stack, e, e.retryTimer ? 'backoff' : before === 'backoff' ? 'backoff' : 'idle');
          }
        });
      }).catch(reject);
    });
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
      e = { phase: 'idle', running: false, nextWaiters: [], nextSources: [], nextScheduled: false, attempt: 0, busy: false, lockWaiters: [] };
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

  /** One holder of a stack's slot at a time (a reconcile or an exclusive task), in arrival order. */
  private async lock(e: Entry, fn: () => Promise<void>): Promise<void> {
    // a free slot is taken at once (no extra tick); a busy one is handed over in arrival order
    if (e.busy) await new Promise<void>((resolve) => e.lockWaiters.push(resolve));
    e.busy = true;
    try {
      await fn();
    } finally {
      const next = e.lockWaiters.shift();
      if (next) next();
      else e.busy = false;
    }
  }

  private runOnce(stack: string, e: Entry): Promise<void> {
    return this.lock(e, () => this.runLocked(stack, e));
  }

  private async runLocked(stack: string, e: Entry): Promise<void> {
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
    for (const w of waiters) w.onStart?.();
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

    if (result.result === 'failed' && retriesByClock(result.reasonCode)) {
      e.attempt += 1;
    } else {
      e.attempt = 0;
    }

    if (this.closed) {
      // shutting down: no follow-up run and no retry starts after close()
      this.setPhase(stack, e, 'idle');
      return;
    }
    if (e.nextScheduled) {
      this.enqueue(stack, e);
      return;
    }
    if (e.attempt > 0) {
      const delay = backoffDelay(e.attempt, this.opts.retryBaseMs, this.opts.retryMaxMs, this.random);
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
