// Notifications against REAL peers: a real ntfy server (Debian trixie's 2.11, started here on loopback as the
// lab user, with access control and a token) receives what the BUILT notifier and dispatcher (dist/) send, and
// we read it back from ntfy itself — proving the peer accepts our headers (an RFC 2047 title, X-Priority,
// X-Tags, Bearer), our body size and our message text. A Gotify-shaped receiver (node:http) checks the request
// as Gotify's API documents it. (stackd sending on a real rollback comes with the updater.)
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, freePort, ROOT, run, scratch, waitFor } from './harness.js';

type NotifiersModule = typeof import('../../src/adapters/notifiers.js');
type DispatcherModule = typeof import('../../src/supervisor/notify-dispatcher.js');
type RedactModule = typeof import('../../src/core/redact.js');

/** One message as ntfy's JSON stream returns it. */
interface NtfyMessage {
  event: string;
  topic: string;
  title?: string;
  message?: string;
  priority?: number;
  tags?: string[];
  attachment?: unknown;
}

let dir: string;
let ntfy: ChildProcess;
let ntfyLog = '';
let base: string;
let token: string;
let tokenFile: string;
let notifiers: NotifiersModule;
let dispatcherModule: DispatcherModule;
let redactModule: RedactModule;

/** Everything ntfy holds for the topic, read with the token (access control denies anonymous reads). */
async function readBack(topic: string): Promise<NtfyMessage[]> {
  const r = await request(`${base}/${topic}/json?poll=1&since=all`, { headers: { authorization: `Bearer ${token}` } });
  const text = await r.body.text();
  if (r.statusCode !== 200) throw new Error(`ntfy GET /${topic}/json answered ${r.statusCode}: ${text}`);
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as NtfyMessage).filter((m) => m.event === 'message');
}

function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

beforeAll(async () => {
  dir = await scratch('notify');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const authFile = join(dir, 'auth.db');
  ntfy = spawn('ntfy', [
    'serve', '--listen-http', `127.0.0.1:${port}`, '--cache-file', join(dir, 'cache.db'), '--base-url', base,
    '--auth-file', authFile, '--auth-default-access', 'deny-all',
  ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  ntfy.stdout?.on('data', (d: Buffer) => { ntfyLog += d.toString(); });
  ntfy.stderr?.on('data', (d: Buffer) => { ntfyLog += d.toString(); });
  await waitFor(async () => {
    if (ntfy.exitCode !== null) throw new Error(`ntfy exited (${ntfy.exitCode}):\n${ntfyLog}`);
    const r = await request(`${base}/v1/health`).catch(() => undefined);
    if (!r) return false;
    return r.statusCode === 200 && (JSON.parse(await r.body.text()) as { healthy?: boolean }).healthy === true;
  }, 15_000, 'ntfy to answer /v1/health', () => ntfyLog);
  // a user and an access token, made with ntfy's own CLI (the auth file exists once the server has started)
  const user = await run(['ntfy', 'user', '--auth-file', authFile, 'add', '--role=admin', 'stackd'], { env: { NTFY_PASSWORD: 'lab-password-not-a-secret' } });
  if (user.code !== 0) throw new Error(`ntfy user add failed (${user.code}): ${user.stderr}`);
  const tok = await run(['ntfy', 'token', '--auth-file', authFile, 'add', 'stackd']);
  const m = /\b(tk_[a-z0-9]+)\b/.exec(`${tok.stdout}\n${tok.stderr}`);
  if (tok.code !== 0 || !m?.[1]) throw new Error(`ntfy token add failed (${tok.code}): ${tok.stdout}${tok.stderr}`);
  token = m[1];
  tokenFile = join(dir, 'ntfy.token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  notifiers = (await import(join(ROOT, 'dist/adapters/notifiers.js'))) as NotifiersModule;
  dispatcherModule = (await import(join(ROOT, 'dist/supervisor/notify-dispatcher.js'))) as DispatcherModule;
  redactModule = (await import(join(ROOT, 'dist/core/redact.js'))) as RedactModule;
  const version = await run(['ntfy', '--help']);
  console.log(`ntfy: ${/ntfy \d[\d.]*/.exec(version.stdout)?.[0] ?? 'version unknown'} on ${base}, access control deny-all, token ${token.slice(0, 3)}…`);
});

afterAll(async () => {
  if (ntfy && ntfy.exitCode === null) {
    ntfy.kill('SIGTERM');
    await once(ntfy, 'exit');
  }
  if (dir) await cleanup(dir);
});

describe('a real ntfy', () => {
  it('accepts a rolled-back update from the built dispatcher: non-ASCII title, priority, tags and message read back', async () => {
    const failures: string[] = [];
    const { logger } = capturingLogger();
    const ntfyNotifier = new notifiers.NtfyNotifier({ url: base, topic: 'stackd-rollback', tokenFile });
    const d = new dispatcherModule.NotifyDispatcher({
      notifiers: [ntfyNotifier], logger, host: 'lab-Ünïcode ✓', onSuccess: false, onFailure: (k, t) => failures.push(`${k} ${t}`),
    });
    // the redactor of the stack's env files, as the updater will pass it
    const redact = redactModule.makeRedactor(['lab-db-password-0001']);
    await d.notifyUpdateRun({
      rows: [
        {
          stack: 'demo', service: 'web', image: 'localhost:5000/lab/web:2', updated: 'rolled back',
          reason: 'health gate: unhealthy after 30s (wget http://127.0.0.1/ failed)',
          logTail: 'starting web 2\n\u001b[31mFATAL\u001b[0m: connect db with password lab-db-password-0001: refused\n',
        },
        { stack: 'demo', service: 'worker', image: 'localhost:5000/lab/worker:2', updated: 'rolled back', reason: 'health gate: exited 1' },
        { stack: 'demo', service: 'cache', image: 'localhost:5000/lab/cache:7', updated: 'false' },
      ],
    }, redact);
    expect(failures).toEqual([]);
    const got = await readBack('stackd-rollback');
    console.log(`ntfy stored:\n${JSON.stringify(got.map(({ title, priority, tags, message }) => ({ title, priority, tags, message })), null, 2)}`);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      title: 'stackd: update rolled back on lab-Ünïcode ✓: demo/web, demo/worker',
      priority: 4,
      tags: ['rewind', 'update-rolled-back'],
      message: [
        'demo/web localhost:5000/lab/web:2: health gate: unhealthy after 30s (wget http://127.0.0.1/ failed)',
        '  last 2 log lines:',
        '  | starting web 2',
        '  | FATAL: connect db with password ***: refused',
        'demo/worker localhost:5000/lab/worker:2: health gate: exited 1',
      ].join('\n'),
    });
  });

  it('takes a message over its 4096-byte limit as a message (cut below the limit), not as a refused attachment', async () => {
    const failures: string[] = [];
    const d = new dispatcherModule.NotifyDispatcher({
      notifiers: [new notifiers.NtfyNotifier({ url: base, topic: 'stackd-long', tokenFile })],
      logger: capturingLogger().logger, host: 'lab', onSuccess: false, onFailure: (k) => failures.push(k),
    });
    const message = Array.from({ length: 120 }, (_, i) => `demo/svc${i} localhost:5000/lab/app:${i}: health gate: unhealthy ✗`).join('\n');
    expect(Buffer.byteLength(message)).toBeGreaterThan(4096);
    await d.send({ event: 'update-failed', title: 'stackd: update failed on lab: many', message, priority: 'high', tags: ['x', 'update-failed'], items: [] });
    expect(failures).toEqual([]);
    const [got] = await readBack('stackd-long');
    expect(got?.attachment).toBeUndefined();
    expect(got?.message?.endsWith('\n… (truncated)')).toBe(true);
    expect(Buffer.byteLength(got?.message ?? '')).toBeLessThan(4096);
    console.log(`long message: sent ${Buffer.byteLength(message)} bytes, ntfy stored ${Buffer.byteLength(got?.message ?? '')} bytes ending "${got?.message?.slice(-30)}"`);
  });

  it('announces a stack once per change: failed, retried, failed otherwise, recovered → three messages', async () => {
    const d = new dispatcherModule.NotifyDispatcher({
      notifiers: [new notifiers.NtfyNotifier({ url: base, topic: 'stackd-verdicts', tokenFile })],
      logger: capturingLogger().logger, host: 'lab', onSuccess: false,
    });
    const at = { startedAt: '2026-11-28T10:00:00Z', finishedAt: '2026-11-28T10:00:01Z', durationMs: 1000 };
    await d.notifyStackVerdict('demo', { ...at, result: 'ok' });
    await d.notifyStackVerdict('demo', { ...at, result: 'failed', reasonCode: 'compose-failed', reason: 'stack "demo": compose up failed (exit 1)' });
    await d.notifyStackVerdict('demo', { ...at, result: 'failed', reasonCode: 'compose-failed', reason: 'stack "demo": compose up failed (exit 1)' });
    await d.notifyStackVerdict('demo', { ...at, result: 'failed', reasonCode: 'podman-unreachable', reason: 'cannot reach the podman API' });
    await d.notifyStackVerdict('demo', { ...at, result: 'ok' });
    const got = await readBack('stackd-verdicts');
    console.log(`verdicts → ntfy: ${JSON.stringify(got.map((m) => [m.priority, m.title]))}`);
    expect(got.map((m) => [m.priority, m.title, m.tags])).toEqual([
      [4, 'stackd: reconcile failed on lab: demo', ['rotating_light', 'reconcile-failed']],
      [4, 'stackd: reconcile failed on lab: demo', ['rotating_light', 'reconcile-failed']],
      [3, 'stackd: recovered on lab: demo', ['green_heart', 'recovered']],
    ]);
    expect(got[1]?.message?.split('\n')[0]).toBe('demo: podman-unreachable: cannot reach the podman API');
    expect(got[2]?.message).toBe('demo: ok again (was podman-unreachable)');
  });

  it('refuses a wrong token: the error names ntfy and its URL, not the token; the dispatcher counts it once, without retrying', async () => {
    const wrongFile = join(dir, 'wrong.token');
    const wrong = 'tk_wrongwrongwrongwrongwrongwr';
    await writeFile(wrongFile, wrong);
    const n = new notifiers.NtfyNotifier({ url: base, topic: 'stackd-denied', tokenFile: wrongFile });
    const err = await n.send({ event: 'recovered', title: 't', message: 'm', priority: 'default', tags: [], items: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(notifiers.NotifierHttpError);
    const msg = (err as Error).message;
    console.log(`wrong token → ${msg}`);
    expect(msg).toMatch(new RegExp(`^ntfy notifier: POST ${base}/stackd-denied answered 40[13] `));
    expect(msg).not.toContain(wrong);
    const failures: string[] = [];
    const { logger, lines } = capturingLogger();
    const attempts: number[] = [];
    const d = new dispatcherModule.NotifyDispatcher({
      notifiers: [n], logger, host: 'lab', onSuccess: false, onFailure: (k, t) => failures.push(`${k} ${t}`),
      sleep: async (ms) => { attempts.push(ms); },
    });
    await d.send({ event: 'recovered', title: 't', message: 'm', priority: 'default', tags: [], items: [] });
    expect(failures).toEqual([`ntfy ${base}/stackd-denied`]);
    expect(attempts).toEqual([]);
    expect(lines.join('')).toContain('notification not delivered');
    expect(lines.join('')).not.toContain(wrong);
  });
});

describe('a Gotify-shaped receiver', () => {
  it('gets POST /message with X-Gotify-Key from the token file and the JSON Gotify documents', async () => {
    const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const gotify = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => { body += c; });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: seen.length, appid: 1, message: 'x', title: 'x', priority: 8, date: new Date().toISOString() }));
      });
    });
    gotify.listen(0, '127.0.0.1');
    await once(gotify, 'listening');
    try {
      const url = `http://127.0.0.1:${(gotify.address() as AddressInfo).port}`;
      const gotifyToken = join(dir, 'gotify.token');
      await writeFile(gotifyToken, 'AgotifyAppToken1\n', { mode: 0o600 });
      const failures: string[] = [];
      const d = new dispatcherModule.NotifyDispatcher({
        notifiers: notifiers.createNotifiers([{ kind: 'gotify', url, tokenFile: gotifyToken }], { host: 'lab' }),
        logger: capturingLogger().logger, host: 'lab-Ünïcode ✓', onSuccess: false, onFailure: (k) => failures.push(k),
      });
      await d.notifyUpdateRun({ rows: [{ stack: 'demo', service: 'web', image: 'localhost:5000/lab/web:2', updated: 'rolled back', reason: 'health gate: unhealthy' }] });
      expect(failures).toEqual([]);
      expect(seen).toHaveLength(1);
      const [req] = seen;
      console.log(`gotify receiver got: ${req?.method} ${req?.url} X-Gotify-Key=${String(req?.headers['x-gotify-key'])} ${req?.body}`);
      expect(req?.method).toBe('POST');
      expect(req?.url).toBe('/message');
      expect(req?.headers['x-gotify-key']).toBe('AgotifyAppToken1');
      expect(req?.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(req?.body ?? '')).toEqual({
        title: 'stackd: update rolled back on lab-Ünïcode ✓: demo/web',
        message: 'demo/web localhost:5000/lab/web:2: health gate: unhealthy',
        priority: 8,
      });
    } finally {
      gotify.closeAllConnections();
      gotify.close();
    }
  });
});
