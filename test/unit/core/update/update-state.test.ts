import { describe, expect, it } from 'vitest';
import {
  EMPTY_UPDATE_STATE, findBadDigest, parseUpdateState, serializeUpdateState, withBadDigest, withProgress, withoutProgress,
} from '../../../../src/core/update/update-state.js';
import type { ApplyProgress, BadDigest } from '../../../../src/core/update/types.js';

const bad = (digest: string, reference = 'x.io/a:1'): BadDigest => ({ reference, digest, stack: 's', service: 'web', at: '2026-11-28T00:00:00Z', reason: 'unhealthy' });
const progress: ApplyProgress = {
  stack: 's', step: 'pulled', startedAt: '2026-11-28T00:00:00Z',
  services: [{ service: 'web', reference: 'x.io/a:1', previousImageId: 'old', pinTag: 'stackd-rollback-web', targetDigest: 'sha256:new' }],
};

describe('update state', () => {
  it('round-trips', () => {
    const s = withProgress(withBadDigest(EMPTY_UPDATE_STATE, bad('sha256:1')), progress);
    expect(parseUpdateState(serializeUpdateState(s))).toEqual({ ok: true, state: s });
  });
  it.each([
    ['empty', '', /empty/],
    ['truncated', '{"version":1,"badDigests":[', /not valid JSON/],
    ['another version', '{"version":2,"badDigests":[],"inProgress":[]}', /version/],
    ['a bad digest record', '{"version":1,"badDigests":[{"reference":1}],"inProgress":[]}', /badDigests/],
    ['a bad step', '{"version":1,"badDigests":[],"inProgress":[{"stack":"s","startedAt":"t","step":"flying","services":[]}]}', /inProgress/],
  ])('refuses %s', (_what, text, problem) => {
    const r = parseUpdateState(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });
  it('remembers a bad digest once, and at most 10 per reference', () => {
    let s = withBadDigest(EMPTY_UPDATE_STATE, bad('sha256:1'));
    expect(withBadDigest(s, bad('sha256:1'))).toBe(s);
    for (let i = 2; i <= 15; i++) s = withBadDigest(s, bad(`sha256:${i}`));
    s = withBadDigest(s, bad('sha256:other', 'y.io/b:2'));
    expect(s.badDigests.filter((b) => b.reference === 'x.io/a:1')).toHaveLength(10);
    expect(findBadDigest(s, 'x.io/a:1', 'sha256:15')).toBeDefined();
    expect(findBadDigest(s, 'x.io/a:1', 'sha256:1')).toBeUndefined();
    expect(findBadDigest(s, 'y.io/b:2', 'sha256:other')).toBeDefined();
  });
  it('keeps one progress record per stack', () => {
    const s = withProgress(withProgress(EMPTY_UPDATE_STATE, progress), { ...progress, step: 'up' });
    expect(s.inProgress).toEqual([{ ...progress, step: 'up' }]);
    expect(withoutProgress(s, 's').inProgress).toEqual([]);
  });
});
