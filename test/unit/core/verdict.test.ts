// The one success rule and wording of a finished job, shared by stackctl and stackd's waiting POST.
import { describe, expect, it } from 'vitest';
import type { Job } from '../../../src/core/job.js';
import { formatSpan, isPending, noVerdictText, oneLine, succeeded } from '../../../src/core/verdict.js';

const job = (over: Partial<Job>): Job => ({ id: 'j1', kind: 'up', stack: 'immich', status: 'done', createdAt: 'x', ...over });
const result = (r: 'ok' | 'failed' | 'skipped') => ({ result: r, startedAt: 'x', finishedAt: 'x', durationMs: 5 });

describe('succeeded / isPending', () => {
  it.each<[Partial<Job>, boolean, boolean]>([
    [{ status: 'queued' }, false, true],
    [{ status: 'running' }, false, true],
    [{ status: 'done', result: result('ok') }, true, false],
    [{ status: 'done', result: result('skipped') }, true, false],
    [{ status: 'done', result: result('failed') }, false, false],
    [{ status: 'done' }, true, false],
    [{ status: 'failed', error: 'x' }, false, false],
    [{ status: 'failed', result: result('failed') }, false, false],
  ])('%j → succeeded %s, pending %s', (over, ok, pending) => {
    expect(succeeded(job(over))).toBe(ok);
    expect(isPending(job(over))).toBe(pending);
  });
});

describe('formatSpan', () => {
  it.each([[900_000, '15m'], [90_000, '90s'], [3_600_000, '1h'], [1_500, '1.5s'], [120_000, '2m'], [50, '0.05s']])('%d → %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });
});

describe('noVerdictText', () => {
  it('names the action, the stack, the wait and where to follow it', () => {
    expect(noVerdictText('up', 'immich', 900_000)).toBe('up immich: no verdict after 15m; stackd carries on: follow it with "stackctl status immich"');
    expect(noVerdictText('down', 'db', 90_000)).toBe('down db: no verdict after 90s; stackd carries on: follow it with "stackctl status db"');
  });
});

describe('oneLine', () => {
  it.each([
    ['up a: ok in 5ms', 'up a: ok in 5ms\n'],
    ['up a: failed in 5ms: compose-failed: line one\n  line two\n', 'up a: failed in 5ms: compose-failed: line one line two\n'],
    ['tab\there', 'tab here\n'],
    ['osc \u001b]52;c;Y3Vy\u0007and csi \u009b2J\u001b[31mred', 'osc and csi red\n'],
  ])('%j → %j', (text, line) => expect(oneLine(text)).toBe(line));
});
