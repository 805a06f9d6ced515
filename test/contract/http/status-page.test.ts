// The status pages and the event stream through the real fastify app: the pages by inject(), the SSE stream
// over a real unix socket (a stream is a long-lived response inject() cannot show).
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/http/app.js';
import { listenUnixSocket } from '../../../src/http/listen.js';
import type { StackEvent, StackEvents } from '../../../src/supervisor/api.js';
import { FakeSupervisor, makeStack } from './fake-supervisor.js';

const logger = pino({ level: 'silent' });
let app: FastifyInstance | undefined;
let dir: string | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

class Emitter implements StackEvents {
  readonly listeners = new Set<(e: StackEvent) => void>();
  subscribe(l: (e: StackEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(e: StackEvent): void { for (const l of this.listeners) l(e); }
}

function supervisorWith(...stacks: ReturnType<typeof makeStack>[]): FakeSupervisor {
  return new FakeSupervisor(stacks);
}

describe('GET / and GET /stacks/:name', () => {
  it.each([true, false])('writable=%s: every stack with its state, as HTML under a CSP without inline allowances', async (writable) => {
    app = buildApp({ supervisor: supervisorWith(makeStack('immich'), makeStack('paperless', { state: 'failed', health: 'down' })), logger, writable });
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).not.toContain('unsafe-inline');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toContain('immich');
    expect(r.body).toContain('paperless');
    expect(r.body).toContain('failed');
    expect(r.body).toMatch(/<meta name="viewport"/);
    expect(r.body).toMatch(/<noscript>.*http-equiv="refresh"/s);
  });

  it('text from outside (a reason, a container name) is escaped, never markup', async () => {
    const evil = '<script>alert(1)</script>"\'&';
    const stack = makeStack('web', {
      state: 'failed',
      lastResult: { result: 'failed', reasonCode: 'compose-failed', reason: evil, startedAt: '2026-02-12T21:00:00.000Z', finishedAt: '2026-02-12T21:00:01.000Z', durationMs: 1000 },
      containers: [{ id: 'x', name: '<img src=x onerror=alert(2)>', service: 'app', state: 'running', health: 'none' }],
    });
    app = buildApp({ supervisor: supervisorWith(stack), logger, writable: true });
    for (const url of ['/', '/stacks/web']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode).toBe(200);
      expect(r.body).not.toContain('<script>alert(1)');
      expect(r.body).not.toContain('<img src=x');
      if (url === '/stacks/web') expect(r.body).toContain('&lt;img src=x onerror=alert(2)&gt;');
      expect(r.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('the detail page lists the containers; an unknown stack is a 404 page naming the known ones', async () => {
    app = buildApp({ supervisor: supervisorWith(makeStack('immich')), logger, writable: false });
    const ok = await app.inject({ method: 'GET', url: '/stacks/immich' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('immich-app-1');
    expect(ok.body).toContain('immich-db-1');
    const missing = await app.inject({ method: 'GET', url: '/stacks/nosuch' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(missing.body).toContain('nosuch');
    expect(missing.body).toContain('immich');
  });
});

/** Open GET /v1/events on the socket; frames are collected as they arrive. */
async function openStream(socketPath: string): Promise<{ res: IncomingMessage; text: () => string; close: () => void }> {
  let text = '';
  const req = httpRequest({ socketPath, path: '/v1/events', headers: { accept: 'text/event-stream' } });
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
  res.setEncoding('utf8');
  res.on('data', (d: string) => { text += d; });
  return { res, text: () => text, close: () => { req.destroy(); } };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('GET /v1/events over a real unix socket', () => {
  it('starts with every stack, sends each change, drops the subscriber when the client goes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-sse-'));
    const events = new Emitter();
    app = buildApp({ supervisor: supervisorWith(makeStack('a'), makeStack('b')), logger, writable: true, events, eventsHeartbeatMs: 50 });
    const sock = join(dir, 's', 'api.sock');
    await listenUnixSocket(app, sock);
    const s = await openStream(sock);
    expect(s.res.statusCode).toBe(200);
    expect(s.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await until(() => (s.text().match(/event: stack\n/g) ?? []).length === 2, 'the initial frames');
    expect(events.listeners.size).toBe(1);

    events.emit({ kind: 'stack', stack: makeStack('a', { state: 'degraded', health: 'degraded' }) });
    await until(() => s.text().includes('"state":"degraded"'), 'the change');
    const last = s.text().split('\n\n').filter((f) => f.startsWith('event: stack')).at(-1) ?? '';
    expect(JSON.parse(last.split('data: ')[1] ?? '{}')).toMatchObject({ name: 'a', state: 'degraded' });
    await until(() => s.text().includes(': heartbeat'), 'a heartbeat');

    s.close();
    await until(() => events.listeners.size === 0, 'the subscriber to be dropped');
  });

  it('an open stream does not hold up closing the app', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-sse-'));
    const events = new Emitter();
    const a = buildApp({ supervisor: supervisorWith(makeStack('a')), logger, writable: true, events });
    const sock = join(dir, 's', 'api.sock');
    await listenUnixSocket(a, sock);
    const s = await openStream(sock);
    await until(() => s.text().includes('event: stack'), 'the initial frame');
    const ended = new Promise<void>((r) => s.res.on('end', () => r()));
    await a.close(); // would never settle while the stream held its connection open
    await ended;
    expect(events.listeners.size).toBe(0);
  });

  it('without an event source the route says so (404)', async () => {
    app = buildApp({ supervisor: supervisorWith(makeStack('a')), logger, writable: true });
    const r = await app.inject({ method: 'GET', url: '/v1/events' });
    expect(r.statusCode).toBe(404);
  });
});
