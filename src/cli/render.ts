// Pure text rendering for stackctl. No I/O: the clock and terminal width come in. Every render function cleans
// what it is given of terminal controls first (the client did already; this does not rely on it).
import type { ReconcileResult, StackStatus } from '../core/model.js';
import type { Job } from '../supervisor/api.js';
import { stripControlsDeep } from './terminal-text.js';

/** REASON is cut to this many characters when the terminal width is unknown (piped output). */
export const DEFAULT_REASON_WIDTH = 60;
const MIN_REASON_WIDTH = 20;

/** "now", "12s", "3m", "5h", "2d": coarse on purpose, it is read at a glance. Future times count as now. */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'now';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** "850ms", "4.2s", "3m05s", "1h02m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "ok 3m ago", "failed now", or "-" when the stack was never reconciled. */
export function formatLast(last: ReconcileResult | undefined, nowMs: number): string {
  if (!last) return '-';
  const at = Date.parse(last.finishedAt);
  if (Number.isNaN(at)) return last.result;
  const age = formatAge(nowMs - at);
  return `${last.result} ${age === 'now' ? 'now' : `${age} ago`}`;
}

/** One line, at most `width` characters; an ellipsis marks the cut. */
export function truncate(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (width <= 0) return '';
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** Containers running / containers known, e.g. "2/3". */
export function containerCount(stack: StackStatus): string {
  const up = stack.containers.filter((c) => c.state === 'running').length;
  return `${up}/${stack.containers.length}`;
}

type RemovedFromConfig = NonNullable<StackStatus['removedFromConfig']>;

/** What removedStacks does (done) or is doing (not done yet) with the containers of a stack that left the config. */
function containersFate({ action, done }: RemovedFromConfig): string {
  if (action === 'keep') return 'containers kept';
  if (action === 'stop') return done ? 'containers stopped' : 'stopping containers';
  return done ? 'containers removed' : 'removing containers';
}

/**
 * State, then what removedStacks did if the stack left the config, then the queue phase when not idle:
 * "converged", "failed (backoff)", "removed (left config; containers stopped)".
 */
export function formatState(stack: StackStatus): string {
  const notes: string[] = [];
  if (stack.removedFromConfig) notes.push(`left config; ${containersFate(stack.removedFromConfig)}`);
  if (stack.phase !== 'idle') notes.push(stack.phase);
  return notes.length ? `${stack.state} (${notes.join('; ')})` : stack.state;
}

/** The detail's `config:` line for a stack that left the config. */
function removedFromConfigLine(r: RemovedFromConfig): string {
  const what = r.action === 'keep' ? 'are left as they are'
    : r.action === 'stop' ? (r.done ? 'were stopped' : 'are being stopped')
      : (r.done ? 'were removed' : 'are being removed');
  return `not in the config any more; removedStacks: ${r.action}, so its containers ${what}`;
}

export function reasonText(last: ReconcileResult | undefined): string {
  if (!last) return '';
  if (last.reasonCode && last.reason) return `${last.reasonCode}: ${last.reason}`;
  return last.reason ?? last.reasonCode ?? '';
}

/** Left-aligned columns, two spaces apart; the last column is not padded. A cell is one line. */
export function formatColumns(input: string[][]): string[] {
  const rows = input.map((row) => row.map((cell) => cell.replace(/[\n\t]+/g, ' ')));
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

export interface TableOptions {
  nowMs: number;
  /** terminal width; undefined when not a terminal (then REASON gets DEFAULT_REASON_WIDTH) */
  columns?: number;
}

/** `stackctl status`: STACK STATE HEALTH CONTAINERS LAST REASON. */
export function renderStatusTable(given: StackStatus[], opts: TableOptions): string {
  const stacks = stripControlsDeep(given);
  if (stacks.length === 0) return 'no stacks configured\n';
  const head = ['STACK', 'STATE', 'HEALTH', 'CONTAINERS', 'LAST'];
  const rows = stacks.map((s) => [s.name, formatState(s), s.health, containerCount(s), formatLast(s.lastResult, opts.nowMs)]);
  // Width of the first five columns plus the separator: what is left of the terminal is REASON's.
  const used = Math.max(...formatColumns([head, ...rows]).map((l) => l.length)) + 2;
  const reasonWidth = opts.columns === undefined ? DEFAULT_REASON_WIDTH : Math.max(MIN_REASON_WIDTH, opts.columns - used);
  const reasons = stacks.map((s) => truncate(reasonText(s.lastResult), reasonWidth));
  return `${formatColumns([[...head, 'REASON'], ...rows.map((r, i) => [...r, reasons[i] ?? ''])]).join('\n')}\n`;
}

/** `stackctl status NAME`: the stack, its last result in full, and each container. */
export function renderStackDetail(given: StackStatus, nowMs: number): string {
  const s = stripControlsDeep(given);
  const last = s.lastResult;
  const lines = [
    `${s.name}: ${formatState(s)}, health ${s.health}`,
    `  project:     ${s.project}`,
    `  unit:        ${s.unit}`,
    `  desired:     ${s.desired}`,
  ];
  if (s.removedFromConfig) lines.push(`  config:      ${removedFromConfigLine(s.removedFromConfig)}`);
  if (s.retryAt) lines.push(`  retry at:    ${s.retryAt}`);
  if (last) {
    lines.push(`  last:        ${formatLast(last, nowMs)} (took ${formatDuration(last.durationMs)}, finished ${last.finishedAt})`);
    const reason = reasonText(last);
    if (reason) lines.push(`  reason:      ${reason.replace(/\n/g, '\n               ')}`);
  } else {
    lines.push('  last:        never reconciled');
  }
  lines.push(`  containers:  ${containerCount(s)} running`);
  if (s.containers.length > 0) {
    const rows = [['NAME', 'SERVICE', 'STATE', 'HEALTH'], ...s.containers.map((c) => [c.name, c.service || '-', c.state, c.health])];
    lines.push(...formatColumns(rows).map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The output of a check/gc job: its `lines` when it has them, else indented JSON. */
export function renderJobOutput(given: unknown): string {
  const output = stripControlsDeep(given);
  if (output === undefined) return '';
  if (isLines(output)) return output.lines.length ? `${output.lines.join('\n')}\n` : '';
  return `${JSON.stringify(output, null, 2)}\n`;
}

/** A check/gc job that failed without an error says why in its output's `summary`. */
function outputSummary(output: unknown): string | undefined {
  if (typeof output !== 'object' || output === null || !('summary' in output)) return undefined;
  return typeof output.summary === 'string' ? output.summary : undefined;
}

function isLines(value: unknown): value is { lines: string[] } {
  if (typeof value !== 'object' || value === null || !('lines' in value)) return false;
  const { lines } = value;
  return Array.isArray(lines) && lines.every((l) => typeof l === 'string');
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
