// Run a task every N ms (read anew each time, so a reloaded config's interval applies from the next round).
// Never overlapping: the next round is scheduled only when the previous one has finished. The timer is
// unref'd so it never keeps stackd alive, and the first round comes one interval after start, not at once:
// every start of stackd reconciles all stacks, and each reconcile already runs the timer GC.
export interface Periodic {
  /** no further rounds; resolves once a round in progress has finished */
  stop(): Promise<void>;
}

export function every(intervalMs: () => number, task: () => Promise<unknown>, onError: (err: unknown) => void): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = task().then(() => undefined, onError).finally(schedule);
    }, intervalMs());
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
