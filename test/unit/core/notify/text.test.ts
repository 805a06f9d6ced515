import { describe, expect, it } from 'vitest';
import { clip, clipUtf8, lastLines, oneLine, plainText } from '../../../../src/core/notify/text.js';

describe('plainText / oneLine', () => {
  it.each([
    ['colours', '\u001b[31merror\u001b[0m: boom', 'error: boom'],
    ['a cursor move and an OSC title', '\u001b[2K\u001b]0;title\u0007done', 'done'],
    ['CRLF and bare CR become line breaks', 'a\r\nb\rc', 'a\nb\nc'],
    ['tabs become spaces, other controls go', 'a\tb\u0000c\u0008d', 'a bcd'],
    ['bidi overrides go', 'abc\u202edef', 'abcdef'],
  ])('plainText: %s', (_n, input, expected) => {
    expect(plainText(input)).toBe(expected);
  });

  it('oneLine folds every run of blanks and breaks into one space', () => {
    expect(oneLine('  compose up failed:\n\n  exit 1\t ')).toBe('compose up failed: exit 1');
  });
});

describe('clip', () => {
  it.each([
    ['short', 10, 'short'],
    ['exactly10!', 10, 'exactly10!'],
    ['longer than ten', 10, 'longer th…'],
    ['🚨🚨🚨🚨', 3, '🚨🚨…'],
  ])('%j to %d → %j', (s, max, expected) => {
    expect(clip(s, max)).toBe(expected);
  });
});

describe('lastLines', () => {
  it('keeps the last lines, drops trailing blank ones, cleans and clips each', () => {
    const log = ['one', 'two', '\u001b[31mthree\u001b[0m', 'x'.repeat(50), '', ''].join('\n');
    expect(lastLines(log, 3, 10)).toEqual(['two', 'three', 'xxxxxxxxx…']);
  });
});

describe('clipUtf8', () => {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

  it('leaves text within the limit alone', () => {
    expect(clipUtf8('abc', 3)).toBe('abc');
  });

  it('cuts at the last line break when that keeps at least half', () => {
    const text = `${'a'.repeat(60)}\n${'b'.repeat(60)}`;
    const out = clipUtf8(text, 100);
    expect(out).toBe(`${'a'.repeat(60)}\n… (truncated)`);
  });

  it.each([1, 2, 3, 4])('never splits a character of %d bytes, and stays strictly within the limit', (width) => {
    const ch = ['x', 'é', '✓', '🚨'][width - 1] ?? 'x';
    for (let max = 30; max < 40; max++) {
      const out = clipUtf8(ch.repeat(100), max);
      expect(bytes(out)).toBeLessThanOrEqual(max);
      expect(out.endsWith('… (truncated)')).toBe(true);
      expect(out).not.toContain('\uFFFD');
      expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
    }
  });
});
