// The read-only TCP listener refuses every write route, however it is asked: each write route of the unix
// socket's app (read from that app's own route table, so a new write route is covered without editing this
// file), under every writing method, HEAD and OPTIONS, method-override headers and parameters, and paths that
// differ by case, a trailing slash, %-encoding, dot segments or a semicolon. Refused means: no job was started,
// no stack action was requested, and the answer is a 4xx. Then the same over a real TCP socket, with raw bytes
// (absolute-form targets, pipelined writes behind a read).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../../src/http/app.js';
import { listenTcp } from '../../../src/http/listen.js';
import { FakeSupervisor, makeStack } from './fake-supervisor.js';

const apps: FastifyInstance[] = [];
afterEach(async () => { await Promise.all(apps.splice(0).map((a) => a.close())); });

function setup(writable: boolean) {
  const supervisor = new FakeSupervisor([makeStack('immich')]);
  let actions = 0;
  supervisor.onRequest = () => { actions++; };
  const app = buildApp({ supervisor, logger: pino({ level: 'silent' }), writable });
  apps.push(app);
  /** everything a write would have left behind: stack actions, started jobs, jobs in the table */
  const writes = () => actions + supervisor.jobRequests.length + supervisor.jobs.size;
  return { app, supervisor, writes };
}

const WRITE_METHODS = ['POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** The unix socket app's write routes, concrete: `:name` → a stack that exists. */
async function writeRoutes(): Promise<string[]> {
  const { app } = setup(true);
  await app.ready();
  const urls = new Set<string>();
  for (const method of WRITE_METHODS) {
    for (const m of app.printRoutes({ method, commonPrefix: false }).matchAll(/(\/\S*) \(/g)) urls.add(m[1] ?? '');
  }
  return [...urls].map((u) => u.replace(':name', 'immich').replace(':id', '1'));
}

/** Variants of a path that a lenient router, proxy or decoder might map onto it. */
function pathTricks(url: string): string[] {
  const last = url.lastIndexOf('/');
  return [
    url,
    `${url}/`,
    url.toUpperCase(),
    url.replace('/v1/', '/V1/'),
    `${url.slice(0, last)}%2F${url.slice(last + 1)}`,
    `${url.slice(0, last)}%2f${url.slice(last + 1)}`,
    url.replace(/\/([a-z])([a-z]*)$/, (_m, a: string, b: string) => `/%${a.charCodeAt(0).toString(16)}${b}`),
    `/${url}`,
    url.replace('/v1/', '/v1/./'),
    url.replace('/v1/', '/x/../v1/'),
    `${url};x=1`,
    `${url}?x=1`,
    `${url}%00`,
  ];
}

describe('the read-only app (api.listen) refuses every write route', () => {
  it('finds the write routes it must refuse (the route table is read, not assumed)', async () => {
    const routes = await writeRoutes();
    expect(routes).toEqual(expect.arrayContaining(['/v1/stacks/immich/up', '/v1/stacks/immich/stop', '/v1/stacks/immich/down', '/v1/check', '/v1/gc', '/v1/update']));
    // the same requests DO act on the unix socket's app: the refusals below are the listener's, not a typo's
    const { app, writes } = setup(true);
    for (const url of routes) expect((await app.inject({ method: 'POST', url })).statusCode, url).toBe(202);
    expect(writes()).toBeGreaterThanOrEqual(routes.length);
  });

  it('under every writing method, HEAD and OPTIONS', async () => {
    const routes = await writeRoutes();
    const { app, writes } = setup(false);
    for (const url of routes) {
      for (const method of [...WRITE_METHODS, 'HEAD', 'OPTIONS'] as const) {
        const res = await app.inject({ method, url });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        if (method !== 'HEAD') expect(res.json(), `${method} ${url}`).toMatchObject({ error: { code: 'not-found' } });
      }
    }
    expect(writes()).toBe(0);
  });

  it('a GET with a method override (headers, _method) stays a GET that finds no route', async () => {
    const routes = await writeRoutes();
    const { app, writes } = setup(false);
    const overrides: InjectOptions[] = [
      { headers: { 'x-http-method-override': 'POST' } },
      { headers: { 'x-http-method': 'POST' } },
      { headers: { 'x-method-override': 'POST' } },
      { query: { _method: 'POST' } },
    ];
    for (const url of routes) {
      for (const o of overrides) {
        for (const method of ['GET', 'HEAD'] as const) {
          const res = await app.inject({ method, url, ...o });
          expect(res.statusCode, `${method} ${url} ${JSON.stringify(o)}`).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
        }
      }
    }
    // and on a POST too (an override must not turn a refused write into an allowed read that acts)
    for (const url of routes) {
      expect((await app.inject({ method: 'POST', url, headers: { 'x-http-method-override': 'GET' } })).statusCode).toBe(404);
    }
    expect(writes()).toBe(0);
  });

  it('paths that differ by case, a trailing slash, %-encoding, dot segments, a semicolon or a NUL', async () => {
    const routes = await writeRoutes();
    const { app, writes } = setup(false);
    for (const route of routes) {
      for (const url of pathTricks(route)) {
        for (const method of ['POST', 'GET', 'PUT'] as const) {
          const res = await app.inject({ method, url });
          expect(res.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
          expect(res.statusCode, `${method} ${url}`).toBeLessThan(500);
        }
      }
    }
    expect(writes()).toBe(0);
  });

  it('a request body never reaches a route: refused before it is read, whatever the method', async () => {
    const { app, writes } = setup(false);
    for (const method of ['POST', 'GET'] as const) {
      const res = await app.inject({ method, url: '/v1/update', payload: '{"dryRun":false}', headers: { 'content-type': 'application/json' } });
      expect(res.statusCode, method).toBe(413);
    }
    expect(writes()).toBe(0);
  });

  it('cannot be given a write route later: registering one throws instead of serving it', async () => {
    const { app } = setup(false);
    expect(() => app.post('/v1/stacks/:name/restart', async () => ({}))).toThrow(
      'read-only app: refusing to register POST /v1/stacks/:name/restart; write routes belong on the unix socket\'s app only');
    expect(() => app.route({ method: ['GET', 'DELETE'], url: '/v1/jobs', handler: async () => ({}) })).toThrow('refusing to register DELETE /v1/jobs');
    // reads may still be added
    expect(() => app.get('/v1/extra', async () => ({}))).not.toThrow();
  });
});

/** Sends raw bytes to host:port and returns everything the server wrote back before closing or going quiet. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.setTimeout(2000, () => socket.end());
    socket.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
    socket.write(bytes);
  });
}

const statusLines = (answer: string): string[] => [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1] ?? '');

describe('over a real TCP socket (listenTcp, the built read-only app)', () => {
  it('refuses every write route and every trick, and acts on none', async () => {
    const routes = await writeRoutes();
    const { app, writes } = setup(false);
    const address = await listenTcp(app, '127.0.0.1', 0);
    const port = Number(new URL(address).port);
    const requests: string[] = [];
    for (const route of routes) {
      for (const method of [...WRITE_METHODS, 'HEAD', 'OPTIONS']) requests.push(`${method} ${route} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      requests.push(`GET ${route} HTTP/1.1\r\nHost: x\r\nX-HTTP-Method-Override: POST\r\nConnection: close\r\n\r\n`);
      requests.push(`GET ${route}?_method=POST HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      // absolute-form target, as sent to a proxy
      requests.push(`POST http://stackd${route} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      // lowercase method: not an HTTP method at all
      requests.push(`post ${route} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      for (const url of pathTricks(route)) requests.push(`POST ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      // a write pipelined behind an allowed read on one connection
      requests.push(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nPOST ${route} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      // a write smuggled in a body the listener refuses to read
      const inner = `POST ${route} HTTP/1.1\r\nHost: x\r\n\r\n`;
      requests.push(`GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`);
    }
    for (const bytes of requests) {
      const answer = await raw(port, bytes);
      const codes = statusLines(answer);
      expect(codes.length, JSON.stringify(bytes)).toBeGreaterThan(0);
      for (const code of codes.filter((c) => c !== '200' || !bytes.startsWith('GET /healthz'))) {
        expect(Number(code), `${JSON.stringify(bytes)} → ${code}`).toBeGreaterThanOrEqual(400);
      }
    }
    // CONNECT and an Upgrade reach no route at all: node closes the connection without an answer
    for (const bytes of ['CONNECT stackd:80 HTTP/1.1\r\nHost: stackd:80\r\n\r\n',
      `GET ${routes[0] ?? '/'} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`]) {
      const codes = statusLines(await raw(port, bytes));
      for (const code of codes) expect(Number(code), JSON.stringify(bytes)).toBeGreaterThanOrEqual(400);
    }
    expect(writes()).toBe(0);
    // and it still serves reads
    expect(statusLines(await raw(port, 'GET /v1/stacks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toEqual(['200']);
  });
});

describe('socket activation (listenFd) with a TCP socket', () => {
  it('refuses to serve the writable app on it, naming the fd, the address and the fix', async () => {
    const listenTs = pathToFileURL(join(import.meta.dirname, '../../../src/http/listen.ts')).href;
    // the daemon: a writable app with a write route, on whatever systemd passed as fd 3
    const daemon = `
      import Fastify from 'fastify';
      import { listenFd } from ${JSON.stringify(listenTs)};
      const app = Fastify();
      app.post('/v1/gc', async () => ({ acted: true }));
      try { await listenFd(app, 3); process.stdout.write('SERVING\\n'); }
      catch (err) { process.stdout.write('REFUSED ' + err.code + ' ' + err.message + '\\n'); }
      await app.close(); process.exit(0);`;
    // plays systemd with ListenStream=127.0.0.1:0: binds TCP, passes it as fd 3, waits for the daemon
    const helper = `
      const net = require('node:net');
      const { spawn } = require('node:child_process');
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1', () => {
        const child = spawn(process.execPath, ['--experimental-transform-types', '--no-warnings', '--input-type=module', '-e', ${JSON.stringify(daemon)}],
          { stdio: ['ignore', 'inherit', 'inherit', srv._handle.fd] });
        child.on('exit', () => process.exit(0));
      });`;
    const proc = spawn(process.execPath, ['-e', helper], { cwd: join(import.meta.dirname, '../../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise((resolve) => proc.once('exit', resolve));
    expect(out).not.toContain('SERVING');
    expect(out).toMatch(/REFUSED STACKD_SOCKET_NOT_UNIX the socket systemd passed as fd 3 is a TCP socket \(127\.0\.0\.1 port \d+\); stackd takes writes only on a unix socket: set the socket unit's ListenStream= to a path/);
  });
});
