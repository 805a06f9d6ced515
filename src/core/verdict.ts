// What a finished job comes to, in one rule and one wording shared by stackctl (which prints it) and stackd's
// waiting POST (which answers it as text to curl in a stack unit): the two must never disagree about whether
// an `up` worked, nor word it differently.
import type { Job } from './job.js';
import { formatDuration, reasonText } from './status-text.js';
import { stripControls, stripControlsDeep } from './terminal-text.js';

export function isPending(job: Job): boolean {
  return job.status === 'queued' || job.status === 'running';
}

/** A finished job that did what was asked: done, and its reconcile (if any) did not fail. */
export function succeeded(job: Job): boolean {
  return job.status === 'done' && job.result?.result !== 'failed';
}

/** A check/gc job that failed without an error says why in its output's `summary`. */
function outputSummary(output: unknown): string | undefined {
  if (typeof output !== 'object' || output === null || !('summary' in output)) return undefined;
  return typeof output.summary === 'string' ? output.summary : undefined;
}

/** One line about a finished stack action: "up immich: ok in 4.2s", "stop immich: failed: compose-failed: …". */
export function renderVerdict(given: Job): string {
  const job = stripControlsDeep(given);
  const what = job.stack ? `${job.kind} ${job.stack}` : job.kind;
  if (job.status === 'failed' && !job.result) return `${what}: failed: ${job.error ?? outputSummary(job.output) ?? 'no reason given'}`;
  const r = job.result;
  if (!r) return `${what}: ${job.status}`;
  const reason = reasonText(r);
  const took = `in ${formatDuration(r.durationMs)}`;
  return reason ? `${what}: ${r.result} ${took}: ${reason}` : `${what}: ${r.result} ${took}`;
}

/** "15m", "90s", "1h", "1.5s": a duration as the user wrote it or will read it again in a message. */
export function formatSpan(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** The wait passed before the verdict; stackd still carries the job out. */
export function noVerdictText(action: string, stack: string, waitedMs: number): string {
  return `${action} ${stack}: no verdict after ${formatSpan(waitedMs)}; stackd carries on: follow it with "stackctl status ${stack}"`;
}

/**
 * A text answer is one line (a journal line, one line on a terminal): the verdict's multi-line reasons are
 * joined, controls stripped, and the newline added.
 */
export function oneLine(text: string): string {
  return `${stripControls(text).replace(/\s*[\n\t]+\s*/g, ' ').trim()}\n`;
}
