// HTTP header values are bytes that clients and proxies treat as Latin-1 at best; a title like "Ünïcode ✓"
// sent raw arrives garbled or is refused. ntfy decodes RFC 2047 encoded-words in its header parameters
// (server/util.go maybeDecodeHeader, Go's mime.WordDecoder), so non-ASCII values travel as
// `=?UTF-8?B?…?=` words.

/** RFC 2047 §2: an encoded-word is at most 75 characters; `=?UTF-8?B?` + `?=` leave 63, i.e. 45 bytes of base64 input. */
const MAX_WORD_BYTES = 45;
const PLAIN = /^[\x20-\x7e]*$/;

/**
 * The value unchanged when it is printable ASCII (and does not itself look like an encoded-word), else one or
 * more `=?UTF-8?B?…?=` words separated by spaces (a decoder drops the space between two words). A word never
 * splits a character.
 */
export function encodeHeaderValue(value: string): string {
  if (PLAIN.test(value) && !value.includes('=?')) return value;
  const encoder = new TextEncoder();
  const words: string[] = [];
  let chunk: number[] = [];
  for (const ch of value) {
    const bytes = encoder.encode(ch);
    if (chunk.length + bytes.length > MAX_WORD_BYTES) {
      words.push(word(chunk));
      chunk = [];
    }
    chunk.push(...bytes);
  }
  if (chunk.length > 0 || words.length === 0) words.push(word(chunk));
  return words.join(' ');
}

function word(bytes: number[]): string {
  return `=?UTF-8?B?${btoa(String.fromCharCode(...bytes))}?=`;
}
