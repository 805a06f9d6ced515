// `queue.concurrency: auto`: how many stacks the queue reconciles at once, following podman's pace.
//
// Why adaptive: a compose `up` is a series of API round trips, so podman finishes more stacks per second when
// several run at once — until it is saturated (its answers queue up) or its database locks contend (the seed's
// thundering herd: `database is locked`). Measured on 2 cores, 20 stacks, in several rounds (bench/README.md):
// podman's answers to compose took p90 0.14–0.3 s at 1–2 at once, 0.3–0.8 s at 4–8 and 0.3–1.5 s at 20, while
// the wall time hardly moved past 2–4. So: start at the most allowed (a rebuild's burst gets the parallelism at once), step down one when more
// than a tenth of the answers since the last decision were slow, halve on lock contention, and step back up
// one per clean run.

/** An answer slower than this means podman is queueing requests (p99 at concurrency 2 was ~0.5 s). */
export const SLOW_ANSWER_MS = 1_000;
/** The share of slow answers that makes the queue step down. */
export const SLOW_SHARE = 0.1;

export interface PodmanPace {
  /** compose's requests to podman answered since the last decision (streams not counted) */
  answers: number;
  /** of those, how many took longer than SLOW_ANSWER_MS to start their answer */
  slow: number;
}

export interface Bounds {
  min: number;
  max: number;
}

/** The next limit after a reconcile ended; `contended`: its failure was podman's database lock. */
export function nextConcurrency(limit: number, bounds: Bounds, pace: PodmanPace, contended: boolean): number {
  const clamp = (n: number) => Math.min(bounds.max, Math.max(bounds.min, n));
  if (contended) return clamp(Math.floor(limit / 2));
  if (pace.answers > 0 && pace.slow / pace.answers > SLOW_SHARE) return clamp(limit - 1);
  return clamp(limit + 1);
}

/** podman's SQLite (or BoltDB) lock contention as compose reports it. */
export function isLockContention(reason: string | undefined): boolean {
  return reason !== undefined && /database is locked|SQLITE_BUSY/i.test(reason);
}

/**
 * Requests whose answer time says something about podman's pace. Streams and waits answer when something
 * happens (an event, a container's exit), not when podman is done: they would read as slow without being so.
 */
export function isPaceSample(url: string): boolean {
  return !/\/(events|wait|logs|attach|stats)(\?|$)/.test(url);
}
