// PodmanClient against an in-process node:http server on a unix socket that answers like libpod 5.4
// (status codes and error bodies as seen in the lab). The cheapest honest test of timeouts, errors and streams.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PodmanClient } from '../../../src/adapters/podman-client.js';
import {
  InvalidOptionError, PodmanApiError, PodmanTimeoutError, PodmanUnreachableError, StackdError,
} from '../../../src/adapters/errors.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const API = '/v5.0.0/libpod';
const HOLDER = '8e9286b1ed35c395fb0f9ad77bc7fb988234491d36f4181fcdf5aa270d208552';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

let dir: string;
let socketPath: string;
let server: Server;
let client: PodmanClient;
let seen: { method: string; url: string }[];
let routes: Map<string, Handler>;
let containersJson: string;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function libpodError(res: ServerResponse, status: number, cause: string, message: string): void {
  json(res, status, { cause, message, response: status });
}

function baseRoutes(): Map<string, Handler> {
  return new Map<string, Handler>([
    ['GET /_ping', (_q, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('OK'); }],
    ['GET /version', (_q, res) => json(res, 200, { Components: [{ Name: 'Podman Engine', Version: '5.4.2' }] })],
    ['GET /containers/json', (_q, res, url) => {
      const filters = url.searchParams.get('filters');
      if (!filters) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(containersJson);
        return;
      }
      const label = (JSON.parse(filters) as { label: string[] }).label[0] ?? '';
      json(res, 200, [{ Id: label.startsWith('io.podman') ? 'pc1' : 'dc1', Labels: { [label.split('=')[0] ?? '']: 'x' } }]);
    }],
    [`GET /containers/${HOLDER}/json`, (_q, res) => json(res, 200, { Id: HOLDER, State: { Status: 'running' } })],
    ['GET /containers/gone/json', (_q, res) => libpodError(res, 404, 'no such container', 'no container with name or ID "gone" found: no such container')],
    ['DELETE /containers/c1', (_q, res) => json(res, 200, [{ Id: 'c1' }])],
    ['DELETE /containers/gone', (_q, res) => libpodError(res, 404, 'no such container', 'no container with ID or name "gone" found: no such container')],
    ['POST /containers/c1/stop', (_q, res) => { res.writeHead(204); res.end(); }],
    ['POST /containers/already/stop', (_q, res) => { res.writeHead(304); res.end(); }],
    ['GET /containers/c1/healthcheck', (_q, res) => json(res, 200, { Status: 'healthy', FailingStreak: 0, Log: null })],
    ['GET /containers/nohc/healthcheck', (_q, res) => libpodError(res, 409, 'container nohc has no defined healthcheck', 'container nohc has no defined healthcheck')],
    ['GET /containers/broken/json', (_q, res) => libpodError(res, 500, 'database is locked', 'inspecting container broken: database is locked')],
    ['GET /containers/slow/json', () => { /* never answers: the client's headers timeout must fire */ }],
    ['GET /images/json', (_q, res) => json(res, 200, [{ Id: 'sha256:07676f0a' }])],
    ['GET /images/localhost%2Fbusybox%3Alab/exists', (_q, res) => { res.writeHead(204); res.end(); }],
    ['GET /images/localhost%2Fnope%3Ax/exists', (_q, res) => libpodError(res, 404, 'failed to find image localhost/nope:x', 'failed to find image localhost/nope:x')],
    ['DELETE /images/img1', (_q, res) => json(res, 200, { Deleted: ['img1'], Untagged: [], Errors: [], ExitCode: 0 })],
    ['DELETE /images/gone', (_q, res) => libpodError(res, 404, 'image not known', 'gone: image not known')],
    ['DELETE /images/busy', (_q, res) => libpodError(res, 409, 'image is in use by a container', 'image used by c1: image is in use by a container')],
    ['GET /containers/notjson/json', (_q, res) => { res.writeHead(200); res.end('<html>'); }],
  ]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-podman-'));
  socketPath = join(dir, 'podman.sock');
  containersJson = await readFile(new URL('libpod-containers-json.demo.json', FIXTURES), 'utf8');
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://podman');
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    // match on the raw (still percent-encoded) path, as podman's router does
    const rawPath = (req.url ?? '').split('?')[0] ?? '';
    const handler = rawPath.startsWith(API) ? routes.get(`${req.method} ${rawPath.slice(API.length)}`) : undefined;
    if (handler) handler(req, res, url);
    else libpodError(res, 404, 'not found', `no route ${req.method} ${rawPath}`);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

beforeEach(() => {
  seen = [];
  routes = baseRoutes();
  client = new PodmanClient({ socketPath, requestTimeoutMs: 300 });
});

afterAll(async () => {
  await client.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('construction', () => {
  it('rejects a relative socket path, naming the option', () => {
    expect(() => new PodmanClient({ socketPath: 'podman.sock' })).toThrow(InvalidOptionError);
    expect(() => new PodmanClient({ socketPath: 'podman.sock' })).toThrow(/`socketPath`.*absolute.*`podman.sock` \(string\)/);
  });

  it('rejects a non-positive timeout', () => {
    expect(() => new PodmanClient({ socketPath, requestTimeoutMs: 0 })).toThrow(/`requestTimeoutMs`/);
  });
});

describe('requests', () => {
  it('pings and reads the version on libpod v5 paths', async () => {
    expect(await client.ping()).toBe('OK');
    expect(await client.version()).toMatchObject({ Components: [{ Version: '5.4.2' }] });
    expect(seen.map((s) => s.url)).toEqual([`${API}/_ping`, `${API}/version`]);
  });

  it('lists all containers raw', async () => {
    const list = await client.listContainers({ all: true });
    expect(list).toEqual(JSON.parse(containersJson));
    expect(seen[0]?.url).toBe(`${API}/containers/json?all=true`);
  });

  it('lists a project through both compose labels, concatenated without dedupe', async () => {
    const list = await client.listProjectContainers('demo');
    expect(list.map((c) => (c as { Id: string }).Id)).toEqual(['dc1', 'pc1']);
    const filters = seen.map((s) => new URL(s.url, 'http://x').searchParams.get('filters')).sort();
    expect(filters).toEqual([
      JSON.stringify({ label: ['com.docker.compose.project=demo'] }),
      JSON.stringify({ label: ['io.podman.compose.project=demo'] }),
    ]);
  });

  it('inspects raw, and answers undefined for a container that is gone', async () => {
    expect(await client.inspectContainer(HOLDER)).toMatchObject({ Id: HOLDER });
    expect(await client.inspectContainer('gone')).toBeUndefined();
  });

  it('stops: 204 and 304 (already stopped) both resolve, with the timeout passed on', async () => {
    await client.stopContainer('c1', 7);
    await client.stopContainer('already', 7);
    expect(seen.map((s) => s.url)).toEqual([`${API}/containers/c1/stop?timeout=7`, `${API}/containers/already/stop?timeout=7`]);
  });

  it('removes with force; 404 means already gone (false)', async () => {
    expect(await client.removeContainer('c1', { force: true })).toBe(true);
    expect(await client.removeContainer('gone', { force: true })).toBe(false);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([`DELETE ${API}/containers/c1?force=true`, `DELETE ${API}/containers/gone?force=true`]);
  });

  it('runs a healthcheck raw; no healthcheck is a 409 PodmanApiError', async () => {
    expect(await client.runHealthcheck('c1')).toEqual({ Status: 'healthy', FailingStreak: 0, Log: null });
    const err = await client.runHealthcheck('nohc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodmanApiError);
    expect(err).toMatchObject({ statusCode: 409, method: 'GET', code: 'STACKD_PODMAN_API' });
  });

  it('images: list, exists (encoded ref), remove (404 → undefined, 409 → error)', async () => {
    expect(await client.listImages()).toEqual([{ Id: 'sha256:07676f0a' }]);
    expect(await client.imageExists('localhost/busybox:lab')).toBe(true);
    expect(await client.imageExists('localhost/nope:x')).toBe(false);
    expect(await client.removeImage('img1')).toMatchObject({ Deleted: ['img1'] });
    expect(await client.removeImage('gone')).toBeUndefined();
    await expect(client.removeImage('busy')).rejects.toMatchObject({ statusCode: 409, podmanMessage: expect.stringContaining('in use') });
  });
});

describe('errors', () => {
  it('turns a 500 into PodmanApiError with podman message and cause', async () => {
    const err = await client.inspectContainer('broken').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodmanApiError);
    expect(err).toBeInstanceOf(StackdError);
    expect(err).toMatchObject({
      statusCode: 500, method: 'GET', path: `${API}/containers/broken/json`,
      podmanMessage: 'inspecting container broken: database is locked', podmanCause: 'database is locked',
    });
    expect((err as Error).message).toContain('answered 500: inspecting container broken: database is locked');
  });

  it('a 2xx that is not JSON is a bad response, not a crash', async () => {
    await expect(client.inspectContainer('notjson')).rejects.toMatchObject({ code: 'STACKD_PODMAN_BAD_RESPONSE' });
  });

  it('a request that gets no answer times out with PodmanTimeoutError', async () => {
    const err = await client.inspectContainer('slow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodmanTimeoutError);
    expect(err).toMatchObject({ code: 'STACKD_PODMAN_TIMEOUT', timeoutMs: 300 });
  });

  it('a missing socket is PodmanUnreachableError naming the socket and the fix', async () => {
    const missing = join(dir, 'nope.sock');
    const c = new PodmanClient({ socketPath: missing });
    const err = await c.ping().catch((e: unknown) => e);
    await c.close();
    expect(err).toBeInstanceOf(PodmanUnreachableError);
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toContain('systemctl --user enable --now podman.socket');
    expect((err as Error).cause).toMatchObject({ code: 'ENOENT' });
  });

  it('a path nobody listens on (connection refused) is PodmanUnreachableError', async () => {
    // connecting to a file that is not a listening socket fails with ECONNREFUSED, like a stale podman.sock
    const stale = join(dir, 'stale.sock');
    await writeFile(stale, '');
    const c = new PodmanClient({ socketPath: stale });
    const err = await c.ping().catch((e: unknown) => e);
    await c.close();
    expect(err).toBeInstanceOf(PodmanUnreachableError);
    expect((err as Error).message).toContain('ECONNREFUSED');
  });
});

describe('events', () => {
  const e1 = { status: 'health_status', id: HOLDER, Type: 'container', Action: 'health_status', HealthStatus: 'unhealthy' };
  const e2 = { status: 'died', id: HOLDER, Type: 'container', Action: 'died', Actor: { Attributes: { name: 'demo-holder-1 ✓' } } };

  it('yields one event per line, even when chunks split lines and multi-byte characters', async () => {
    const text = `${JSON.stringify(e1)}\n${JSON.stringify(e2)}\n`;
    const bytes = Buffer.from(text, 'utf8');
    const mark = bytes.indexOf(Buffer.from('✓'));
    // cut mid-line, then inside the 3-byte ✓, then the rest
    const cuts = [0, 17, mark + 1, bytes.length];
    routes.set('GET /events', (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const send = (i: number) => {
        if (i >= cuts.length - 1) { res.end(); return; }
        res.write(bytes.subarray(cuts[i], cuts[i + 1]));
        setImmediate(() => send(i + 1));
      };
      send(0);
    });
    const got: unknown[] = [];
    for await (const ev of client.events()) got.push(ev);
    expect(got).toEqual([e1, e2]);
    expect(seen[0]?.url).toBe(`${API}/events?stream=true`);
  });

  it('is not cut off by the request timeout while the stream is quiet, and ends quietly on abort', async () => {
    routes.set('GET /events', (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify(e1)}\n`);
      // then silence, longer than requestTimeoutMs (300 ms): the consumer aborts after 3x that
    });
    const ac = new AbortController();
    const got: unknown[] = [];
    for await (const ev of client.events({ signal: ac.signal })) {
      got.push(ev);
      setTimeout(() => ac.abort(), 900);
    }
    expect(got).toEqual([e1]);
  });

  it('passes filters as JSON', async () => {
    routes.set('GET /events', (_q, res) => { res.writeHead(200); res.end(); });
    for await (const _ of client.events({ filters: { type: ['container'] } })) { /* none */ }
    expect(new URL(seen[0]?.url ?? '', 'http://x').searchParams.get('filters')).toBe(JSON.stringify({ type: ['container'] }));
  });

  it('onOpen fires when podman answered (status and headers), before any event, once', async () => {
    // libpod sends the headers of /events at once and then may stay silent for hours
    routes.set('GET /events', (_q, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.flushHeaders(); });
    const ac = new AbortController();
    let opened = 0;
    let answered!: () => void;
    const answer = new Promise<void>((r) => { answered = r; });
    const got: unknown[] = [];
    const done = (async () => {
      for await (const ev of client.events({ signal: ac.signal, onOpen: () => { opened++; answered(); } })) got.push(ev);
    })();
    await answer;
    expect(opened).toBe(1);
    expect(got).toEqual([]);
    ac.abort();
    await done;
    expect(opened).toBe(1);
  });

  it('onOpen never fires without an answer: missing socket, an error status, no headers in time', async () => {
    const missing = new PodmanClient({ socketPath: join(dir, 'nope.sock'), requestTimeoutMs: 300 });
    let opened = 0;
    const drain = async (c: PodmanClient) => { for await (const _ of c.events({ onOpen: () => { opened++; } })) { /* none */ } };
    await expect(drain(missing)).rejects.toBeInstanceOf(PodmanUnreachableError);
    await missing.close();

    routes.set('GET /events', (_q, res) => libpodError(res, 500, 'database is locked', 'events: database is locked'));
    await expect(drain(client)).rejects.toBeInstanceOf(PodmanApiError);

    routes.set('GET /events', () => { /* never answers */ });
    await expect(drain(client)).rejects.toBeInstanceOf(PodmanTimeoutError);
    expect(opened).toBe(0);
  });

  it('a dropped connection mid-stream is PodmanUnreachableError', async () => {
    routes.set('GET /events', (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify(e1)}\n{"half":`);
      setImmediate(() => req.socket.destroy());
    });
    const got: unknown[] = [];
    const err = await (async () => { for await (const ev of client.events()) got.push(ev); })().catch((e: unknown) => e);
    expect(got).toEqual([e1]);
    expect(err).toBeInstanceOf(PodmanUnreachableError);
  });
});
