// The dispatcher over fake notifiers and an injected sleep: fan-out in parallel, bounded retries with the
// 1 s / 4 s waits, failures logged and counted and never thrown, onSuccess, the state-change rule applied to
// a sequence of reconcile verdicts, redaction, and a drain on stop. No network, no real waiting.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { NotifierHttpError, NotifierTimeoutError } from '../../../src/adapters/notifiers/errors.js';
import type { Notification as CoreNotification, NotifyEvent as CoreNotifyEvent } from '../../../src/core/notify/types.js';
import { NotifyDispatcher, type NotifyDispatcherOptions } from '../../../src/supervisor/notify-dispatcher.js';
import type { Notification, NotifierPort, NotifyEvent } from '../../../src/supervisor/ports.js';

class FakeNotifier implements NotifierPort {
  readonly sent: Notification[] = [];
  calls = 0;
  /** one entry per call: an error to throw, or undefined to succeed; past the end, succeed */
  script: (Error | undefined)[] = [];
  /** resolves a call only when released (to watch parallelism) */
  gate?: Promise<void>;

  constructor(readonly kind: NotifierPort['kind'], readonly target: string) {}

  async send(n: Notification): Promise<void> {
    const err = this.script[this.calls++];
    if (this.gate) await this.gate;
    if (err) throw err;
    this.sent.push(n);
  }
}

function setup(notifiers: NotifierPort[], over: Partial<NotifyDispatcherOptions> = {}) {
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  const sleeps: number[] = [];
  const failures: [string, string][] = [];
  const d = new NotifyDispatcher({
    notifiers, logger: pino({ level: 'debug' }, stream), host: 'nas', onSuccess: false,
    sleep: async (ms) => { sleeps.push(ms); },
    onFailure: (kind, target) => failures.push([kind, target]),
    ...over,
  });
  return { d, logs, sleeps, failures };
}

const rolledBack: Notification = {
  event: 'update-rolled-back', title: 'stackd: update rolled back on nas: immich/server', message: 'immich/server img: unhealthy',
  priority: 'high', tags: ['rewind', 'update-rolled-back'], items: [{ stack: 'immich', service: 'server', image: 'img', reason: 'unhealthy' }],
};

describe('the core Notification is the port\'s Notification', () => {
  it('has the same shape (a type test: tsc fails when they drift)', () => {
    expectTypeOf<CoreNotification>().toEqualTypeOf<Notification>();
    expectTypeOf<CoreNotifyEvent>().toEqualTypeOf<NotifyEvent>();
  });
});

describe('NotifyDispatcher.send', () => {
  it('sends to every notifier, in parallel', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    const a = new FakeNotifier('gotify', 'https://gotify.lan/message');
    const b = new FakeNotifier('ntfy', 'https://ntfy.sh/stacks');
    a.gate = gate;
    b.gate = gate;
    const { d } = setup([a, b]);
    const done = d.send(rolledBack);
    await Promise.resolve();
    // both are waiting at once: neither waits for the other
    expect([a.calls, b.calls]).toEqual([1, 1]);
    release();
    await done;
    expect(a.sent).toEqual([rolledBack]);
    expect(b.sent).toEqual([rolledBack]);
  });

  it('retries a failing notifier after 1 s, then 4 s, and is done when it gets through', async () => {
    const a = new FakeNotifier('gotify', 'https://gotify.lan/message');
    a.script = [new NotifierTimeoutError('gotify', a.target, 10_000), new Error('ECONNRESET')];
    const { d, sleeps, failures } = setup([a]);
    await d.send(rolledBack);
    expect(a.calls).toBe(3);
    expect(sleeps).toEqual([1_000, 4_000]);
    expect(a.sent).toHaveLength(1);
    expect(failures).toEqual([]);
  });

  it('gives up after 3 attempts: logs and counts it, never throws, and the other notifiers still get it', async () => {
    const down = new FakeNotifier('gotify', 'https://gotify.lan/message');
    down.script = [new Error('one'), new Error('two'), new NotifierTimeoutError('gotify', down.target, 10_000)];
    const up = new FakeNotifier('ntfy', 'https://ntfy.sh/stacks');
    const { d, failures, logs } = setup([down, up]);
    await expect(d.send(rolledBack)).resolves.toBeUndefined();
    expect(down.calls).toBe(3);
    expect(up.sent).toHaveLength(1);
    expect(failures).toEqual([['gotify', 'https://gotify.lan/message']]);
    const warn = logs.find((l) => l['msg'] === 'notification not delivered; the work it reports on is not affected');
    expect(warn).toMatchObject({ level: 40, notifier: 'gotify', target: 'https://gotify.lan/message', event: 'update-rolled-back', attempts: 3 });
    expect(JSON.stringify(warn)).toContain('did not answer within 10000 ms');
  });

  it('does not retry a definite refusal (401): a wrong token stays wrong for the next 5 s', async () => {
    const a = new FakeNotifier('gotify', 'https://gotify.lan/message');
    a.script = [new NotifierHttpError('gotify', a.target, 401, 'unauthorized', 'check the token')];
    const { d, sleeps, failures } = setup([a]);
    await d.send(rolledBack);
    expect(a.calls).toBe(1);
    expect(sleeps).toEqual([]);
    expect(failures).toHaveLength(1);
  });

  it.each([429, 408, 500, 503])('retries an answer of %d', async (status) => {
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    a.script = [new NotifierHttpError('ntfy', a.target, status, '', 'x')];
    const { d } = setup([a]);
    await d.send(rolledBack);
    expect(a.calls).toBe(2);
  });

  it('a notifier that throws synchronously, and an onFailure that throws, still never fail the caller', async () => {
    const bad: NotifierPort = { kind: 'webhook', target: 'https://hooks.lan/x', send: () => { throw new Error('sync'); } };
    const { d } = setup([bad], { onFailure: () => { throw new Error('metrics broke'); } });
    await expect(d.send(rolledBack)).resolves.toBeUndefined();
  });

  it('applied updates go out only with onSuccess', async () => {
    const applied: Notification = { ...rolledBack, event: 'update-applied', priority: 'default' };
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    await setup([a]).d.send(applied);
    expect(a.sent).toEqual([]);
    await setup([a], { onSuccess: true }).d.send(applied);
    expect(a.sent).toHaveLength(1);
  });

  it('scrubs every text with its own redactor, whoever built the notification', async () => {
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    const { d } = setup([a], { redact: (t) => t.replaceAll('sekrit', '***') });
    await d.send({ ...rolledBack, message: 'token sekrit leaked', items: [{ stack: 'immich', reason: 'sekrit' }] });
    expect(JSON.stringify(a.sent)).not.toContain('sekrit');
    expect(a.sent[0]?.message).toBe('token *** leaked');
  });

  it('with no notifiers configured, does nothing', async () => {
    await expect(setup([]).d.send(rolledBack)).resolves.toBeUndefined();
  });
});

describe('NotifyDispatcher.notifyStackVerdict', () => {
  it('one message per change of a stack\'s condition, none per retry', async () => {
    const a = new FakeNotifier('gotify', 'https://gotify.lan/message');
    const { d } = setup([a]);
    const at = { startedAt: '', finishedAt: '', durationMs: 1 };
    const verdicts = [
      { result: 'ok' as const },
      { result: 'failed' as const, reasonCode: 'compose-failed' as const, reason: 'compose up failed (exit 1)' },
      { result: 'failed' as const, reasonCode: 'compose-failed' as const, reason: 'compose up failed (exit 1)' },
      { result: 'failed' as const, reasonCode: 'podman-unreachable' as const, reason: 'no answer from podman' },
      { result: 'skipped' as const, reasonCode: 'unchanged' as const },
      { result: 'ok' as const },
      { result: 'failed' as const, reasonCode: 'label-invariant' as const, reason: 'service "web" lacks the label' },
    ];
    for (const v of verdicts) await d.notifyStackVerdict('immich', { ...at, ...v });
    expect(a.sent.map((n) => `${n.event}: ${n.message.split('\n')[0]}`)).toEqual([
      'reconcile-failed: immich: compose-failed: compose up failed (exit 1)',
      'reconcile-failed: immich: podman-unreachable: no answer from podman',
      'recovered: immich: ok again (was podman-unreachable)',
      'invariant-violation: immich: label-invariant: service "web" lacks the label',
    ]);
    expect(d.notifiedStates.get('immich')).toEqual({ condition: 'violating', reasonCode: 'label-invariant' });
  });

  it('remembers the change even when no notifier got it (no repeat on the next retry), and forgets a stack that left', async () => {
    const a = new FakeNotifier('gotify', 'https://gotify.lan/message');
    a.script = [new Error('1'), new Error('2'), new Error('3')];
    const { d, failures } = setup([a]);
    await d.notifyStackVerdict('immich', { result: 'failed', reasonCode: 'compose-timeout', reason: 'killed after 5m' });
    await d.notifyStackVerdict('immich', { result: 'failed', reasonCode: 'compose-timeout', reason: 'killed after 5m' });
    expect(a.calls).toBe(3);
    expect(failures).toHaveLength(1);
    await d.notifyStackVerdict('immich', { result: 'ok', reasonCode: 'not-configured', reason: 'left the config' });
    expect(d.notifiedStates.has('immich')).toBe(false);
    expect(a.calls).toBe(3);
  });

  it('decides at once, before anything is sent: two verdicts in a row never both announce the same failure', async () => {
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    const { d } = setup([a]);
    const failed = { result: 'failed' as const, reasonCode: 'compose-failed' as const, reason: 'x' };
    await Promise.all([d.notifyStackVerdict('immich', failed), d.notifyStackVerdict('immich', failed)]);
    expect(a.sent).toHaveLength(1);
  });

  it('uses the per-call redactor and the host in the title', async () => {
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    const { d } = setup([a]);
    await d.notifyStackVerdict('immich', { result: 'failed', reasonCode: 'compose-failed', reason: 'password hunter22 refused' },
      (t) => t.replaceAll('hunter22', '***'));
    expect(a.sent[0]?.title).toBe('stackd: reconcile failed on nas: immich');
    expect(a.sent[0]?.message).toContain('password *** refused');
  });
});

describe('NotifyDispatcher.notifyUpdateRun', () => {
  it('sends the run\'s one message, and nothing for a run without news', async () => {
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    const { d } = setup([a]);
    await d.notifyUpdateRun({ rows: [{ stack: 'immich', service: 'server', image: 'img:1', updated: 'false' }] });
    expect(a.sent).toEqual([]);
    await d.notifyUpdateRun({ rows: [
      { stack: 'immich', service: 'server', image: 'img:1', updated: 'rolled back', reason: 'unhealthy' },
      { stack: 'immich', service: 'ml', image: 'ml:1', updated: 'rolled back', reason: 'exited 1' },
      { stack: 'paperless', service: 'web', image: 'web:2', updated: 'true' },
    ] });
    expect(a.sent.map((n) => n.title)).toEqual(['stackd: update rolled back on nas: immich/server, immich/ml']);
  });

  it('once per change: the same failure or available digest on the next runs sends nothing; a change does', async () => {
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    const { d } = setup([a]);
    const down = { stack: 'immich', service: 'server', image: 'img:1', updated: 'failed' as const, reason: 'cannot reach reg' };
    const available = { stack: 'paperless', service: 'web', image: 'web:2', updated: 'pending' as const, digest: 'sha256:aa' };
    await d.notifyUpdateRun({ rows: [down, available] });
    await d.notifyUpdateRun({ rows: [down, available] });
    await d.notifyUpdateRun({ rows: [{ ...down, reason: 'rate-limited' }, available] });
    expect(a.sent.map((n) => n.items.map((i) => `${i.stack}/${i.service ?? ''}`))).toEqual([['immich/server', 'paperless/web']]);
    // a newer digest is news; the registry back and down again is news
    await d.notifyUpdateRun({ rows: [{ ...down, updated: 'false' }, { ...available, digest: 'sha256:bb' }] });
    await d.notifyUpdateRun({ rows: [down, { ...available, digest: 'sha256:bb' }] });
    expect(a.sent.slice(1).map((n) => [n.event, n.items.map((i) => `${i.stack}/${i.service ?? ''}`)])).toEqual([
      ['update-available', ['paperless/web']],
      ['update-failed', ['immich/server']],
    ]);
  });

  it('a dry run sends nothing and leaves what was told unchanged', async () => {
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    const { d } = setup([a]);
    const rolled = { stack: 'immich', service: 'server', image: 'img:1', updated: 'failed' as const, reason: 'down' };
    await d.notifyUpdateRun({ dryRun: true, rows: [rolled, { stack: 'paperless', service: 'web', image: 'web:2', updated: 'pending', digest: 'sha256:aa' }] });
    expect(a.sent).toEqual([]);
    await d.notifyUpdateRun({ rows: [rolled] });
    expect(a.sent.map((n) => n.event)).toEqual(['update-failed']);
  });

  it('includes applied services with onSuccess', async () => {
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    const { d } = setup([a], { onSuccess: true });
    await d.notifyUpdateRun({ rows: [{ stack: 'paperless', service: 'web', image: 'web:2', updated: 'true' }] });
    expect(a.sent.map((n) => [n.event, n.message])).toEqual([['update-applied', 'paperless/web web:2: updated']]);
  });
});

describe('NotifyDispatcher.configure (config reload)', () => {
  it('sends to the new notifiers with the new onSuccess, and keeps what was last told per stack', async () => {
    const before = new FakeNotifier('gotify', 'https://gotify.lan/message');
    const after = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    const { d } = setup([before]);
    await d.notifyStackVerdict('immich', { result: 'failed', reasonCode: 'compose-failed', reason: 'x' });
    d.configure({ notifiers: [after], onSuccess: true });
    await d.notifyStackVerdict('immich', { result: 'failed', reasonCode: 'compose-failed', reason: 'x' });
    await d.notifyUpdateRun({ rows: [{ stack: 'paperless', service: 'web', image: 'web:2', updated: 'true' }] });
    expect(before.sent.map((n) => n.event)).toEqual(['reconcile-failed']);
    expect(after.sent.map((n) => n.event)).toEqual(['update-applied']);
  });
});

describe('NotifyDispatcher as a lifecycle part', () => {
  it('stop() lets a notification being sent finish, without further retries', async () => {
    let release = () => {};
    const a = new FakeNotifier('gotify', 'https://gotify.lan/message');
    a.gate = new Promise<void>((r) => { release = r; });
    a.script = [new Error('first try fails')];
    const { d, sleeps, failures } = setup([a]);
    d.start();
    const sending = d.send(rolledBack);
    const stopped = d.stop();
    release();
    await stopped;
    await sending;
    // the first try failed after stop began: no retry, counted as a failure
    expect(a.calls).toBe(1);
    expect(sleeps).toEqual([]);
    expect(failures).toHaveLength(1);
  });

  it('stop() with nothing in flight returns at once; idle() waits for everything sent', async () => {
    const a = new FakeNotifier('ntfy', 'https://ntfy.sh/t');
    const { d } = setup([a]);
    await d.stop();
    void d.send(rolledBack);
    await d.idle();
    expect(a.sent).toHaveLength(1);
  });
});
