import { describe, expect, it } from 'vitest';
import { encodeHeaderValue } from '../../../../src/core/notify/encoded-words.js';

/** What ntfy (Go's mime.WordDecoder) does with the header: base64 words, the space between two words dropped. */
function decode(value: string): string {
  return value.replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=(?:\s+(?==\?))?/g, (_m, b64: string) => `\u0000${b64}\u0000`)
    .split('\u0000')
    .map((part, i) => (i % 2 === 1 ? Buffer.from(part, 'base64') : Buffer.from(part)))
    .reduce((acc, b) => Buffer.concat([acc, b]), Buffer.alloc(0))
    .toString('utf8');
}

describe('encodeHeaderValue', () => {
  it.each([
    'stackd: update rolled back on nas: immich/server',
    '',
    'a plain title with ~ and | and "quotes"',
  ])('leaves printable ASCII as it is: %j', (v) => {
    expect(encodeHeaderValue(v)).toBe(v);
  });

  it('encodes a non-ASCII title as one UTF-8 base64 word', () => {
    expect(encodeHeaderValue('Ünïcode ✓')).toBe('=?UTF-8?B?w5xuw69jb2RlIOKckw==?=');
  });

  it.each([
    ['looks like an encoded word itself', 'see =?UTF-8?B?eA==?= here'],
    ['a line break (never a second header line)', 'two\r\nX-Evil: 1'],
    ['a long title of multi-byte characters', `stackd: update rolled back on ${'Ü✓€'.repeat(40)}: immich/server`],
    ['emoji (4-byte characters) at every position', '🚨'.repeat(30)],
  ])('%s: words of at most 75 characters, ASCII only, decoding to the original', (_name, v) => {
    const out = encodeHeaderValue(v);
    expect(out).toMatch(/^[\x20-\x7e]+$/);
    for (const word of out.split(' ')) expect(word.length).toBeLessThanOrEqual(75);
    expect(decode(out)).toBe(v);
  });
});
