// Pure text rendering for stackctl. No I/O: the clock and terminal width come in. Every render function cleans
// what it is given of terminal controls first (the client did already; this does not rely on it).
import type { StackStatus } from '../core/model.js';
import { stripControlsDeep } from '../core/terminal-text.js';
import { containerCount, formatAge, formatDuration, formatLast, formatState, reasonText } from '../core/status-text.js';

export { containerCount, formatAge, formatDuration, formatLast, formatState, reasonText };
export { renderVerdict } from '../core/verdict.js';

/** REASON is cut to this many characters when the terminal width is unknown (piped output). */
export const DEFAULT_REASON_WIDTH = 60;
const MIN_REASON_WIDTH = 20;

/** One line, at most `width` characters; an ellipsis marks the cut. */
export function truncate(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (width <= 0) return '';
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

type RemovedFromConfig = NonNullable<StackStatus['removedFromConfig']>;

/** The detail's `config:` line for a stack that left the config. */
function removedFromConfigLine(r: RemovedFromConfig): string {
  const what = r.action === 'keep' ? 'are left as they are'
    : r.action === 'stop' ? (r.done ? 'were stopped' : 'are being stopped')
      : (r.done ? 'were removed' : 'are being removed');
  return `not in the config any more; removedStacks: ${r.action}, so its containers ${what}`;
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
  if (s.lastUpdate) lines.push(`  update:      ${formatLast(s.lastUpdate, nowMs)} (registry update run finished ${s.lastUpdate.finishedAt})`);
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

function isLines(value: unknown): value is { lines: string[] } {
  if (typeof value !== 'object' || value === null || !('lines' in value)) return false;
  const { lines } = value;
  return Array.isArray(lines) && lines.every((l) => typeof l === 'string');
}
