// How long each stack has been in its current state, for the "degraded longer than its window" alert: a
// Prometheus rule cannot give each series its own `for:`, so stackd exports the duration and the stack's
// healthWindow and the rule compares the two. Pure: the caller keeps the map and passes the clock.

export interface StateSince {
  state: string;
  /** epoch ms the stack was first seen in this state (since the last change stackd saw) */
  sinceMs: number;
}

/** The next map: a stack whose state is unchanged keeps its time; a changed or new one starts now; gone ones go. */
export function trackStateSince(
  prev: ReadonlyMap<string, StateSince>,
  stacks: readonly { name: string; state: string }[],
  nowMs: number,
): Map<string, StateSince> {
  const next = new Map<string, StateSince>();
  for (const s of stacks) {
    const old = prev.get(s.name);
    next.set(s.name, old && old.state === s.state ? old : { state: s.state, sinceMs: nowMs });
  }
  return next;
}

/** Seconds the stack has been in `state` without a break; 0 when it is in another state (or unknown). */
export function secondsIn(map: ReadonlyMap<string, StateSince>, stack: string, state: string, nowMs: number): number {
  const e = map.get(stack);
  return e && e.state === state ? Math.max(0, (nowMs - e.sinceMs) / 1000) : 0;
}
