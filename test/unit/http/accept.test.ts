// Accept negotiation between the two bodies of a waiting POST: text only when text/plain outweighs JSON.
import { describe, expect, it } from 'vitest';
import { prefersText } from '../../../src/http/accept.js';

describe('prefersText', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['application/json', false],
    ['text/plain', true],
    ['TEXT/PLAIN', true],
    ['text/plain; charset=utf-8', true],
    ['text/*', true],
    ['text/plain, application/json', false],
    ['text/plain;q=0.5, application/json', false],
    ['text/plain, application/json;q=0.9', true],
    ['text/plain, */*;q=0.1', true],
    ['text/plain;q=0', false],
    ['text/html', false],
    ['text/plain;q=nonsense', false],
  ])('%j → %s', (accept, text) => expect(prefersText(accept)).toBe(text));
});
