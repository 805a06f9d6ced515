// Text hygiene for notifications: what a container printed (colours, cursor moves, carriage-return progress
// bars) and what an error said must arrive on a phone as plain, bounded text.

// CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \), and any other two-byte ESC sequence.
// eslint-disable-next-line no-control-regex -- finding terminal sequences is the point
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?/g;
// C0 and C1 controls except tab and newline, and the bidi overrides that can make a line read backwards.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Plain text: terminal sequences and controls removed, line ends normalized to \n, tabs to spaces. */
export function plainText(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, ' ')
    .replace(CONTROLS, '');
}

/** One line: plainText with every run of blanks and line breaks turned into one space. */
export function oneLine(text: string): string {
  return plainText(text).replace(/\s+/g, ' ').trim();
}

/** At most `max` characters (code points, so an emoji is never cut in half), ending with … when cut. */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** The last `count` non-blank-at-the-end lines of `text`, each plain and clipped to `maxChars`. */
export function lastLines(text: string, count: number, maxChars: number): string[] {
  const lines = plainText(text).split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-count).map((l) => clip(l, maxChars));
}

/**
 * At most `maxBytes` bytes of UTF-8, ending with `marker` when cut. Cut at the last line break when that keeps
 * at least half, else between two characters (never inside one).
 */
export function clipUtf8(text: string, maxBytes: number, marker = '\n… (truncated)'): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  const budget = maxBytes - encoder.encode(marker).length;
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const size = encoder.encode(ch).length;
    if (used + size > budget) break;
    used += size;
    end += ch.length;
  }
  const kept = text.slice(0, end);
  const nl = kept.lastIndexOf('\n');
  return `${nl >= kept.length / 2 ? kept.slice(0, nl) : kept}${marker}`;
}
