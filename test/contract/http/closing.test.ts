// A request that reaches the app while it closes (SIGTERM: main closes the app) must be refused in the API's
// error shape, not with fastify's own 503 body, which stackctl cannot read.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { pino } from 'pino';
import { buildApp } from '../../../src/http/app.js';
import { listenUnixSocket } from '../../../src/http/listen.js';
import { FakeSupervisor, makeStack } from './fake-supervisor.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'stackd-closing-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

function readAll(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (d: Buffer) => { text += d.toString(); });
  return new Promise((resolve, reject) => {
    socket.once('close', () => resolve(text));
    socket.once('error', reject);
  });
}

it('a request arriving on a busy connection while the app closes gets 503 shutting-down in the error shape', async () => {
  const supervisor = new FakeSupervisor([makeStack('immich')]);
  const app = buildApp({ supervisor, logger: pino({ level: 'silent' }), writable: true });
  const path = join(dir, 'stackd.sock');
  await listenUnixSocket(app, path);
  const arrived: string[] = [];
  app.server.on('request', (req: { method?: string }) => { arrived.push(req.method ?? ''); });
  const job = await supervisor.request('immich', 'up');

  // The connection is busy with a long-poll, so closing the app does not drop it ...
  const socket = connect(path);
  const answers = readAll(socket);
  socket.write(`GET /v1/jobs/${job.id}?wait=60000 HTTP/1.1\r\nHost: stackd\r\n\r\n`);
  await until(() => supervisor.waitCalls === 1);
  const closed = app.close();
  await until(() => !app.server.listening);
  // ... and the next request on it reaches the router after the close began.
  socket.write('POST /v1/stacks/immich/stop HTTP/1.1\r\nHost: stackd\r\nContent-Length: 0\r\n\r\n');
  await until(() => arrived.includes('POST'));
  supervisor.finish(job.id, {});
  const text = await answers;
  await closed;

  const second = text.slice(text.indexOf('HTTP/1.1', 1));
  expect(second).toMatch(/^HTTP\/1\.1 503 /);
  expect(second.toLowerCase()).toContain('connection: close');
  const body = JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4)) as unknown;
  expect(body).toEqual({ error: { code: 'shutting-down', message: 'stackd is shutting down and accepts no new work; retry once it has restarted' } });
  expect(supervisor.requests).toEqual([{ kind: 'up', stack: 'immich' }]);
});
