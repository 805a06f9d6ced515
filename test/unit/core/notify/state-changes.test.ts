// "Once per state change, never per retry", as one table: what was last told, the new verdict, and whether
// (and as what) it is news.
import { describe, expect, it } from 'vitest';
import { conditionOf, decideStateChange, type NotifiedState, type StackVerdict } from '../../../../src/core/notify/state-changes.js';
import type { StackTransition } from '../../../../src/core/notify/types.js';

const ok: StackVerdict = { result: 'ok' };
const skipped: StackVerdict = { result: 'skipped', reasonCode: 'unchanged', reason: 'inputs unchanged' };
const failed = (reasonCode: StackVerdict['reasonCode'], reason = `${reasonCode} happened`): StackVerdict => ({ result: 'failed', reasonCode, reason });
const gone: StackVerdict = { result: 'ok', reasonCode: 'not-configured', reason: 'left the config; removedStacks: stop: stopped' };

type Row = [string, NotifiedState | undefined, StackVerdict, NotifiedState | undefined, Omit<StackTransition, 'stack'> | undefined];

const rows: Row[] = [
  ['first verdict ok: not news', undefined, ok, { condition: 'ok' }, undefined],
  ['first verdict a skip: ok, not news', undefined, skipped, { condition: 'ok' }, undefined],
  ['first verdict failed: news (after a restart, once more)', undefined, failed('compose-failed'),
    { condition: 'failed', reasonCode: 'compose-failed' },
    { from: 'unknown', to: 'failed', reasonCode: 'compose-failed', reason: 'compose-failed happened' }],
  ['ok → ok', { condition: 'ok' }, ok, { condition: 'ok' }, undefined],
  ['ok → failed', { condition: 'ok' }, failed('compose-timeout'), { condition: 'failed', reasonCode: 'compose-timeout' },
    { from: 'ok', to: 'failed', reasonCode: 'compose-timeout', reason: 'compose-timeout happened' }],
  ['ok → label-invariant: a violation', { condition: 'ok' }, failed('label-invariant'), { condition: 'violating', reasonCode: 'label-invariant' },
    { from: 'ok', to: 'violating', reasonCode: 'label-invariant', reason: 'label-invariant happened' }],
  ['failed → failed, same code, other words: a retry, not news', { condition: 'failed', reasonCode: 'compose-failed' },
    failed('compose-failed', 'exit 17 this time'), { condition: 'failed', reasonCode: 'compose-failed' }, undefined],
  ['failed → failed with another code: news', { condition: 'failed', reasonCode: 'compose-failed' }, failed('podman-unreachable'),
    { condition: 'failed', reasonCode: 'podman-unreachable' },
    { from: 'failed', to: 'failed', reasonCode: 'podman-unreachable', reason: 'podman-unreachable happened' }],
  ['violating → violating: not news', { condition: 'violating', reasonCode: 'label-invariant' }, failed('label-invariant'),
    { condition: 'violating', reasonCode: 'label-invariant' }, undefined],
  ['violating → failed: news', { condition: 'violating', reasonCode: 'label-invariant' }, failed('compose-config'),
    { condition: 'failed', reasonCode: 'compose-config' },
    { from: 'violating', to: 'failed', reasonCode: 'compose-config', reason: 'compose-config happened' }],
  ['failed → ok: recovered, naming what it recovered from', { condition: 'failed', reasonCode: 'env-file-missing' }, ok,
    { condition: 'ok' }, { from: 'failed', to: 'ok', reasonCode: 'env-file-missing' }],
  ['failed → skipped (unchanged, all running): recovered', { condition: 'failed', reasonCode: 'compose-timeout' }, skipped,
    { condition: 'ok' }, { from: 'failed', to: 'ok', reasonCode: 'compose-timeout' }],
  ['violating → ok: recovered', { condition: 'violating', reasonCode: 'label-invariant' }, ok,
    { condition: 'ok' }, { from: 'violating', to: 'ok', reasonCode: 'label-invariant' }],
  ['failed without a code → failed without a code: not news', { condition: 'failed' }, { result: 'failed' }, { condition: 'failed' }, undefined],
  ['failed without a code → ok: recovered', { condition: 'failed' }, ok, { condition: 'ok' }, { from: 'failed', to: 'ok' }],
  ['failed → left the config: forgotten, no message', { condition: 'failed', reasonCode: 'compose-failed' }, gone, undefined, undefined],
  ['left the config, skipped by the supervisor: forgotten', { condition: 'ok' },
    { result: 'skipped', reasonCode: 'not-configured' }, undefined, undefined],
];

describe('decideStateChange', () => {
  it.each(rows)('%s', (_name, before, verdict, next, transition) => {
    const last = new Map<string, NotifiedState>(before ? [['immich', before]] : []);
    const d = decideStateChange(last, 'immich', verdict);
    expect(d.next).toEqual(next);
    expect(d.transition).toEqual(transition === undefined ? undefined : { stack: 'immich', ...transition });
  });

  it('reads only the stack asked about, and changes nothing it was given', () => {
    const last = new Map<string, NotifiedState>([['paperless', { condition: 'failed', reasonCode: 'compose-failed' }]]);
    const d = decideStateChange(last, 'immich', failed('compose-failed'));
    expect(d.transition?.from).toBe('unknown');
    expect([...last]).toEqual([['paperless', { condition: 'failed', reasonCode: 'compose-failed' }]]);
  });

  it('a failed retire (the stack left the config, its containers could not be stopped) is a failure', () => {
    expect(conditionOf({ result: 'failed', reasonCode: 'podman-unreachable' })).toBe('failed');
    expect(conditionOf({ result: 'failed', reasonCode: 'not-configured' })).toBe('failed');
  });

  it('a sequence of reconciles: one message per change, none per retry', () => {
    const last = new Map<string, NotifiedState>();
    const verdicts: StackVerdict[] = [
      ok, failed('compose-failed'), failed('compose-failed'), failed('compose-failed'), failed('compose-timeout'), ok, ok, skipped,
    ];
    const news = verdicts.map((v) => {
      const d = decideStateChange(last, 'immich', v);
      if (d.next) last.set('immich', d.next);
      else last.delete('immich');
      return d.transition ? `${d.transition.from}→${d.transition.to}` : '';
    }).filter(Boolean);
    expect(news).toEqual(['ok→failed', 'failed→failed', 'failed→ok']);
  });
});
