// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. How long a 429 asked stackd to wait.

/** Milliseconds to wait from nowMs, or undefined when the header is missing or unreadable. Never negative. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^[0-9]+$/.test(v)) return Number(v) * 1000;
  // only an IMF-fixdate-like date (has a weekday or a month name); Date.parse accepts far too much otherwise
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
