// PodmanClient (on dockerode) against an in-process node:http server on a unix socket that answers like libpod 5.4
// (status codes and error bodies as seen in the lab). The cheapest honest test of paths, timeouts, errors and
// streams. Libpod routes keep their /v5.0.0/libpod paths; ping, version, stop, container rm and network rm are
// dockerode's typed calls on the Docker-compatible routes (the same podman handlers).
import type { ServerResponse } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PodmanClient } from '../../../src/adapters/podman-client.js';
import {
  InvalidOptionError, PodmanApiError, PodmanBadResponseError, PodmanTimeoutError, PodmanUnreachableError, StackdError,
} from '../../../src/adapters/errors.js';
import { API, json, libpod, libpodError, startFakePodman } from './podman-fake-server.js';
import type { FakePodman, Handler } from './podman-fake-server.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const HOLDER = '8e9286b1ed35c395fb0f9ad77bc7fb988234491d36f4181fcdf5aa270d208552';

let fake: FakePodman;
let client: PodmanClient;
let containersJson: string;
let infoJson: string;

const seen = () => fake.seen;
const lines = () => fake.seen.map((s) => `${s.method} ${s.url}`);
const noContent = (res: ServerResponse, status = 204) => { res.writeHead(status); res.end(); };

function baseRoutes(): [string, Handler][] {
  return [
    ['GET /_ping', (_q, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('OK'); }],
    ['GET /version', (_q, res) => json(res, 200, { Components: [{ Name: 'Podman Engine', Version: '5.4.2' }] })],
    [libpod('GET /containers/json'), (_q, res, url) => {
      const filters = url.searchParams.get('filters');
      if (!filters) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(containersJson);
        return;
      }
      const label = (JSON.parse(filters) as { label: string[] }).label[0] ?? '';
      json(res, 200, [{ Id: label.startsWith('io.podman') ? 'pc1' : 'dc1', Labels: { [label.split('=')[0] ?? '']: 'x' } }]);
    }],
    [libpod(`GET /containers/${HOLDER}/json`), (_q, res) => json(res, 200, { Id: HOLDER, State: { Status: 'running' } })],
    [libpod('GET /containers/gone/json'), (_q, res) => libpodError(res, 404, 'no such container', 'no container with name or ID "gone" found: no such container')],
    // the compat rm answers 204 (libpod's 200 carries a report stackd never read)
    ['DELETE /containers/c1', (_q, res) => noContent(res)],
    ['DELETE /containers/gone', (_q, res) => libpodError(res, 404, 'no such container', 'no container with ID or name "gone" found: no such container')],
    ['POST /containers/c1/stop', (_q, res) => noContent(res)],
    ['POST /containers/already/stop', (_q, res) => noContent(res, 304)],
    ['POST /containers/gone/stop', (_q, res) => libpodError(res, 404, 'no such container', 'no container with name or ID "gone" found: no such container')],
    ['POST /containers/locked/stop', (_q, res) => libpodError(res, 500, 'database is locked', 'stopping locked: database is locked')],
    ['POST /containers/slow/stop', () => { /* never answers */ }],
    [libpod('GET /containers/c1/healthcheck'), (_q, res) => json(res, 200, { Status: 'healthy', FailingStreak: 0, Log: null })],
    [libpod('GET /containers/nohc/healthcheck'), (_q, res) => libpodError(res, 409, 'container nohc has no defined healthcheck', 'container nohc has no defined healthcheck')],
    [libpod('GET /containers/broken/json'), (_q, res) => libpodError(res, 500, 'database is locked', 'inspecting container broken: database is locked')],
    [libpod('GET /containers/slow/json'), () => { /* never answers: the client's headers timeout must fire */ }],
    [libpod('GET /containers/notjson/json'), (_q, res) => { res.writeHead(200); res.end('<html>'); }],
    [libpod('GET /images/json'), (_q, res) => json(res, 200, [{ Id: 'sha256:07676f0a' }])],
    [libpod('GET /images/localhost%2Fbusybox%3Alab/exists'), (_q, res) => noContent(res)],
    [libpod('GET /images/localhost%2Fnope%3Ax/exists'), (_q, res) => libpodError(res, 404, 'failed to find image localhost/nope:x', 'failed to find image localhost/nope:x')],
    [libpod('DELETE /images/img1'), (_q, res) => json(res, 200, { Deleted: ['img1'], Untagged: [], Errors: [], ExitCode: 0 })],
    [libpod('DELETE /images/gone'), (_q, res) => libpodError(res, 404, 'image not known', 'gone: image not known')],
    [libpod('DELETE /images/busy'), (_q, res) => libpodError(res, 409, 'image is in use by a container', 'image used by c1: image is in use by a container')],
    [libpod('GET /info'), (_q, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(infoJson); }],
    [libpod('GET /networks/json'), (_q, res, url) => {
      const label = (JSON.parse(url.searchParams.get('filters') ?? '{}') as { label: string[] }).label[0] ?? '';
      // the same network under both label schemes comes back once
      json(res, 200, label.startsWith('io.podman') ? [{ name: 'demo_default' }] : [{ name: 'demo_default' }, { name: 'demo_back' }]);
    }],
    ['DELETE /networks/demo_default', (_q, res) => noContent(res)],
    ['DELETE /networks/gone', (_q, res) => libpodError(res, 404, 'network not found', 'unable to find network with name or ID gone: network not found')],
    ['DELETE /networks/busy', (_q, res) => libpodError(res, 500, 'network is being used', '"busy" has associated containers with it: network is being used')],
  ];
}

beforeAll(async () => {
  fake = await startFakePodman();
  containersJson = await readFile(new URL('libpod-containers-json.demo.json', FIXTURES), 'utf8');
  infoJson = await readFile(new URL('libpod-info.sqlite.json', FIXTURES), 'utf8');
});

beforeEach(() => {
  fake.seen.length = 0;
  fake.routes.clear();
  for (const [k, h] of baseRoutes()) fake.routes.set(k, h);
  client = new PodmanClient({ socketPath: fake.socketPath, requestTimeoutMs: 300 });
});

afterAll(async () => {
  await client.close();
  await fake.close();
});

describe('construction', () => {
  it('rejects a relative socket path, naming the option', () => {
    expect(() => new PodmanClient({ socketPath: 'podman.sock' })).toThrow(InvalidOptionError);
    expect(() => new PodmanClient({ socketPath: 'podman.sock' })).toThrow(/`socketPath`.*absolute.*`podman.sock` \(string\)/);
  });

  it('rejects a non-positive timeout and a connection count below 1', () => {
    expect(() => new PodmanClient({ socketPath: fake.socketPath, requestTimeoutMs: 0 })).toThrow(/`requestTimeoutMs`/);
    expect(() => new PodmanClient({ socketPath: fake.socketPath, connections: 0 })).toThrow(/`connections`/);
  });

  it('ignores DOCKER_HOST and DOCKER_CLIENT_TIMEOUT in the environment (docker-modem reads them)', async () => {
    // a podman host often exports DOCKER_HOST for compose; a tcp:// one would otherwise win over socketPath, and a
    // client-wide timeout would cut the quiet events stream
    const saved = { host: process.env['DOCKER_HOST'], timeout: process.env['DOCKER_CLIENT_TIMEOUT'] };
    process.env['DOCKER_HOST'] = 'tcp://127.0.0.1:1';
    process.env['DOCKER_CLIENT_TIMEOUT'] = '50';
    let c: PodmanClient;
    try {
      c = new PodmanClient({ socketPath: fake.socketPath, requestTimeoutMs: 300 });
    } finally {
      if (saved.host === undefined) delete process.env['DOCKER_HOST']; else process.env['DOCKER_HOST'] = saved.host;
      if (saved.timeout === undefined) delete process.env['DOCKER_CLIENT_TIMEOUT']; else process.env['DOCKER_CLIENT_TIMEOUT'] = saved.timeout;
    }
    expect(await c.ping()).toBe('OK');
    fake.routes.set(libpod('GET /events'), (_q, res) => { res.writeHead(200); res.flushHeaders(); setTimeout(() => res.end('{"a":1}\n'), 200); });
    const got: unknown[] = [];
    for await (const ev of c.events()) got.push(ev);
    expect(got).toEqual([{ a: 1 }]);
    await c.close();
  });
});

describe('requests', () => {
  it('pings and reads the version (dockerode: /_ping, /version)', async () => {
    expect(await client.ping()).toBe('OK');
    expect(await client.version()).toMatchObject({ Components: [{ Version: '5.4.2' }] });
    expect(seen().map((s) => s.url)).toEqual(['/_ping', '/version']);
  });

  it('lists all containers raw, on the libpod path', async () => {
    const list = await client.listContainers({ all: true });
    expect(list).toEqual(JSON.parse(containersJson));
    expect(seen()[0]?.url).toBe(`${API}/containers/json?all=true`);
  });

  it('lists a project through both compose labels, concatenated without dedupe', async () => {
    const list = await client.listProjectContainers('demo');
    expect(list.map((c) => (c as { Id: string }).Id)).toEqual(['dc1', 'pc1']);
    expect(seen().every((s) => s.url.startsWith(`${API}/containers/json?all=true&filters=`))).toBe(true);
    const filters = seen().map((s) => new URL(s.url, 'http://x').searchParams.get('filters')).sort();
    expect(filters).toEqual([
      JSON.stringify({ label: ['com.docker.compose.project=demo'] }),
      JSON.stringify({ label: ['io.podman.compose.project=demo'] }),
    ]);
  });

  it('inspects raw on the libpod path, and answers undefined for a container that is gone', async () => {
    expect(await client.inspectContainer(HOLDER)).toMatchObject({ Id: HOLDER });
    expect(await client.inspectContainer('gone')).toBeUndefined();
    expect(lines()).toEqual([`GET ${API}/containers/${HOLDER}/json`, `GET ${API}/containers/gone/json`]);
  });

  it('stops (dockerode, compat `t`): 204, 304 (already stopped) and 404 (gone) all resolve', async () => {
    await client.stopContainer('c1', 7);
    await client.stopContainer('already', 7);
    await client.stopContainer('gone', 7);
    expect(lines()).toEqual(['POST /containers/c1/stop?t=7', 'POST /containers/already/stop?t=7', 'POST /containers/gone/stop?t=7']);
    // dockerode also sends its options as a JSON body on POST; podman's stop handler reads only the query
    expect(seen().map((s) => s.body)).toEqual(['{"t":7}', '{"t":7}', '{"t":7}']);
  });

  it('a stop that fails is PodmanApiError with podman message and cause', async () => {
    const err = await client.stopContainer('locked', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodmanApiError);
    expect(err).toMatchObject({
      statusCode: 500, method: 'POST', path: '/containers/locked/stop?t=1',
      podmanMessage: 'stopping locked: database is locked', podmanCause: 'database is locked',
    });
  });

  it('rejects a stop timeout that is not a whole number of seconds', async () => {
    await expect(client.stopContainer('c1', 1.5)).rejects.toThrow(/`timeoutS`/);
    expect(seen()).toEqual([]);
  });

  it('removes with force (dockerode, compat DELETE); 404 means already gone (false)', async () => {
    expect(await client.removeContainer('c1', { force: true })).toBe(true);
    expect(await client.removeContainer('gone', { force: true })).toBe(false);
    expect(lines()).toEqual(['DELETE /containers/c1?force=true', 'DELETE /containers/gone?force=true']);
  });

  it('runs a healthcheck raw; no healthcheck is a 409 PodmanApiError', async () => {
    expect(await client.runHealthcheck('c1')).toEqual({ Status: 'healthy', FailingStreak: 0, Log: null });
    const err = await client.runHealthcheck('nohc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodmanApiError);
    expect(err).toMatchObject({ statusCode: 409, method: 'GET', code: 'STACKD_PODMAN_API' });
    expect(seen()[0]?.url).toBe(`${API}/containers/c1/healthcheck`);
  });

  it('a healthcheck gets its own timeout, not the request timeout', async () => {
    fake.routes.set(libpod('GET /containers/c1/healthcheck'), (_q, res) => { setTimeout(() => json(res, 200, { Status: 'healthy' }), 500); });
    expect(await client.runHealthcheck('c1', 2_000)).toEqual({ Status: 'healthy' });
    await expect(client.runHealthcheck('c1', 100)).rejects.toMatchObject({ code: 'STACKD_PODMAN_TIMEOUT', timeoutMs: 100 });
  });

  it('images: list, exists (encoded ref), remove (404 → undefined, 409 → error)', async () => {
    expect(await client.listImages()).toEqual([{ Id: 'sha256:07676f0a' }]);
    expect(await client.imageExists('localhost/busybox:lab')).toBe(true);
    expect(await client.imageExists('localhost/nope:x')).toBe(false);
    expect(await client.removeImage('img1')).toMatchObject({ Deleted: ['img1'] });
    expect(await client.removeImage('gone')).toBeUndefined();
    await expect(client.removeImage('busy')).rejects.toMatchObject({ statusCode: 409, podmanMessage: expect.stringContaining('in use') });
    expect(lines()).toEqual([
      `GET ${API}/images/json`,
      `GET ${API}/images/localhost%2Fbusybox%3Alab/exists`, `GET ${API}/images/localhost%2Fnope%3Ax/exists`,
      `DELETE ${API}/images/img1`, `DELETE ${API}/images/gone`, `DELETE ${API}/images/busy`,
    ]);
  });

  it('info is raw GET /libpod/info', async () => {
    expect(await client.info()).toMatchObject({ host: { databaseBackend: 'sqlite' } });
    expect(lines()).toEqual([`GET ${API}/info`]);
  });

  it('networks: project list through both labels (libpod), deduped names; remove (dockerode, compat DELETE)', async () => {
    expect(await client.listProjectNetworks('demo')).toEqual(['demo_default', 'demo_back']);
    const filters = seen().map((s) => {
      expect(s.url.startsWith(`${API}/networks/json?filters=`)).toBe(true);
      return new URL(s.url, 'http://x').searchParams.get('filters');
    }).sort();
    expect(filters).toEqual([
      JSON.stringify({ label: ['com.docker.compose.project=demo'] }),
      JSON.stringify({ label: ['io.podman.compose.project=demo'] }),
    ]);
    fake.seen.length = 0;
    expect(await client.removeNetwork('demo_default')).toBe(true);
    expect(await client.removeNetwork('gone')).toBe(false);
    await expect(client.removeNetwork('busy')).rejects.toMatchObject({ statusCode: 500, podmanCause: 'network is being used' });
    expect(lines()).toEqual(['DELETE /networks/demo_default', 'DELETE /networks/gone', 'DELETE /networks/busy']);
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

  it('an error body that is not JSON becomes the message as text', async () => {
    fake.routes.set(libpod('GET /info'), (_q, res) => { res.writeHead(502); res.end('bad gateway\n'); });
    await expect(client.info()).rejects.toMatchObject({ statusCode: 502, podmanMessage: 'bad gateway' });
  });

  it('a 2xx that is not JSON is a bad response, not a crash (libpod and typed calls)', async () => {
    await expect(client.inspectContainer('notjson')).rejects.toMatchObject({ code: 'STACKD_PODMAN_BAD_RESPONSE' });
    fake.routes.set('GET /version', (_q, res) => { res.writeHead(200); res.end('<html>'); });
    await expect(client.version()).rejects.toBeInstanceOf(PodmanBadResponseError);
    fake.routes.set(libpod('GET /images/json'), (_q, res) => json(res, 200, { not: 'a list' }));
    await expect(client.listImages()).rejects.toThrow(/expected a JSON array/);
  });

  it('a request that gets no answer times out with PodmanTimeoutError', async () => {
    const err = await client.inspectContainer('slow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodmanTimeoutError);
    expect(err).toMatchObject({ code: 'STACKD_PODMAN_TIMEOUT', timeoutMs: 300, path: `${API}/containers/slow/json` });
  });

  it('a typed call that gets no answer times out too (stop: the stop timeout plus the request timeout)', async () => {
    const started = Date.now();
    const err = await client.stopContainer('slow', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodmanTimeoutError);
    expect(err).toMatchObject({ method: 'POST', path: '/containers/slow/stop?t=0', timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a body that stops coming times out between chunks', async () => {
    fake.routes.set(libpod('GET /images/json'), (_q, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.write('[{"Id":'); });
    await expect(client.listImages()).rejects.toMatchObject({ code: 'STACKD_PODMAN_TIMEOUT', timeoutMs: 300 });
  });

  it('a slow body that keeps coming is not cut (the timeout is between chunks, not for the whole answer)', async () => {
    fake.routes.set(libpod('GET /images/json'), (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const parts = ['[', '{"Id":"a"}', ',', '{"Id":"b"}', ']'];
      const send = (i: number) => {
        if (i === parts.length) { res.end(); return; }
        res.write(parts[i]);
        setTimeout(() => send(i + 1), 150);
      };
      send(0);
    });
    expect(await client.listImages()).toEqual([{ Id: 'a' }, { Id: 'b' }]);
  });

  it('a connection dropped mid-answer is PodmanUnreachableError at once, not a timeout or a short answer', async () => {
    fake.routes.set(libpod('GET /images/json'), (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[{"Id":"a"}');
      setImmediate(() => req.socket.destroy());
    });
    const started = Date.now();
    await expect(client.listImages()).rejects.toBeInstanceOf(PodmanUnreachableError);
    expect(Date.now() - started).toBeLessThan(250);
  });

  it('a missing socket is PodmanUnreachableError naming the socket and the fix', async () => {
    const missing = join(fake.dir, 'nope.sock');
    const c = new PodmanClient({ socketPath: missing });
    for (const call of [() => c.ping(), () => c.listImages(), () => c.stopContainer('x', 1)]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PodmanUnreachableError);
      expect((err as Error).message).toContain(missing);
      expect((err as Error).message).toContain('systemctl --user enable --now podman.socket');
      expect((err as Error).cause).toMatchObject({ code: 'ENOENT' });
    }
    await c.close();
  });

  it('a path nobody listens on (connection refused) is PodmanUnreachableError', async () => {
    // connecting to a file that is not a listening socket fails with ECONNREFUSED, like a stale podman.sock
    const stale = join(fake.dir, 'stale.sock');
    await writeFile(stale, '');
    const c = new PodmanClient({ socketPath: stale });
    const err = await c.ping().catch((e: unknown) => e);
    await c.close();
    expect(err).toBeInstanceOf(PodmanUnreachableError);
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('podman closing the connection without an answer is PodmanUnreachableError', async () => {
    fake.routes.set(libpod('GET /info'), (req) => req.socket.destroy());
    fake.routes.set('GET /_ping', (req) => req.socket.destroy());
    await expect(client.info()).rejects.toBeInstanceOf(PodmanUnreachableError);
    await expect(client.ping()).rejects.toBeInstanceOf(PodmanUnreachableError);
  });
});

describe('close', () => {
  it('lets a request under way finish, then refuses new ones as unreachable', async () => {
    const c = new PodmanClient({ socketPath: fake.socketPath, requestTimeoutMs: 2_000 });
    fake.routes.set(libpod('GET /info'), (_q, res) => { setTimeout(() => json(res, 200, { host: {} }), 200); });
    const pending = c.info();
    await new Promise((r) => setTimeout(r, 50));
    await c.close();
    expect(await pending).toEqual({ host: {} });
    await expect(c.ping()).rejects.toBeInstanceOf(PodmanUnreachableError);
  });

  it('many requests at once share at most `connections` sockets and all complete', async () => {
    const c = new PodmanClient({ socketPath: fake.socketPath, requestTimeoutMs: 2_000, connections: 2 });
    let open = 0;
    let most = 0;
    fake.routes.set(libpod('GET /info'), (_q, res) => {
      open++;
      most = Math.max(most, open);
      setTimeout(() => { open--; json(res, 200, {}); }, 20);
    });
    await Promise.all(Array.from({ length: 10 }, () => c.info()));
    await c.close();
    expect(most).toBe(2);
  });
});

describe('many requests at once', () => {
  it('200 parallel requests over 8 sockets take milliseconds, not seconds (docker-modem inspects the agent per request)', async () => {
    // before the agent printed as one word this took ~6 s: each dial() util.inspect-ed the agent and its queue
    const c = new PodmanClient({ socketPath: fake.socketPath, requestTimeoutMs: 5_000 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 200 }, () => c.listImages()));
    const took = Date.now() - started;
    await c.close();
    expect(took).toBeLessThan(1_500);
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
    fake.routes.set(libpod('GET /events'), (_q, res) => {
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
    expect(seen()[0]?.url).toBe(`${API}/events?stream=true`);
  });

  it('is not cut off by the request timeout while the stream is quiet, and ends quietly on abort', async () => {
    fake.routes.set(libpod('GET /events'), (_q, res) => {
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

  it('a stream quiet for longer than the idle-socket cleanup (4 s) stays open', async () => {
    // the client's http.Agent drops IDLE keep-alive sockets after 4 s; a socket under a live stream is not idle
    fake.routes.set(libpod('GET /events'), (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      setTimeout(() => res.end(`${JSON.stringify(e2)}\n`), 4_500);
    });
    const got: unknown[] = [];
    for await (const ev of client.events()) got.push(ev);
    expect(got).toEqual([e2]);
  }, 10_000);

  it('passes filters as JSON', async () => {
    fake.routes.set(libpod('GET /events'), (_q, res) => { res.writeHead(200); res.end(); });
    for await (const _ of client.events({ filters: { type: ['container'] } })) { /* none */ }
    expect(new URL(seen()[0]?.url ?? '', 'http://x').searchParams.get('filters')).toBe(JSON.stringify({ type: ['container'] }));
  });

  it('onOpen fires when podman answered (status and headers), before any event, once', async () => {
    // libpod sends the headers of /events at once and then may stay silent for hours
    fake.routes.set(libpod('GET /events'), (_q, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.flushHeaders(); });
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
    const missing = new PodmanClient({ socketPath: join(fake.dir, 'nope.sock'), requestTimeoutMs: 300 });
    let opened = 0;
    const drain = async (c: PodmanClient) => { for await (const _ of c.events({ onOpen: () => { opened++; } })) { /* none */ } };
    await expect(drain(missing)).rejects.toBeInstanceOf(PodmanUnreachableError);
    await missing.close();

    fake.routes.set(libpod('GET /events'), (_q, res) => libpodError(res, 500, 'database is locked', 'events: database is locked'));
    await expect(drain(client)).rejects.toMatchObject({ statusCode: 500, podmanMessage: 'events: database is locked', podmanCause: 'database is locked' });

    fake.routes.set(libpod('GET /events'), () => { /* never answers */ });
    await expect(drain(client)).rejects.toBeInstanceOf(PodmanTimeoutError);
    expect(opened).toBe(0);
  });

  it('an abort before podman answered ends the stream quietly', async () => {
    fake.routes.set(libpod('GET /events'), () => { /* never answers */ });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const got: unknown[] = [];
    for await (const ev of client.events({ signal: ac.signal })) got.push(ev);
    expect(got).toEqual([]);
  });

  it('a dropped connection mid-stream is PodmanUnreachableError', async () => {
    fake.routes.set(libpod('GET /events'), (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify(e1)}\n{"half":`);
      setImmediate(() => req.socket.destroy());
    });
    const got: unknown[] = [];
    const err = await (async () => { for await (const ev of client.events()) got.push(ev); })().catch((e: unknown) => e);
    expect(got).toEqual([e1]);
    expect(err).toBeInstanceOf(PodmanUnreachableError);
  });

  it('a line that is not JSON is a bad response', async () => {
    fake.routes.set(libpod('GET /events'), (_q, res) => { res.writeHead(200); res.end('{"ok":1}\nnot json\n'); });
    const got: unknown[] = [];
    const err = await (async () => { for await (const ev of client.events()) got.push(ev); })().catch((e: unknown) => e);
    expect(got).toEqual([{ ok: 1 }]);
    expect(err).toBeInstanceOf(PodmanBadResponseError);
  });

  it('a consumer that stops early frees the connection (the client can still close)', async () => {
    fake.routes.set(libpod('GET /events'), (_q, res) => { res.writeHead(200); res.write(`${JSON.stringify(e1)}\n`); });
    const c = new PodmanClient({ socketPath: fake.socketPath, requestTimeoutMs: 300 });
    for await (const _ of c.events()) break;
    await c.close();
  });
});
