// decideUpdateNews: an update run's rows against what the owner was last told, one run after another.
import { describe, expect, it } from 'vitest';
import { decideUpdateNews } from '../../../../src/core/notify/update-news.js';
import type { UpdateRunRow } from '../../../../src/core/notify/types.js';
import type { Updated } from '../../../../src/core/update/types.js';

const D1 = 'sha256:1111';
const D2 = 'sha256:2222';
const row = (updated: Updated, digest?: string, service = 'app'): UpdateRunRow =>
  ({ stack: 'shop', service, image: 'reg/app:1', updated, ...(digest ? { digest } : {}) });

/** Runs the rows one run after another from nothing; per run, the news as "service updated". */
function runs(...seq: UpdateRunRow[][]): string[][] {
  let last: ReadonlyMap<string, string> = new Map();
  return seq.map((rows) => {
    const d = decideUpdateNews(last, rows);
    last = d.next;
    return d.news.map((r) => `${r.service} ${r.updated}`);
  });
}

describe('decideUpdateNews', () => {
  it.each<[string, UpdateRunRow[][], string[][]]>([
    ['monitor: the same digest available three nights → told once',
      [[row('pending', D1)], [row('pending', D1)], [row('pending', D1)]], [['app pending'], [], []]],
    ['monitor: a newer digest available → told again',
      [[row('pending', D1)], [row('pending', D2)]], [['app pending'], ['app pending']]],
    ['a registry down three nights → told once',
      [[row('failed')], [row('failed')], [row('failed')]], [['app failed'], [], []]],
    ['failed, fine again, failed → told twice (the second failure is a new state)',
      [[row('failed')], [row('false')], [row('failed')]], [['app failed'], [], ['app failed']]],
    ['available, then the check fails, then available again (same digest) → each change told',
      [[row('pending', D1)], [row('failed')], [row('pending', D1)]], [['app pending'], ['app failed'], ['app pending']]],
    ['a rollback, then skipped (bad digest) → told once',
      [[row('rolled back', D1)], [row('skipped', D1)], [row('skipped', D1)]], [['app rolled back'], [], []]],
    ['applied updates are events: each told',
      [[row('true', D1)], [row('true', D2)]], [['app true'], ['app true']]],
    ['nothing new is never news', [[row('false')], [row('skipped')]], [[], []]],
  ])('%s', (_what, seq, expected) => {
    expect(runs(...seq)).toEqual(expected);
  });

  it('a run that did not look at a service (another stack asked for) keeps what was told about it', () => {
    const first = decideUpdateNews(new Map(), [row('failed', undefined, 'app'), row('failed', undefined, 'db')]);
    const second = decideUpdateNews(first.next, [row('false', undefined, 'db')]);
    expect(second.news).toEqual([]);
    expect([...second.next.keys()]).toEqual(['shop/app']);
    expect(decideUpdateNews(second.next, [row('failed', undefined, 'app')]).news).toEqual([]);
  });

  it('each service is decided on its own within one run', () => {
    const first = decideUpdateNews(new Map(), [row('failed', undefined, 'app')]);
    const second = decideUpdateNews(first.next, [row('failed', undefined, 'app'), row('failed', undefined, 'db')]);
    expect(second.news.map((r) => r.service)).toEqual(['db']);
  });
});
