// Retry delay for the queue: capped exponential. Deterministic unless the caller passes a random source.
import { InvalidOptionError } from './errors.js';

/**
 * Delay before retry number `attempt` (1-based): attempt 1 → baseMs, 2 → 2×baseMs, 3 → 4×baseMs …, never above
 * maxMs.
 *
 * With `random` (returning [0, 1), e.g. Math.random), "equal jitter": the delay is drawn from [d/2, d). Stacks that
 * failed together (podman restarted, a shared dependency down) then retry spread out instead of all at once,
 * and no retry comes sooner than half the nominal delay. Without `random` the result is exact, for tests and
 * for showing `retryAt`.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random?: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new InvalidOptionError('attempt', 'an integer from 1 and up', attempt);
  }
  if (!Number.isFinite(baseMs) || baseMs < 0) {
    throw new InvalidOptionError('baseMs', 'a finite number from 0 and up', baseMs);
  }
  if (!(maxMs >= baseMs)) {
    throw new InvalidOptionError('maxMs', `at least baseMs (${baseMs})`, maxMs);
  }
  // 2 ** (attempt - 1) becomes Infinity for large attempts; Math.min keeps that at maxMs (baseMs 0 stays 0).
  const nominal = baseMs === 0 ? 0 : Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  if (!random) return nominal;
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(nominal / 2 + (r * nominal) / 2);
}
