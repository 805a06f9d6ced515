// Podman prints timestamps in several shapes depending on who asks (captured in
// test/fixtures/podman-inspect-startedat.tz-matrix.txt):
//   libpod API inspect    2026-11-26T18:01:10.89345788+08:00        RFC 3339, nanoseconds, the creator's offset
//   libpod API list       1795687057                                 unix seconds (StartedAt, ExitedAt)
//   podman CLI (Go)       2026-11-26 18:01:10.89345788 +0800 AWST   zone name only when it is the reader's TZ,
//                         2026-11-26 18:01:10.89345788 +0800 +0800  otherwise the offset repeated
//   never happened        0001-01-01T00:00:00Z, -62135596800        Go's zero time
// The numeric offset is authoritative everywhere: zone abbreviations are ambiguous (IST is India, Ireland and
// Israel) and do not say which side of a DST change a wall-clock time is on.

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
// Go's time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST", plus " m=+1.5" when the value still
// carries a monotonic clock reading.
const GO_DEFAULT =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? (?:([+-])(\d{2})(\d{2})(?: [A-Za-z0-9+-]+)?|(UTC|GMT))(?: m=[+-]\d+(?:\.\d+)?)?$/;
const UNIX_SECONDS = /^-?\d+(?:\.\d+)?$/;

/** Epoch milliseconds of a podman timestamp, or undefined for the zero time, garbage and impossible dates. */
export function parsePodmanTime(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return fromUnixSeconds(value);
  const s = value.trim();
  if (UNIX_SECONDS.test(s)) return fromUnixSeconds(Number(s));
  const r = RFC3339.exec(s);
  if (r) {
    const offsetMin = r[8] ? 0 : offsetMinutes(r[9], r[10], r[11]);
    return civilToEpoch(r, offsetMin);
  }
  const g = GO_DEFAULT.exec(s);
  if (g) {
    const offsetMin = g[11] ? 0 : offsetMinutes(g[8], g[9], g[10]);
    return civilToEpoch(g, offsetMin);
  }
  return undefined;
}

/** parsePodmanTime rendered as RFC 3339 UTC (millisecond precision), for the model's string fields. */
export function toIsoTime(value: string | number | null | undefined): string | undefined {
  const ms = parsePodmanTime(value);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

// Anything at or before the epoch is Go's zero time (or a "never") for a container: podman was not around.
function fromUnixSeconds(seconds: number): number | undefined {
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return Math.floor(seconds * 1000);
}

function offsetMinutes(sign: string | undefined, hh: string | undefined, mm: string | undefined): number | undefined {
  const h = Number(hh);
  const m = Number(mm);
  if (!Number.isInteger(h) || !Number.isInteger(m) || h > 23 || m > 59) return undefined;
  return (sign === '-' ? -1 : 1) * (h * 60 + m);
}

function civilToEpoch(m: RegExpExecArray, offsetMin: number | undefined): number | undefined {
  if (offsetMin === undefined) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (year === undefined || month === undefined || day === undefined) return undefined;
  if (hour === undefined || minute === undefined || second === undefined) return undefined;
  // 0001-01-01 is Go's zero time ("never"); nothing podman ran predates the epoch, and Date.UTC would
  // read years below 100 as 19xx.
  if (year < 1970) return undefined;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Milliseconds are truncated, not rounded: a time never moves past the instant podman recorded.
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC rolls 31 February over into March; a date that does not round-trip did not exist.
  if (new Date(utc).getUTCDate() !== day) return undefined;
  return utc - offsetMin * 60_000;
}
