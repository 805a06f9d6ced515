// Durations in the config: "250ms", "30s", "5m", "1h", "1h30m", "2d", or a bare number of seconds.
import { StackdError } from './errors.js';

/** A config value that is wrong; `path` is the key path ("stacks[2].startupTimeout"). */
export class ConfigValueError extends StackdError {
  constructor(
    readonly path: string,
    /** what arrived and what was expected, without the path */
    readonly detail: string,
  ) {
    super('STACKD_CONFIG_VALUE', `${path}: ${detail}`);
  }
}

export const DURATION_EXPECTED = 'expected a duration like 30s, 5m or 1h (units ms, s, m, h, d; a bare number means seconds)';

/**
 * setTimeout treats any delay above 2^31-1 ms (~24.8 days) as 1 ms, so a longer "every" setting would fire in a
 * tight loop. Refusing it here is cheaper than guarding every timer.
 */
export const MAX_DURATION_MS = 24 * 86_400_000;

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
// Largest unit first; each unit at most once ("1h30m", not "30m1h" or "1h1h").
const UNIT_ORDER = ['d', 'h', 'm', 's', 'ms'];
const TOKEN = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
const BARE_NUMBER = /^\d+(?:\.\d+)?$/;

export interface DurationOptions {
  /** allow 0 (e.g. "no wait"); true unless said otherwise */
  allowZero?: boolean;
}

function parseDurationString(text: string): number | undefined {
  const s = text.trim();
  if (BARE_NUMBER.test(s)) return Number(s) * 1000;
  if (s === '') return undefined;
  let total = 0;
  let lastUnit = -1;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < s.length) {
    const m = TOKEN.exec(s);
    if (!m) return undefined;
    const unit = UNIT_ORDER.indexOf(m[2] ?? '');
    if (unit <= lastUnit) return undefined;
    lastUnit = unit;
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  }
  return total;
}

/** Milliseconds, or the reason the value is not a duration ("expected ..."). */
export function checkDuration(
  value: unknown,
  options: DurationOptions = {},
): { ok: true; ms: number } | { ok: false; expected: string } {
  let ms: number | undefined;
  if (typeof value === 'number') ms = Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  else if (typeof value === 'string') ms = parseDurationString(value);
  if (ms === undefined) return { ok: false, expected: DURATION_EXPECTED };
  ms = Math.round(ms);
  if (ms > MAX_DURATION_MS) return { ok: false, expected: 'expected a duration of at most 24d (timers cannot wait longer)' };
  if (ms === 0 && options.allowZero === false) return { ok: false, expected: 'expected a duration greater than 0, like 30s or 5m' };
  return { ok: true, ms };
}

/** Parses a config duration to milliseconds; throws ConfigValueError naming `path`, the value and the expectation. */
export function parseDuration(value: string | number, path: string, options: DurationOptions = {}): number {
  const r = checkDuration(value, options);
  if (!r.ok) throw new ConfigValueError(path, `got ${JSON.stringify(value)}; ${r.expected}`);
  return r.ms;
}

/** A duration as the config writes it (parseDuration reads it back): 90000 → 1m30s, 300000 → 5m, 0 → 0s. */
export function writeDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const parts: string[] = [];
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (sec || parts.length === 0) parts.push(`${sec}s`);
  return parts.join('');
}
