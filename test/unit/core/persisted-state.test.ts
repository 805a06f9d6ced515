import { describe, expect, it } from 'vitest';
import { parseStateText, sameState, serializeState, type StackRecord } from '../../../src/core/persisted-state.js';

const projectOf = (s: string) => `p-${s}`;

describe('parseStateText', () => {
  it.each<[string, string, RegExp]>([
    ['empty', '', /empty/],
    ['whitespace only', ' \n', /empty/],
    ['truncated JSON', '{"version":2,"stacks":{"a":', /not valid JSON.*truncated/],
    ['an array', '[]', /JSON object/],
    ['no version', '{"stacks":{}}', /"version" is undefined/],
    ['a newer version', '{"version":3,"stacks":{}}', /newer stackd/],
    ['stacks not an object', '{"version":2,"stacks":[]}', /"stacks"/],
    ['a bad desired state', '{"version":2,"stacks":{"a":{"desired":"paused","project":"a"}}}', /stack "a".*"paused".*running, stopped, removed/],
    ['no project', '{"version":2,"stacks":{"a":{"desired":"running"}}}', /stack "a".*"project"/],
    ['a bad unconfigured', '{"version":2,"stacks":{"a":{"desired":"running","project":"a","unconfigured":{"action":"nuke"}}}}', /unconfigured/],
    ['v1 with a removed state', '{"version":1,"desired":{"a":"removed"}}', /version 1.*"removed"/],
    ['v1 without desired', '{"version":1}', /version 1/],
  ])('refuses %s', (_what, text, problem) => {
    const r = parseStateText(text, projectOf);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });

  it('reads format 2 with every field', () => {
    const text = JSON.stringify({
      version: 2,
      stacks: {
        a: { desired: 'running', project: 'a' },
        b: { desired: 'removed', project: 'bee', unconfigured: { since: '2026-11-28T00:00:00.000Z', action: 'down', done: false } },
      },
    });
    const r = parseStateText(text, projectOf);
    expect(r).toEqual({
      ok: true,
      state: new Map<string, StackRecord>([
        ['a', { desired: 'running', project: 'a' }],
        ['b', { desired: 'removed', project: 'bee', unconfigured: { since: '2026-11-28T00:00:00.000Z', action: 'down', done: false } }],
      ]),
    });
  });

  it('upgrades format 1, naming projects through the caller', () => {
    const r = parseStateText('{"version":1,"desired":{"a":"stopped"}}', projectOf);
    expect(r).toEqual({ ok: true, upgradedFrom: 1, state: new Map([['a', { desired: 'stopped', project: 'p-a' }]]) });
  });

  it('round-trips through serializeState, sorted by name, own keys only', () => {
    const s = new Map<string, StackRecord>([
      ['z', { desired: 'running', project: 'z' }],
      ['constructor', { desired: 'stopped', project: 'c' }],
      ['__proto__', { desired: 'removed', project: 'x' }],
    ]);
    const text = serializeState(s);
    expect(Object.keys(JSON.parse(text).stacks)).toEqual(['__proto__', 'constructor', 'z']);
    const back = parseStateText(text, projectOf);
    expect(back.ok && back.state).toEqual(s);
  });

  it('sameState compares what would be written', () => {
    const a = new Map<string, StackRecord>([['a', { desired: 'running', project: 'a' }], ['b', { desired: 'stopped', project: 'b' }]]);
    const b = new Map<string, StackRecord>([['b', { desired: 'stopped', project: 'b' }], ['a', { desired: 'running', project: 'a' }]]);
    expect(sameState(a, b)).toBe(true);
    expect(sameState(a, new Map([['a', { desired: 'running', project: 'a' }]]))).toBe(false);
  });
});
