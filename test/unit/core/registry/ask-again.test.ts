// The words an update row uses for when a rate-limited registry is asked again.
import { describe, expect, it } from 'vitest';
import { askAgainText } from '../../../../src/core/registry/ask-again.js';

describe('askAgainText', () => {
  it.each([
    ['a wait in force: the time it ends', Date.parse('2026-11-28T10:02:00Z'), 'stackd asks localhost:5000 again in the first run after 2026-11-28T10:02:00.000Z'],
    ['no wait asked for: the next run', undefined, 'the next run tries again'],
  ] as const)('%s', (_what, retryAtMs, expected) => {
    expect(askAgainText('localhost:5000', retryAtMs)).toBe(expected);
  });
});
