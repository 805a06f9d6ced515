import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePodmanTime, toIsoTime } from '../../../src/core/started-at.js';

// Expected instants are written as UTC ISO strings and read by Date.parse, an independent parser.
const utc = (iso: string): number => Date.parse(iso);

describe('parsePodmanTime: forms podman emits', () => {
  it.each([
    ['RFC 3339, nanoseconds, Z (libpod inspect)', '2026-11-26T09:57:37.06669656Z', '2026-11-26T09:57:37.066Z'],
    ['RFC 3339, +08:00 (created under TZ=Australia/Perth)', '2026-11-26T18:01:10.89345788+08:00', '2026-11-26T10:01:10.893Z'],
    ['RFC 3339, -03:30 (St Johns)', '2026-11-26T06:31:11.813336015-03:30', '2026-11-26T10:01:11.813Z'],
    ['RFC 3339, no fraction', '2026-02-12T21:03:38+08:00', '2026-02-12T13:03:38.000Z'],
    ['RFC 3339, one fraction digit', '2026-02-12T21:03:38.5Z', '2026-02-12T21:03:38.500Z'],
    ['Go default with zone name (owner\'s host)', '2026-02-12 21:03:38 +0800 AWST', '2026-02-12T13:03:38.000Z'],
    ['Go default, nanoseconds, zone name', '2026-02-12 21:03:38.123456789 +0800 AWST', '2026-02-12T13:03:38.123Z'],
    ['Go default, offset repeated as the zone', '2026-11-26 18:01:10.89345788 +0800 +0800', '2026-11-26T10:01:10.893Z'],
    ['Go default, UTC', '2026-11-26 10:00:28.682059656 +0000 UTC', '2026-11-26T10:00:28.682Z'],
    ['Go default with monotonic reading', '2026-11-26 10:00:28.5 +0000 UTC m=+3.141592653', '2026-11-26T10:00:28.500Z'],
    ['Go default, UTC without offset', '2026-11-26 10:00:28 UTC', '2026-11-26T10:00:28.000Z'],
    ['unix seconds as a number-like string', '1795687057', '2026-11-26T09:57:37.000Z'],
  ])('%s: %s', (_label, input, expected) => {
    expect(parsePodmanTime(input)).toBe(utc(expected));
  });

  it('reads unix seconds (libpod list StartedAt) as numbers', () => {
    expect(parsePodmanTime(1795687057)).toBe(utc('2026-11-26T09:57:37Z'));
    expect(parsePodmanTime(1795687057.25)).toBe(utc('2026-11-26T09:57:37.250Z'));
  });
});

describe('parsePodmanTime: zones and offsets (the numeric offset wins, the name is ignored)', () => {
  it.each([
    ['AWST +0800', '2026-02-12 21:03:38 +0800 AWST', '2026-02-12T13:03:38Z'],
    ['CET +0100', '2026-01-15 12:00:00 +0100 CET', '2026-01-15T11:00:00Z'],
    ['CEST +0200', '2026-07-15 12:00:00 +0200 CEST', '2026-07-15T10:00:00Z'],
    ['IST +0530 (India)', '2026-11-26 15:31:11.474951957 +0530 IST', '2026-11-26T10:01:11.474Z'],
    ['IST +0100 (Ireland): same name, other offset', '2026-07-15 12:00:00 +0100 IST', '2026-07-15T11:00:00Z'],
    ['NST -0330', '2026-11-26 06:31:11 -0330 NST', '2026-11-26T10:01:11Z'],
    ['EST -0500', '2026-01-15 07:00:00 -0500 EST', '2026-01-15T12:00:00Z'],
    ['HST -1000', '2026-01-15 02:00:00 -1000 HST', '2026-01-15T12:00:00Z'],
    ['+1400 (Kiribati)', '2026-01-16 02:00:00 +1400 +14', '2026-01-15T12:00:00Z'],
    ['a wrong name does not change the instant', '2026-02-12 21:03:38 +0800 CET', '2026-02-12T13:03:38Z'],
    ['previous UTC day across the date line', '2026-01-01 07:59:59 +0800 AWST', '2025-12-31T23:59:59Z'],
    ['next UTC day from a negative offset', '2025-12-31 20:30:00 -0330 NST', '2026-01-01T00:00:00Z'],
  ])('%s', (_label, input, expected) => {
    expect(parsePodmanTime(input)).toBe(utc(expected));
  });
});

describe('parsePodmanTime: DST edges', () => {
  it('Europe spring forward: 01:59:59 CET and 03:00:00 CEST are one second apart', () => {
    const before = parsePodmanTime('2026-03-29 01:59:59 +0100 CET');
    const after = parsePodmanTime('2026-03-29 03:00:00 +0200 CEST');
    expect(before).toBe(utc('2026-03-29T00:59:59Z'));
    expect(after).toBe(utc('2026-03-29T01:00:00Z'));
  });

  it('Europe fall back: the same wall time 02:30 twice, an hour apart, told apart by the offset', () => {
    const first = parsePodmanTime('2026-10-25 02:30:00 +0200 CEST');
    const second = parsePodmanTime('2026-10-25 02:30:00 +0100 CET');
    expect(first).toBe(utc('2026-10-25T00:30:00Z'));
    expect(second).toBe(utc('2026-10-25T01:30:00Z'));
  });

  it('US spring forward: 01:59:59 EST then 03:00:00 EDT', () => {
    expect(parsePodmanTime('2026-03-08 01:59:59 -0500 EST')).toBe(utc('2026-03-08T06:59:59Z'));
    expect(parsePodmanTime('2026-03-08 03:00:00 -0400 EDT')).toBe(utc('2026-03-08T07:00:00Z'));
  });

  it('Australia/Sydney fall back (southern hemisphere): 02:30 AEDT and 02:30 AEST', () => {
    expect(parsePodmanTime('2026-04-05 02:30:00 +1100 AEDT')).toBe(utc('2026-04-04T15:30:00Z'));
    expect(parsePodmanTime('2026-04-05 02:30:00 +1000 AEST')).toBe(utc('2026-04-04T16:30:00Z'));
  });

  it('Perth, no DST: AWST all year', () => {
    expect(parsePodmanTime('2026-07-01 08:00:00 +0800 AWST')).toBe(utc('2026-07-01T00:00:00Z'));
  });
});

describe('parsePodmanTime: nothing to read', () => {
  it.each([
    ['Go zero time, RFC 3339', '0001-01-01T00:00:00Z'],
    ['Go zero time, Go default', '0001-01-01 00:00:00 +0000 UTC'],
    ['Go zero time as unix seconds (libpod list ExitedAt)', -62135596800],
    ['zero', 0],
    ['empty', ''],
    ['garbage', 'yesterday'],
    ['zone name only (ambiguous)', '2026-02-12 21:03:38 AWST'],
    ['no zone at all', '2026-02-12T21:03:38'],
    ['31 February', '2026-02-31T00:00:00Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['hour 24', '2026-01-01T24:00:00Z'],
    ['NaN', Number.NaN],
    ['undefined', undefined],
    ['null', null],
  ])('%s → undefined', (_label, input) => {
    expect(parsePodmanTime(input)).toBeUndefined();
  });

  it('accepts 29 February in a leap year only', () => {
    expect(parsePodmanTime('2028-02-29T12:00:00Z')).toBe(utc('2028-02-29T12:00:00Z'));
    expect(parsePodmanTime('2026-02-29T12:00:00Z')).toBeUndefined();
  });
});

describe('parsePodmanTime: the captured TZ matrix (test/fixtures/podman-inspect-startedat.tz-matrix.txt)', () => {
  const rows = readFileSync(new URL('../../fixtures/podman-inspect-startedat.tz-matrix.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('|'));
  // Every rendering of one container's StartedAt names the same instant, whoever read it.
  const byCreator = new Map<string, Set<number | undefined>>();
  for (const [, created, , startedAt] of rows) {
    const set = byCreator.get(created ?? '') ?? new Set();
    set.add(parsePodmanTime(startedAt));
    byCreator.set(created ?? '', set);
  }

  it('has rows for three creating zones', () => {
    expect(rows.length).toBe(15);
    expect([...byCreator.keys()]).toEqual(['Australia/Perth', 'Asia/Kolkata', 'America/St_Johns']);
  });

  it.each([
    ['Australia/Perth', '2026-11-26T10:01:10.893Z'],
    ['Asia/Kolkata', '2026-11-26T10:01:11.474Z'],
    ['America/St_Johns', '2026-11-26T10:01:11.813Z'],
  ])('created under %s: every form parses to %s', (zone, expected) => {
    expect([...(byCreator.get(zone) ?? [])]).toEqual([utc(expected)]);
  });
});

describe('toIsoTime', () => {
  it('renders RFC 3339 UTC, or undefined for the zero time', () => {
    expect(toIsoTime('2026-02-12 21:03:38.123456789 +0800 AWST')).toBe('2026-02-12T13:03:38.123Z');
    expect(toIsoTime(1795687057)).toBe('2026-11-26T09:57:37.000Z');
    expect(toIsoTime('0001-01-01T00:00:00Z')).toBeUndefined();
  });
});
