// The README's reason-code table is the one users read; core/reason-codes.ts is the one the queue and the HTTP
// schema read. They must say the same: every code, its retry policy, nothing extra.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REASONS, REASON_CODES, type RetryPolicy } from '../../../src/core/reason-codes.js';
import { ReasonCodeSchema } from '../../../src/http/schemas.js';

const RETRY_WORDS: Record<RetryPolicy, string> = { clock: 'retried with backoff', inputs: 'waits for new inputs', none: '—' };

function readmeRows(): Map<string, string> {
  const text = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\| `([a-z-]+)` \| ([^|]+) \| [^|]+ \|$/.exec(line);
    if (m?.[1] && m[2] && line.includes('|')) rows.set(m[1], m[2].trim());
  }
  return rows;
}

describe('reason codes', () => {
  it('the README table lists exactly the codes of core/reason-codes.ts with their retry policy', () => {
    const rows = readmeRows();
    expect([...rows.keys()].sort()).toEqual([...REASON_CODES].sort());
    for (const code of REASON_CODES) expect(rows.get(code), code).toBe(RETRY_WORDS[REASONS[code].retry]);
  });

  it('the HTTP schema enumerates the same codes', () => {
    expect(JSON.stringify(ReasonCodeSchema)).toBe(JSON.stringify({ enum: REASON_CODES }));
  });
});
