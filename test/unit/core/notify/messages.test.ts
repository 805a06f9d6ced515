// Domain events → one notification per run or change: titles, lines, priorities, tags, items, redaction and
// the bounds that keep a message readable.
import { describe, expect, it } from 'vitest';
import { makeRedactor } from '../../../../src/core/redact.js';
import {
  buildStackTransitionNotifications, buildUpdateRunNotification, buildWatchWindowNotification, MESSAGE_LIMITS,
} from '../../../../src/core/notify/messages.js';
import type { MessageContext, StackTransition, UpdateRunRow } from '../../../../src/core/notify/types.js';

const ctx: MessageContext = { host: 'nas', redact: (t) => t };
const applied = { includeApplied: false };

const row = (over: Partial<UpdateRunRow>): UpdateRunRow => ({
  stack: 'immich', service: 'server', image: 'ghcr.io/immich-app/immich-server:release', updated: 'rolled back', ...over,
});

describe('buildUpdateRunNotification', () => {
  it('three rolled-back services are ONE message naming all three', () => {
    const n = buildUpdateRunNotification({
      rows: [
        row({ reason: 'health gate: unhealthy after 2m' }),
        row({ service: 'ml', image: 'ghcr.io/immich-app/immich-machine-learning:release', reason: 'health gate: exited 137' }),
        row({ stack: 'paperless', service: 'web', image: 'ghcr.io/paperless-ngx/paperless-ngx:2', reason: 'health gate: unhealthy after 5m' }),
        row({ stack: 'paperless', service: 'redis', image: 'docker.io/library/redis:7', updated: 'false' }),
      ],
    }, ctx, applied);
    expect(n).toEqual({
      event: 'update-rolled-back',
      title: 'stackd: update rolled back on nas: immich/server, immich/ml, paperless/web',
      message: [
        'immich/server ghcr.io/immich-app/immich-server:release: health gate: unhealthy after 2m',
        'immich/ml ghcr.io/immich-app/immich-machine-learning:release: health gate: exited 137',
        'paperless/web ghcr.io/paperless-ngx/paperless-ngx:2: health gate: unhealthy after 5m',
      ].join('\n'),
      priority: 'high',
      tags: ['rewind', 'update-rolled-back'],
      items: [
        { stack: 'immich', service: 'server', image: 'ghcr.io/immich-app/immich-server:release', reason: 'health gate: unhealthy after 2m' },
        { stack: 'immich', service: 'ml', image: 'ghcr.io/immich-app/immich-machine-learning:release', reason: 'health gate: exited 137' },
        { stack: 'paperless', service: 'web', image: 'ghcr.io/paperless-ngx/paperless-ngx:2', reason: 'health gate: unhealthy after 5m' },
      ],
    });
  });

  it('a rolled-back service brings the last lines its container printed, cleaned and bounded', () => {
    const logTail = [...Array.from({ length: 15 }, (_, i) => `line ${i + 1}`), '\u001b[31mFATAL\u001b[0m: cannot connect to db', ''].join('\r\n');
    const n = buildUpdateRunNotification({ rows: [row({ reason: 'health gate: unhealthy after 2m', logTail })] }, ctx, applied);
    const lines = n?.message.split('\n') ?? [];
    expect(lines[0]).toBe('immich/server ghcr.io/immich-app/immich-server:release: health gate: unhealthy after 2m');
    expect(lines[1]).toBe(`  last ${MESSAGE_LIMITS.logLines} log lines:`);
    expect(lines.slice(2)).toEqual([...Array.from({ length: 9 }, (_, i) => `  | line ${i + 7}`), '  | FATAL: cannot connect to db']);
  });

  it('redacts every text before shortening it: a cut never leaves half a secret', () => {
    const secret = 'hunter2-postgres-password';
    const redact = makeRedactor([secret]);
    // the secret straddles the cut at reasonChars: shortening first would leave `hunter` for all to read
    const reason = `${'x'.repeat(MESSAGE_LIMITS.reasonChars - 8)} ${secret} more`;
    const n = buildUpdateRunNotification({
      rows: [row({ image: `registry.lan/${secret}/app:1`, reason, logTail: `connecting with ${secret}\nsplit \u001b[1mhunter2-\u001b[0mpostgres-password too` })],
    }, { host: 'nas', redact }, applied);
    const all = JSON.stringify(n);
    expect(all).not.toContain('hunter');
    expect(all).not.toContain('postgres-pass');
    expect(n?.message).toContain('  | connecting with ***');
    expect(n?.message).toContain('  | split *** too');
    expect(n?.items[0]?.image).toBe('registry.lan/***/app:1');
  });

  it('a mixed run carries the event and priority of its worst row; each line says what happened', () => {
    const rows = [
      row({ stack: 'paperless', service: 'web', updated: 'true', image: 'paperless:2' }),
      row({ reason: 'health gate: unhealthy after 2m' }),
      row({ stack: 'jellyfin', service: 'app', image: 'jellyfin:10', updated: 'failed', reason: 'registry: 429 Too Many Requests' }),
    ];
    const n = buildUpdateRunNotification({ rows }, ctx, applied);
    expect(n?.event).toBe('update-failed');
    expect(n?.priority).toBe('high');
    expect(n?.title).toBe('stackd: update failed on nas: jellyfin/app, immich/server');
    expect(n?.message).toBe([
      'jellyfin/app jellyfin:10: failed: registry: 429 Too Many Requests',
      'immich/server ghcr.io/immich-app/immich-server:release: rolled back: health gate: unhealthy after 2m',
    ].join('\n'));
    const withApplied = buildUpdateRunNotification({ rows }, ctx, { includeApplied: true });
    expect(withApplied?.message.split('\n')[2]).toBe('paperless/web paperless:2: updated');
    expect(withApplied?.items).toHaveLength(3);
  });

  it.each<[string, UpdateRunRow['updated'][], boolean, string | undefined]>([
    ['nothing updated', ['false', 'skipped'], false, undefined],
    ['only applied, onSuccess off', ['true', 'true'], false, undefined],
    ['only applied, onSuccess on', ['true'], true, 'update-applied'],
    ['monitor mode: updates available', ['pending', 'false'], false, 'update-available'],
    ['a failure', ['false', 'failed'], false, 'update-failed'],
  ])('%s → %s', (_name, updated, includeApplied, event) => {
    const n = buildUpdateRunNotification({ rows: updated.map((u, i) => row({ service: `s${i}`, updated: u })) }, ctx, { includeApplied });
    expect(n?.event).toBe(event);
  });

  it('monitor mode and applied updates are default priority; a row without a reason says what happened', () => {
    const n = buildUpdateRunNotification({ rows: [row({ updated: 'pending' })] }, ctx, applied);
    expect(n).toMatchObject({ priority: 'default', tags: ['package', 'update-available'], message: 'immich/server ghcr.io/immich-app/immich-server:release: update available' });
  });

  it('names at most three in the title and twenty in the body; items keep every row', () => {
    const rows = Array.from({ length: 25 }, (_, i) => row({ service: `svc${i}`, reason: 'unhealthy' }));
    const n = buildUpdateRunNotification({ rows }, ctx, applied);
    expect(n?.title).toBe('stackd: update rolled back on nas: immich/svc0, immich/svc1, immich/svc2 +22 more');
    const lines = n?.message.split('\n') ?? [];
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe('… and 5 more');
    expect(n?.items).toHaveLength(25);
  });

  it('a reason is one line, without terminal sequences, at most reasonChars long', () => {
    const n = buildUpdateRunNotification({ rows: [row({ reason: `pull failed:\n\u001b[31m${'e'.repeat(400)}` })] }, ctx, applied);
    const reason = n?.items[0]?.reason ?? '';
    expect(reason.startsWith('pull failed: eee')).toBe(true);
    expect(Array.from(reason)).toHaveLength(MESSAGE_LIMITS.reasonChars);
    expect(reason.endsWith('…')).toBe(true);
    expect(n?.message).not.toContain('\u001b');
  });
});

describe('buildStackTransitionNotifications', () => {
  const t = (over: Partial<StackTransition>): StackTransition => ({ stack: 'immich', from: 'ok', to: 'failed', ...over });

  it('a failed reconcile: high, the reason code and reason, and what stackd does next', () => {
    const [n, ...rest] = buildStackTransitionNotifications([
      t({ reasonCode: 'compose-failed', reason: 'stack "immich": compose up failed (exit 1): Error response from daemon: no such image' }),
    ], ctx);
    expect(rest).toEqual([]);
    expect(n).toEqual({
      event: 'reconcile-failed',
      title: 'stackd: reconcile failed on nas: immich',
      message: 'immich: compose-failed: stack "immich": compose up failed (exit 1): Error response from daemon: no such image\n' +
        '  stackd retries it with backoff; `compose up/stop/down` exited non-zero; the reason carries its error',
      priority: 'high',
      tags: ['rotating_light', 'reconcile-failed'],
      items: [{ stack: 'immich', reason: 'compose-failed: stack "immich": compose up failed (exit 1): Error response from daemon: no such image' }],
    });
  });

  it('a failure that waits for new inputs says so, with the command to run once fixed', () => {
    const [n] = buildStackTransitionNotifications([t({ reasonCode: 'compose-config', reason: 'compose rejected /srv/immich/compose.yml' })], ctx);
    expect(n?.message.split('\n')[1]).toBe(
      '  stackd waits for a change (config, files, or stackctl up immich); compose rejected the files (or stackd could not read its model): fix the file named',
    );
  });

  it('a label-invariant violation: its own event, high, nothing touched', () => {
    const [n] = buildStackTransitionNotifications([t({ to: 'violating', reasonCode: 'label-invariant', reason: 'service "web" lacks PODMAN_SYSTEMD_UNIT=immich.service' })], ctx);
    expect(n).toMatchObject({
      event: 'invariant-violation',
      title: 'stackd: label invariant violated on nas: immich',
      priority: 'high',
      tags: ['no_entry', 'invariant-violation'],
      message: 'immich: label-invariant: service "web" lacks PODMAN_SYSTEMD_UNIT=immich.service\n' +
        '  nothing was touched; add the label named, then: stackctl up immich',
    });
  });

  it('recovered: default priority, naming what it recovered from', () => {
    const [n] = buildStackTransitionNotifications([t({ from: 'failed', to: 'ok', reasonCode: 'env-file-missing' })], ctx);
    expect(n).toEqual({
      event: 'recovered',
      title: 'stackd: recovered on nas: immich',
      message: 'immich: ok again (was env-file-missing)',
      priority: 'default',
      tags: ['green_heart', 'recovered'],
      items: [{ stack: 'immich', reason: 'ok again (was env-file-missing)' }],
    });
  });

  it('several transitions: one message per kind of event, each naming all its stacks', () => {
    const out = buildStackTransitionNotifications([
      t({ stack: 'a', reasonCode: 'podman-unreachable', reason: 'no answer' }),
      t({ stack: 'b', from: 'failed', to: 'ok', reasonCode: 'compose-failed' }),
      t({ stack: 'c', reasonCode: 'podman-unreachable', reason: 'no answer' }),
    ], ctx);
    expect(out.map((n) => [n.event, n.title])).toEqual([
      ['reconcile-failed', 'stackd: reconcile failed on nas: a, c'],
      ['recovered', 'stackd: recovered on nas: b'],
    ]);
  });

  it('redacts the reason (and the host) with the caller\'s redactor', () => {
    const redact = makeRedactor(['s3cr3t-token-value']);
    const [n] = buildStackTransitionNotifications([t({ reasonCode: 'compose-failed', reason: 'auth s3cr3t-token-value refused' })], { host: 'nas', redact });
    expect(JSON.stringify(n)).not.toContain('s3cr3t');
    expect(n?.items[0]?.reason).toBe('compose-failed: auth *** refused');
  });
});

describe('buildWatchWindowNotification', () => {
  it('the alert: one message naming every unwell service, what stackd does and what to run', () => {
    const n = buildWatchWindowNotification({
      stack: 'immich', kind: 'alert', windowMs: 300_000, repair: 'none',
      unwell: [{ service: 'server', why: 'not healthy yet (starting)' }, { service: 'ml', why: 'exited (code 137)' }],
    }, ctx);
    expect(n).toEqual({
      event: 'deploy-unhealthy',
      title: 'stackd: deploy left unhealthy on nas: immich',
      message: [
        'immich: 5m after the deploy (healthWindow), not healthy:',
        '  server: not healthy yet (starting)',
        '  ml: exited (code 137)',
        'stackd does not act on it (repair: none); see: stackctl status immich, podman logs <container>',
      ].join('\n'),
      priority: 'high',
      tags: ['hourglass', 'deploy-unhealthy'],
      items: [
        { stack: 'immich', service: 'server', reason: 'not healthy yet (starting)' },
        { stack: 'immich', service: 'ml', reason: 'exited (code 137)' },
      ],
    });
  });

  it('with repair: reconcile it says stackd acts', () => {
    const n = buildWatchWindowNotification({ stack: 'a', kind: 'alert', windowMs: 90_000, repair: 'reconcile', unwell: [{ service: 'web', why: 'unhealthy' }] }, ctx);
    expect(n.message.split('\n')).toEqual([
      'a: 1m30s after the deploy (healthWindow), not healthy:',
      '  web: unhealthy',
      'stackd reconciles the stack when a container dies or turns unhealthy (repair: reconcile); see: stackctl status a',
    ]);
  });

  it('the recovery: default priority, one line', () => {
    expect(buildWatchWindowNotification({ stack: 'immich', kind: 'recover', windowMs: 300_000, repair: 'none' }, ctx)).toEqual({
      event: 'deploy-recovered',
      title: 'stackd: healthy again after deploy on nas: immich',
      message: 'immich: every service is healthy (or running) again after the deploy',
      priority: 'default',
      tags: ['green_heart', 'deploy-recovered'],
      items: [{ stack: 'immich', reason: 'healthy again' }],
    });
  });

  it('redacts service names and reasons', () => {
    const redact = makeRedactor(['s3cr3t-token-value']);
    const n = buildWatchWindowNotification({ stack: 'a', kind: 'alert', windowMs: 60_000, repair: 'none', unwell: [{ service: 'web', why: 'exited: s3cr3t-token-value' }] }, { host: 'nas', redact });
    expect(JSON.stringify(n)).not.toContain('s3cr3t');
  });
});
