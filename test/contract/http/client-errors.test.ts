// Requests so broken that Node's HTTP parser refuses them before fastify routes anything (a malformed request,
// headers past 16 KiB, a request that never finishes): the answer is still in the API's error shape.
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/http/app.js';
import type { AppOptions } from '../../../src/http/app.js';
import { listenTcp, listenUnixSocket } from '../../../src/http/listen.js';
import { FakeSupervisor, makeStack } from './fake-supervisor.js';

let dir: string;
const apps: FastifyInstance[] = [];
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'stackd-client-errors-')); });
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await rm(dir, { recursive: true, force: true });
});

function newApp(opts: Partial<AppOptions> = {}): FastifyInstance {
  const app = buildApp({ supervisor: new FakeSupervisor([makeStack('immich')]), logger: pino({ level: 'silent' }), writable: true, ...opts });
  apps.push(app);
  return app;
}

/** Sends raw bytes; resolves with the status line and the parsed body once the server hangs up. */
function exchange(target: string | number, bytes: string): Promise<{ status: string; body: unknown }> {
  const socket = typeof target === 'string' ? connect(target) : connect(target, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => { text += d.toString(); });
  socket.on('error', () => undefined);
  socket.write(bytes);
  return new Promise((resolve) => socket.once('close', () => {
    const status = text.slice(0, text.indexOf('\r\n'));
    const raw = text.slice(text.indexOf('\r\n\r\n') + 4);
    let body: unknown = raw;
    try { body = JSON.parse(raw); } catch { /* left as text: the test shows it */ }
    resolve({ status, body });
  }));
}

async function unixApp(): Promise<string> {
  const path = join(dir, 'stackd.sock');
  await listenUnixSocket(newApp(), path);
  return path;
}

it('a malformed request is 400 in the error shape', async () => {
  const r = await exchange(await unixApp(), 'THIS IS NOT HTTP\r\n\r\n');
  expect(r).toEqual({ status: 'HTTP/1.1 400 Bad Request', body: { error: { code: 'bad-request', message: expect.stringMatching(/^malformed HTTP request \(.+\); stackd speaks HTTP\/1\.1 on this socket$/) } } });
});

it('headers (URL included) past 16 KiB are 431 in the error shape', async () => {
  const r = await exchange(await unixApp(), `GET /v1/stacks/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: stackd\r\n\r\n`);
  expect(r).toEqual({ status: 'HTTP/1.1 431 Request Header Fields Too Large', body: { error: { code: 'bad-request', message: 'request line and headers larger than 16 KiB; no stackd request needs that much' } } });
});

it('a request that does not arrive in time is 408 in the error shape (read-only TCP listener)', async () => {
  const app = newApp({ writable: false, readOnlyLimits: { requestTimeoutMs: 200, checkIntervalMs: 20 } });
  const port = Number(new URL(await listenTcp(app, '127.0.0.1', 0)).port);
  const r = await exchange(port, 'GET /v1/stacks HTTP/1.1\r\nHost: stackd\r\n');
  expect(r).toEqual({ status: 'HTTP/1.1 408 Request Timeout', body: { error: { code: 'bad-request', message: 'the request did not arrive in full within 0.2 s; send it at once' } } });
});
