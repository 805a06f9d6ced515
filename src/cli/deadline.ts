// How long `stackctl up/stop/down` wait before they give up and say what is still running. A reconcile is
// bounded in stackd (startupTimeout per compose step), but a queue behind a stuck stack, or a stackd that
// never answers the job, would otherwise hold a systemd unit (and `nixos-rebuild switch`) for ever.
// systemd/example-stack.service sets TimeoutStartSec= a little above the default, so stackctl reports first.
import { DURATION_EXPECTED, checkDuration } from '../core/duration.js';
import { formatSpan } from '../core/verdict.js';

export { formatSpan };

export const DEFAULT_TIMEOUT_MS = 15 * 60_000;

export interface Deadline {
  /** epoch ms; Infinity when the user asked to wait for ever (--timeout 0) */
  at: number;
  /** the duration as the user will read it again in messages: "15m", "30s", "1h" */
  text: string;
}

/** `--timeout DUR` (30s, 5m, 900 = seconds; 0 = no deadline), counted from `nowMs`; or what was wrong with it. */
export function parseTimeout(raw: string | undefined, nowMs: number): { ok: true; deadline: Deadline } | { ok: false; message: string } {
  const r = raw === undefined ? { ok: true as const, ms: DEFAULT_TIMEOUT_MS } : checkDuration(raw);
  if (!r.ok) {
    const expected = r.expected === DURATION_EXPECTED ? `${DURATION_EXPECTED}, or 0 to wait for ever` : r.expected;
    return { ok: false, message: `--timeout: got ${JSON.stringify(raw)}; ${expected}` };
  }
  if (r.ms === 0) return { ok: true, deadline: { at: Infinity, text: 'for ever' } };
  return { ok: true, deadline: { at: nowMs + r.ms, text: formatSpan(r.ms) } };
}

/** Milliseconds left, never below 0. */
export function remainingMs(deadline: Deadline, nowMs: number): number {
  return Math.max(0, deadline.at - nowMs);
}
