// ?wait=MS on GET /v1/jobs/:id (a long-poll, capped at MAX_WAIT_MS) and on POST /v1/stacks/:name/{up,stop,down}
// (the answer waits for the verdict, capped at MAX_ACTION_WAIT_MS). Plain decimal digits only: number coercion by
// the validator took "1.5", "0x10", "1e3" and "" (as 0), so a typo silently became another wait. Checked here
// rather than by a schema pattern so that the one message below names the parameter, what arrived and what was
// expected (the route's cap included), whatever was wrong with it.
import { MAX_ACTION_WAIT_MS, MAX_WAIT_MS } from './schemas.js';

export function waitExpected(maxMs: number): string {
  return `expected whole milliseconds as plain decimal digits, 0 to ${maxMs}`;
}

export function waitParamMessage(raw: unknown, maxMs: number = MAX_WAIT_MS): string {
  return `wait: got ${JSON.stringify(raw)}; ${waitExpected(maxMs)}`;
}

/** The cap of `wait` on a route: a stack action's POST waits for its verdict far longer than a job long-poll. */
export function maxWaitOf(method: string): number {
  return method === 'POST' ? MAX_ACTION_WAIT_MS : MAX_WAIT_MS;
}

/** Milliseconds to wait (0 when absent), or undefined when `raw` is not plain digits up to `maxMs`. */
export function parseWaitParam(raw: string | undefined, maxMs: number = MAX_WAIT_MS): number | undefined {
  if (raw === undefined) return 0;
  if (!/^[0-9]+$/.test(raw)) return undefined;
  const ms = Number(raw);
  return ms <= maxMs ? ms : undefined;
}
