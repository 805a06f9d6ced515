import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REASON_WIDTH, containerCount, formatAge, formatColumns, formatDuration, formatLast, formatState,
  renderJobOutput, renderStackDetail, renderStatusTable, renderVerdict, truncate,
} from '../../../src/cli/render.js';
import type { ReconcileResult, StackStatus } from '../../../src/core/model.js';
import type { Job } from '../../../src/supervisor/api.js';

const NOW = Date.parse('2026-02-12T21:10:00.000Z');

function result(finishedAt: string, over: Partial<ReconcileResult> = {}): ReconcileResult {
  return { result: 'ok', startedAt: finishedAt, finishedAt, durationMs: 4200, ...over };
}

function stack(name: string, over: Partial<StackStatus> = {}): StackStatus {
  return {
    name, project: name, unit: `${name}.service`, desired: 'running', phase: 'idle', health: 'healthy', state: 'converged',
    lastResult: result('2026-02-12T21:07:00.000Z'),
    containers: [
      { id: '1', name: `${name}-app-1`, service: 'app', state: 'running', health: 'healthy' },
      { id: '2', name: `${name}-db-1`, service: 'db', state: 'exited', health: 'none' },
    ],
    ...over,
  };
}

describe('formatAge', () => {
  it.each([
    [-5_000, 'now'], [0, 'now'], [999, 'now'], [1_000, '1s'], [59_999, '59s'], [60_000, '1m'], [3_599_000, '59m'],
    [3_600_000, '1h'], [86_399_000, '23h'], [86_400_000, '1d'], [10 * 86_400_000, '10d'],
  ])('%i ms → %s', (ms, text) => expect(formatAge(ms)).toBe(text));
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'], [850, '850ms'], [1_000, '1.0s'], [4_200, '4.2s'], [59_940, '59.9s'], [60_000, '1m00s'], [185_000, '3m05s'],
    [3_720_000, '1h02m'],
  ])('%i ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('formatLast', () => {
  it.each([
    [undefined, '-'],
    [result('2026-02-12T21:07:00.000Z'), 'ok 3m ago'],
    [result('2026-02-12T21:09:59.500Z', { result: 'failed' }), 'failed now'],
    [result('2026-02-10T21:10:00.000Z', { result: 'skipped' }), 'skipped 2d ago'],
    [result('not a date'), 'ok'],
  ])('%j → %s', (last, text) => expect(formatLast(last, NOW)).toBe(text));
});

describe('truncate', () => {
  it.each([
    ['short', 10, 'short'],
    ['exactly10!', 10, 'exactly10!'],
    ['eleven chars', 10, 'eleven ch…'],
    ['multi\n  line\treason', 40, 'multi line reason'],
    ['anything', 0, ''],
    ['ab', 1, '…'],
  ])('%j to %i → %j', (text, width, out) => expect(truncate(text, width)).toBe(out));
});

describe('containerCount', () => {
  it.each([
    [[], '0/0'],
    [stack('a').containers, '1/2'],
  ])('%j → %s', (containers, text) => expect(containerCount(stack('a', { containers }))).toBe(text));
});

describe('formatColumns', () => {
  it('pads every column but the last, two spaces apart', () => {
    expect(formatColumns([['A', 'BB', 'C'], ['long', 'x', '']])).toEqual(['A     BB  C', 'long  x']);
  });
});

describe('renderStatusTable', () => {
  const stacks = [
    stack('immich'),
    stack('paperless', {
      state: 'failed', health: 'degraded', phase: 'backoff',
      lastResult: result('2026-02-12T20:10:00.000Z', { result: 'failed', reasonCode: 'compose-failed', reason: `pull access denied for ghcr.io/paperless/paperless-ngx:9.9, repository does not exist ${'x'.repeat(80)}` }),
    }),
    stack('new', { state: 'pending', health: 'unknown', lastResult: undefined, containers: [] }),
  ];

  it('has the columns STACK STATE HEALTH CONTAINERS LAST REASON, aligned', () => {
    const lines = renderStatusTable(stacks, { nowMs: NOW }).trimEnd().split('\n');
    expect(lines[0]).toBe('STACK      STATE             HEALTH    CONTAINERS  LAST           REASON');
    expect(lines[1]).toBe('immich     converged         healthy   1/2         ok 3m ago');
    expect(lines[2]?.startsWith('paperless  failed (backoff)  degraded  1/2         failed 1h ago  compose-failed: pull access')).toBe(true);
    expect(lines[3]).toBe('new        pending           unknown   0/0         -');
  });

  it('cuts REASON to 60 characters when the width is unknown', () => {
    const line = renderStatusTable(stacks, { nowMs: NOW }).split('\n')[2] ?? '';
    const reason = line.slice(line.indexOf('compose-failed'));
    expect(reason).toHaveLength(DEFAULT_REASON_WIDTH);
    expect(reason.endsWith('…')).toBe(true);
  });

  it.each([100, 120, 200])('fits each line into a %i-column terminal', (columns) => {
    for (const line of renderStatusTable(stacks, { nowMs: NOW, columns }).trimEnd().split('\n')) {
      expect(line.length).toBeLessThanOrEqual(columns);
    }
  });

  it('keeps at least 20 characters of REASON on a narrow terminal', () => {
    const line = renderStatusTable(stacks, { nowMs: NOW, columns: 40 }).split('\n')[2] ?? '';
    expect(line.slice(line.indexOf('compose-failed'))).toHaveLength(20);
  });

  it('says so when there are no stacks', () => {
    expect(renderStatusTable([], { nowMs: NOW })).toBe('no stacks configured\n');
  });
});

describe('renderStackDetail', () => {
  it('shows the stack, the full reason and each container', () => {
    const text = renderStackDetail(stack('immich', {
      lastResult: result('2026-02-12T21:07:00.000Z', { result: 'failed', reasonCode: 'env-file-missing', reason: 'line one\nline two' }),
      state: 'failed', health: 'healthy',
    }), NOW);
    expect(text).toBe([
      'immich: failed, health healthy',
      '  project:     immich',
      '  unit:        immich.service',
      '  desired:     running',
      '  last:        failed 3m ago (took 4.2s, finished 2026-02-12T21:07:00.000Z)',
      '  reason:      env-file-missing: line one',
      '               line two',
      '  containers:  1/2 running',
      '    NAME          SERVICE  STATE    HEALTH',
      '    immich-app-1  app      running  healthy',
      '    immich-db-1   db       exited   none',
      '',
    ].join('\n'));
  });

  it('handles a never-reconciled stack without containers', () => {
    const text = renderStackDetail(stack('new', { lastResult: undefined, containers: [], retryAt: '2026-02-12T21:11:00.000Z' }), NOW);
    expect(text).toContain('  retry at:    2026-02-12T21:11:00.000Z\n');
    expect(text).toContain('  last:        never reconciled\n');
    expect(text).toContain('  containers:  0/0 running\n');
    expect(text).not.toContain('NAME');
    expect(text).not.toContain('update:');
  });

  it('names the last registry update run when there was one', () => {
    const text = renderStackDetail(stack('immich', { lastUpdate: { result: 'rolled back', finishedAt: '2026-02-12T18:10:00.000Z' } }), NOW);
    expect(text).toContain('  update:      rolled back 3h ago (registry update run finished 2026-02-12T18:10:00.000Z)\n');
  });
});

describe('renderJobOutput', () => {
  it.each([
    [undefined, ''],
    [{ lines: [] }, ''],
    [{ lines: ['ok: immich', 'warn: paperless has version:'] }, 'ok: immich\nwarn: paperless has version:\n'],
    [{ lines: ['a', 3] }, '{\n  "lines": [\n    "a",\n    3\n  ]\n}\n'],
    [{ removed: 2 }, '{\n  "removed": 2\n}\n'],
  ])('%j', (output, text) => expect(renderJobOutput(output)).toBe(text));
});

describe('renderVerdict', () => {
  const base: Job = { id: 'j1', kind: 'up', stack: 'immich', status: 'done', createdAt: 'x' };
  it.each<[Job, string]>([
    [{ ...base, result: result('x') }, 'up immich: ok in 4.2s'],
    [{ ...base, result: result('x', { result: 'skipped', reasonCode: 'unchanged' }) }, 'up immich: skipped in 4.2s: unchanged'],
    [{ ...base, result: result('x', { result: 'failed', reasonCode: 'compose-failed', reason: 'no such image' }) }, 'up immich: failed in 4.2s: compose-failed: no such image'],
    [{ ...base, status: 'failed', error: 'stackd is shutting down' }, 'up immich: failed: stackd is shutting down'],
    [{ ...base, kind: 'gc', stack: undefined, status: 'done' }, 'gc: done'],
  ])('%j → %s', (job, text) => expect(renderVerdict(job)).toBe(text));
});

describe('text from stackd cannot drive the terminal (the renderer strips controls itself, too)', () => {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
  const OSC52 = '\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007';
  const planted = stack('immich', {
    state: 'failed', health: 'degraded',
    lastResult: result('2026-02-12T21:07:00.000Z', { result: 'failed', reasonCode: 'compose-failed', reason: `pull denied${OSC52} \u001b[2Kfor web\nsecond\u009b31m line` }),
    containers: [{ id: '1', name: 'immich-web\u001b]0;title\u0007-1', service: 'web\u009b2J', state: 'running', health: 'healthy' }],
  });

  it('status table', () => {
    const text = renderStatusTable([planted], { nowMs: NOW, columns: 200 });
    expect(text).not.toMatch(CONTROL);
    expect(text).toContain('compose-failed: pull denied for web second line');
  });

  it('status detail keeps the reason\'s lines, and cleans the container rows', () => {
    const text = renderStackDetail(planted, NOW);
    expect(text).not.toMatch(CONTROL);
    expect(text).toContain('  reason:      compose-failed: pull denied for web\n               second line\n');
    expect(text).toContain('    immich-web-1  web      running  healthy\n');
  });

  it('verdicts and job output', () => {
    const job: Job = { id: 'j1', kind: 'up', stack: 'immich', status: 'failed', createdAt: 'x', error: `shutting down${OSC52}\u009b6n` };
    expect(renderVerdict(job)).toBe('up immich: failed: shutting down');
    expect(renderVerdict({ ...job, status: 'done', error: undefined, result: planted.lastResult })).not.toMatch(CONTROL);
    expect(renderJobOutput({ lines: [`ok${OSC52}`, 'b\u009d8;;x\u009c'] })).toBe('ok\nb\n');
    expect(renderJobOutput({ removed: [`t\u009b2J${OSC52}`] })).not.toMatch(CONTROL);
  });
});

describe('stacks that left the config, and state removed', () => {
  const gone = (action: 'stop' | 'down' | 'keep', done: boolean, over: Partial<StackStatus> = {}) => stack('old', {
    desired: 'removed', state: action === 'keep' ? 'converged' : done ? 'removed' : 'progressing', health: 'down',
    removedFromConfig: { action, done }, ...over,
  });

  it.each<[string, StackStatus]>([
    ['removed (left config; containers stopped)', gone('stop', true)],
    ['progressing (left config; stopping containers)', gone('stop', false)],
    ['removed (left config; containers removed)', gone('down', true)],
    ['progressing (left config; removing containers; reconciling)', gone('down', false, { phase: 'reconciling' })],
    ['converged (left config; containers kept)', gone('keep', true)],
    ['removed', stack('paused', { desired: 'removed', state: 'removed', health: 'down' })],
    ['removed (queued)', stack('paused', { desired: 'removed', state: 'removed', phase: 'queued' })],
  ])('formatState: %s', (text, s) => {
    expect(formatState(s)).toBe(text);
  });

  it('the table shows it in STATE', () => {
    const lines = renderStatusTable([stack('immich'), gone('stop', true, { lastResult: undefined, containers: [] })], { nowMs: NOW }).split('\n');
    expect(lines[2]).toBe('old     removed (left config; containers stopped)  down     0/0         -');
  });

  it('the detail says what removedStacks does with its containers', () => {
    const text = renderStackDetail(gone('down', false), NOW);
    expect(text.split('\n').slice(0, 5)).toEqual([
      'old: progressing (left config; removing containers), health down',
      '  project:     old',
      '  unit:        old.service',
      '  desired:     removed',
      '  config:      not in the config any more; removedStacks: down, so its containers are being removed',
    ]);
    expect(renderStackDetail(gone('keep', true), NOW)).toContain('  config:      not in the config any more; removedStacks: keep, so its containers are left as they are\n');
    expect(renderStackDetail(gone('stop', true), NOW)).toContain('  config:      not in the config any more; removedStacks: stop, so its containers were stopped\n');
    expect(renderStackDetail(stack('immich'), NOW)).not.toContain('config:');
  });
});
