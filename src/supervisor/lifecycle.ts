// Every long-lived part of stackd (supervisor, event watcher, housekeeping timers, config watcher) has the
// same contract: start() begins its work, stop() ends it and resolves once nothing of it runs any more.
// main.ts starts them in dependency order and stops them in reverse; a part that fails to stop is logged and
// the others still stop (SIGTERM must never hang on one of them).
import type { Logger } from 'pino';

export interface Lifecycle {
  /** for logs */
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** Starts each part in order; if one fails, the ones already started are stopped (reverse) and the error is thrown. */
export async function startAll(parts: readonly Lifecycle[], log: Logger): Promise<void> {
  const started: Lifecycle[] = [];
  for (const p of parts) {
    try {
      await p.start();
      started.push(p);
    } catch (err) {
      await stopAll(started, log);
      throw err;
    }
  }
}

/** Stops each part in reverse order, awaiting each; never throws. */
export async function stopAll(parts: readonly Lifecycle[], log: Logger): Promise<void> {
  for (const p of [...parts].reverse()) {
    try {
      await p.stop();
    } catch (err) {
      log.error({ err, part: p.name }, 'could not stop cleanly');
    }
  }
}
