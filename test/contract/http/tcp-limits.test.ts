// The read-only TCP listener faces the network: it must not let slow or idle clients hold connections, must cap
// them, and takes no request bodies. Real sockets on loopback, with small limits so nothing waits long.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { request } from 'undici';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/http/app.js';
import type { AppOptions } from '../../../src/http/app.js';
import { listenTcp } from '../../../src/http/listen.js';
import { READ_ONLY_LIMITS } from '../../../src/http/read-only.js';
import { FakeSupervisor, makeStack } from './fake-supervisor.js';

const apps: FastifyInstance[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function newApp(opts: Partial<AppOptions> = {}): { app: FastifyInstance; supervisor: FakeSupervisor } {
  const supervisor = new FakeSupervisor([makeStack('immich')]);
  const app = buildApp({ supervisor, logger: pino({ level: 'silent' }), writable: false, ...opts });
  apps.push(app);
  return { app, supervisor };
}

async function serve(opts: Partial<AppOptions> = {}) {
  const { app, supervisor } = newApp(opts);
  const address = await listenTcp(app, '127.0.0.1', 0);
  return { app, supervisor, address, port: Number(new URL(address).port) };
}

/** A raw connection; `closed` resolves with everything the server sent once it hangs up. */
function rawConnection(port: number): { socket: Socket; connected: Promise<void>; closed: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let text = '';
  socket.on('data', (d: Buffer) => { text += d.toString(); });
  socket.on('error', () => undefined); // a reset is one way of being cut off
  return {
    socket,
    connected: new Promise((resolve) => socket.once('connect', () => resolve())),
    closed: new Promise((resolve) => socket.once('close', () => resolve(text))),
  };
}

async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
}

function connectionCount(app: FastifyInstance): Promise<number> {
  return new Promise((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

describe('read-only TCP listener limits', () => {
  it('has a request timeout, an idle timeout, a short keep-alive and a connection cap by default', () => {
    const { app } = newApp();
    expect(app.server.requestTimeout).toBe(READ_ONLY_LIMITS.requestTimeoutMs);
    expect(app.server.headersTimeout).toBeLessThanOrEqual(READ_ONLY_LIMITS.requestTimeoutMs);
    expect(app.server.timeout).toBe(READ_ONLY_LIMITS.connectionTimeoutMs);
    expect(app.server.keepAliveTimeout).toBe(READ_ONLY_LIMITS.keepAliveTimeoutMs);
    expect(app.server.maxConnections).toBe(READ_ONLY_LIMITS.maxConnections);
    expect(READ_ONLY_LIMITS).toMatchObject({ requestTimeoutMs: 10_000, connectionTimeoutMs: 30_000, maxConnections: 64 });
  });

  it('leaves the unix-socket app alone (stackctl long-polls there)', () => {
    const app = buildApp({ supervisor: new FakeSupervisor([]), logger: pino({ level: 'silent' }), writable: true });
    apps.push(app);
    expect(app.server.maxConnections).toBeUndefined();
    expect(app.server.timeout).toBe(0);
  });

  it('cuts off a client that sends half a request', async () => {
    const { port } = await serve({ readOnlyLimits: { requestTimeoutMs: 200, checkIntervalMs: 20 } });
    const conn = rawConnection(port);
    await conn.connected;
    conn.socket.write('GET /v1/stacks HTTP/1.1\r\nHost: stackd\r\nX-Slow: '); // and never the rest
    const sent = await conn.closed;
    expect(sent === '' || sent.startsWith('HTTP/1.1 408 ')).toBe(true);
  });

  it('refuses a connection past the cap and keeps serving the ones it has', async () => {
    const { app, address, port } = await serve({ readOnlyLimits: { maxConnections: 2 } });
    const held = [rawConnection(port), rawConnection(port)];
    await Promise.all(held.map((c) => c.connected));
    await until(async () => (await connectionCount(app)) === 2);
    const third = rawConnection(port);
    expect(await third.closed).toBe('');
    held[0]?.socket.destroy();
    await until(async () => (await connectionCount(app)) === 1);
    const res = await request(`${address}/healthz`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it.each(['GET', 'POST'] as const)('refuses a request body (%s) with 413 in the API error shape', async (method) => {
    const { address, supervisor } = await serve();
    const res = await request(`${address}/v1/stacks/immich/up`, { method, body: '{"x":1}', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(413);
    expect(await res.body.json()).toEqual({ error: { code: 'bad-request', message: expect.stringContaining('takes no request body') } });
    expect(supervisor.requests).toEqual([]);
  });

  it('refuses a chunked body too', async () => {
    const { port } = await serve();
    const conn = rawConnection(port);
    conn.socket.write('GET /v1/stacks HTTP/1.1\r\nHost: stackd\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n');
    expect(await conn.closed).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('still serves reads without a body (and an empty POST still gets its read-only 404)', async () => {
    const { address } = await serve();
    const read = await request(`${address}/v1/stacks`);
    expect(read.statusCode).toBe(200);
    await read.body.dump();
    const write = await request(`${address}/v1/gc`, { method: 'POST' });
    expect(write.statusCode).toBe(404);
    await write.body.dump();
  });

  it('answers a long-poll before the idle timeout would cut it (the wait is capped below it)', async () => {
    const { address, supervisor } = await serve({ readOnlyLimits: { connectionTimeoutMs: 300 } });
    const job = await supervisor.request('immich', 'up');
    const res = await request(`${address}/v1/jobs/${job.id}?wait=60000`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toMatchObject({ job: { id: job.id, status: 'queued' } });
  });
});
