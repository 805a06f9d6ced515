// Runs a task once things have been quiet for a while: every poke pushes the run back by `quietMs`, but never
// past `maxWaitMs` after the first poke of a round, so a steady stream of pokes still gets a run.
//
// Why: the healthcheck-timer GC a reconcile asks for lists every user unit and every container. At a rebuild
// 20 reconciles end within seconds, and one GC after each (even coalesced, they ran back to back) spent podman's
// and systemd's CPU exactly while the next stacks were being created. Timers leak slowly (a recreated
// container's), so one GC after the burst finds the same orphans.
export interface AfterQuietOptions {
  quietMs: number;
  maxWaitMs: number;
  run: () => Promise<unknown>;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => { cancel: () => void };
}

const unrefTimer = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

export class AfterQuiet {
  private timer?: { cancel: () => void };
  private firstPokeAt?: number;
  private running?: Promise<unknown>;
  private stopped = false;
  private readonly now: () => number;
  private readonly setTimer: NonNullable<AfterQuietOptions['setTimer']>;

  constructor(private readonly opts: AfterQuietOptions) {
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? unrefTimer;
  }

  poke(): void {
    if (this.stopped) return;
    const at = this.now();
    this.firstPokeAt ??= at;
    const delay = Math.max(0, Math.min(this.opts.quietMs, this.firstPokeAt + this.opts.maxWaitMs - at));
    this.timer?.cancel();
    this.timer = this.setTimer(() => this.fire(), delay);
  }

  /** No more runs; waits for one in progress. A pending one is dropped (the periodic GC catches up). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
  }

  private fire(): void {
    this.timer = undefined;
    this.firstPokeAt = undefined;
    const run = this.opts.run().catch(() => undefined);
    this.running = run;
    void run.finally(() => { if (this.running === run) this.running = undefined; });
  }
}
