import { describe, expect, it } from 'vitest';
import { stripControls, stripControlsDeep } from '../../../src/core/terminal-text.js';

// Anything a terminal would act on: C0 but \n and \t, DEL, C1.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('stripControls', () => {
  it.each([
    ['OSC 52 (clipboard write) ended by BEL', 'pull failed\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007 for web', 'pull failed for web'],
    ['OSC 8 hyperlink ended by ST', '\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\', 'click'],
    ['OSC title, unterminated', 'x\u001b]0;pwned', 'x'],
    ['CSI colour', '\u001b[31mred\u001b[0m', 'red'],
    ['CSI cursor moves and erase', 'a\u001b[2K\u001b[1A\u001b[?25lb', 'ab'],
    ['C1 CSI (\\u009b)', '\u009b31mred\u009b0m', 'red'],
    ['C1 OSC (\\u009d) ended by C1 ST', '\u009d52;c;eA==\u009cok', 'ok'],
    ['DCS', '\u001bPq#0;2;0;0;0\u001b\\after', 'after'],
    ['APC, C1', '\u009fhidden\u009cshown', 'shown'],
    ['a two-character escape (RIS: reset the terminal)', 'before\u001bcafter', 'beforeafter'],
    ['a lone ESC at the end', 'end\u001b', 'end'],
    ['CR (overwrites the line), BS, BEL, NUL, DEL', 'ok\rFAKE\b\u0007\u0000\u007f!', 'okFAKE!'],
    ['other C1 controls (NEL, IND)', 'a\u0085b\u0084c', 'abc'],
  ])('%s', (_what, input, output) => {
    expect(stripControls(input)).toBe(output);
    expect(stripControls(input)).not.toMatch(CONTROL);
  });

  it('keeps newlines, tabs and every printable character', () => {
    const text = 'line one\n\tline two: café … ✓ 日本 \u00a0 ü';
    expect(stripControls(text)).toBe(text);
  });
});

describe('stripControlsDeep', () => {
  it('cleans every string of decoded JSON, keys included, and keeps the shape', () => {
    const value = {
      name: 'immich',
      lastResult: { reason: 'x\u001b]52;c;AAAA\u0007y', durationMs: 12, ok: true, none: null },
      containers: [{ name: 'web\u009b2J-1' }, 'plain'],
      ['k\u001b[1mey']: 1,
    };
    expect(stripControlsDeep(value)).toEqual({
      name: 'immich',
      lastResult: { reason: 'xy', durationMs: 12, ok: true, none: null },
      containers: [{ name: 'web-1' }, 'plain'],
      key: 1,
    });
    expect(JSON.stringify(stripControlsDeep(value))).not.toMatch(/\\u00(?:1b|07)|\u009b/);
  });
});
