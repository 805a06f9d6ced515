// RegistryClient against in-process registries on TCP loopback (node:http, and node:https with a throwaway
// self-signed certificate). The manifests they serve are the ones captured from the real lab registry
// (test/fixtures/registry); the auth flows follow the Docker token spec and what Docker Hub / ghcr send.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryError, StackdError } from '../../../src/adapters/errors.js';
import { RegistryClient } from '../../../src/adapters/registry-client.js';
import type { RegistryClientOptions, RegistryEvent } from '../../../src/adapters/registry-client.js';
import type { Credentials, CredentialSource } from '../../../src/adapters/registry-auth.js';
import { MANIFEST_ACCEPT } from '../../../src/core/registry/manifest.js';
import { parseImageRef } from '../../../src/core/registry/reference.js';
import type { ImageRef } from '../../../src/core/update/types.js';
import { captured } from '../../fixtures/registry/load.js';
import type { Captured } from '../../fixtures/registry/load.js';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization?: string;
  accept?: string;
}

const LIST = captured('get', 'fixture-app-list');
const LIST_DIGEST = LIST.headers['docker-content-digest'] ?? '';
const PASSWORD = 's3cr3t-pa55word';

let server: Server;
let registry: string; // 127.0.0.1:<port>
let seen: Seen[];
let handler: Handler;
let inFlight: number;
let maxInFlight: number;
let client: RegistryClient | undefined;
let clock: number;
let events: RegistryEvent[];

function ref(text: string): ImageRef {
  const r = parseImageRef(text);
  if ('error' in r) throw new Error(r.error);
  return r;
}

const app = (tag = 'list') => ref(`${registry}/fixture/app:${tag}`);

function serve(res: ServerResponse, c: Captured, opts: { drop?: string[]; extra?: Record<string, string> } = {}): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.headers)) if (!opts.drop?.includes(k)) headers[k] = v;
  res.writeHead(c.status, { ...headers, ...opts.extra });
  res.end(c.body);
}

function registryError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...extra });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

function makeClient(opts: RegistryClientOptions = {}): RegistryClient {
  client = new RegistryClient({
    isInsecure: () => true,
    now: () => clock,
    onEvent: (e) => events.push(e),
    requestTimeoutMs: 2_000,
    ...opts,
  });
  return client;
}

function creds(username: string, password: string): CredentialSource {
  return {
    credentialsFor: async (): Promise<Credentials> => ({ username, password, source: '/run/user/1000/containers/auth.json (auths["127.0.0.1"])' }),
    describe: () => '/run/user/1000/containers/auth.json',
  };
}

const basicOf = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** The Docker token flow: manifests need `Bearer <token>`; /token hands out tokens (checking Basic if `user` is set). */
function tokenRegistry(opts: { user?: [string, string]; expiresIn?: number; service?: boolean } = {}): { tokens: () => number } {
  let issued = 0;
  handler = (req, res, url) => {
    if (url.pathname === '/token') {
      if (opts.user && req.headers.authorization !== basicOf(...opts.user)) {
        registryError(res, 401, 'UNAUTHORIZED', 'authentication required');
        return;
      }
      issued++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: `tok-${issued}`, ...(opts.expiresIn !== undefined ? { expires_in: opts.expiresIn } : {}), issued_at: '2026-11-28T10:00:00Z' }));
      return;
    }
    const valid = Array.from({ length: issued }, (_, i) => `Bearer tok-${i + 1}`);
    if (!valid.includes(req.headers.authorization ?? '')) {
      const service = opts.service === false ? '' : ',service="test-registry"';
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="http://${registry}/token"${service},scope="repository:fixture/app:pull"`,
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    serve(res, url.pathname.endsWith('/list') ? LIST : captured('get', 'fixture-app-v1'));
  };
  return { tokens: () => issued };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
      ...(req.headers.accept !== undefined ? { accept: req.headers.accept } : {}),
    });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => { inFlight--; });
    handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  seen = [];
  inFlight = 0;
  maxInFlight = 0;
  clock = Date.parse('2026-11-28T10:00:00Z');
  events = [];
  handler = (_q, res) => registryError(res, 404, 'NAME_UNKNOWN', 'no handler');
});

afterEach(async () => {
  await client?.close();
  client = undefined;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('manifests', () => {
  it('HEAD sends the four manifest types and reads digest and type', async () => {
    handler = (_q, res) => serve(res, captured('head', 'fixture-app-list'));
    const head = await makeClient().head(app());
    expect(head).toEqual({ digest: LIST_DIGEST, mediaType: 'application/vnd.oci.image.index.v1+json' });
    expect(seen).toEqual([{ method: 'HEAD', path: '/v2/fixture/app/manifests/list', query: {}, accept: MANIFEST_ACCEPT }]);
    expect(events).toEqual([]);
  });

  it('GET returns the parsed document with the registry\'s digest, by tag and by digest', async () => {
    handler = (_q, res, url) => serve(res, url.pathname.endsWith(LIST_DIGEST) ? captured('get', 'fixture-app-list-by-digest') : LIST);
    const c = makeClient();
    const doc = await c.get(app(), 'list');
    expect(doc).toEqual({ digest: LIST_DIGEST, mediaType: 'application/vnd.oci.image.index.v1+json', body: JSON.parse(String(LIST.body)) as unknown });
    expect((await c.get(app(), LIST_DIGEST)).digest).toBe(LIST_DIGEST);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /v2/fixture/app/manifests/list', `GET /v2/fixture/app/manifests/${LIST_DIGEST}`]);
  });

  it('a GET without Docker-Content-Digest: the digest is the sha256 of the body, and the hook says so', async () => {
    handler = (_q, res) => serve(res, LIST, { drop: ['docker-content-digest', 'etag'] });
    const doc = await makeClient().get(app(), 'list');
    expect(doc.digest).toBe(`sha256:${createHash('sha256').update(LIST.body ?? '').digest('hex')}`);
    expect(doc.digest).toBe(LIST_DIGEST);
    expect(events).toEqual([{ kind: 'digest-from-body', registry, name: `${registry}/fixture/app`, reference: 'list' }]);
  });

  it('a HEAD without Docker-Content-Digest: no digest, and the hook says the check will cost a GET', async () => {
    handler = (_q, res) => serve(res, captured('head', 'fixture-app-list'), { drop: ['docker-content-digest', 'etag'] });
    expect(await makeClient().head(app())).toEqual({ mediaType: 'application/vnd.oci.image.index.v1+json' });
    expect(events).toEqual([{ kind: 'head-without-digest', registry, name: `${registry}/fixture/app`, reference: 'list' }]);
  });

  it('a body that is not what its digest names is refused (protocol)', async () => {
    handler = (_q, res) => serve(res, { ...LIST, body: Buffer.from(String(LIST.body).replace('amd64', 'AMD64')) }, { drop: ['content-length'] });
    const err = await makeClient().get(app(), 'list').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ code: 'STACKD_REGISTRY_PROTOCOL', kind: 'protocol', registry });
    expect((err as Error).message).toMatch(/not its Docker-Content-Digest sha256:/);
  });

  it('a GET by digest must yield that digest even without a header', async () => {
    handler = (_q, res) => serve(res, LIST, { drop: ['docker-content-digest', 'etag'] });
    const other = `sha256:${'0'.repeat(64)}`;
    await expect(makeClient().get(app(), other)).rejects.toThrow(/not the digest asked for/);
  });

  it('a 200 that is not JSON is a protocol error naming the reference', async () => {
    handler = (_q, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>login</html>'); };
    await expect(makeClient().get(app(), 'list')).rejects.toThrow(`${registry}/fixture/app:list: ${registry} answered 200 with a body that is not JSON`);
  });

  it('refuses a reference that is neither a tag nor a digest before sending anything', async () => {
    await expect(makeClient().get(app(), '../../etc')).rejects.toThrow(/`reference`/);
    expect(seen).toEqual([]);
  });
});

describe('registry errors', () => {
  it('404 → not-found, with the registry\'s own error code', async () => {
    handler = (_q, res) => serve(res, captured('get', 'fixture-app-nosuch.404'));
    const err = await makeClient().get(app('nosuch'), 'nosuch').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackdError);
    expect(err).toMatchObject({ code: 'STACKD_REGISTRY_NOT_FOUND', kind: 'not-found', registry, status: 404 });
    expect((err as Error).message).toBe(
      `${registry}/fixture/app:nosuch: ${registry} has no such manifest (404 MANIFEST_UNKNOWN: manifest unknown); check the image name and tag in the compose file`);
    // HEAD: no body, same verdict
    handler = (_q, res) => serve(res, captured('head', 'fixture-app-nosuch.404'));
    await expect(client?.head(app('nosuch'))).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('429 with Retry-After in seconds → rate-limited carrying the wait', async () => {
    handler = (_q, res) => registryError(res, 429, 'TOOMANYREQUESTS', 'You have reached your pull rate limit', { 'retry-after': '120' });
    const err = await makeClient().head(app()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STACKD_REGISTRY_RATE_LIMITED', kind: 'rate-limited', retryAfterMs: 120_000, retryAtMs: clock + 120_000, status: 429 });
    expect((err as Error).message).toMatch(/rate-limited stackd \(429\); it asks to wait 120 s;/);
    expect(events).toEqual([{ kind: 'rate-limited', registry, retryAfterMs: 120_000 }]);
  });

  it('429 with Retry-After: the registry is not asked again before then, even by a later run of this stackd; after it, asked again', async () => {
    handler = (_q, res) => registryError(res, 429, 'TOOMANYREQUESTS', 'You have reached your pull rate limit', { 'retry-after': '120' });
    const c = makeClient();
    await expect(c.head(app())).rejects.toMatchObject({ kind: 'rate-limited', retryAfterMs: 120_000 });
    expect(seen).toHaveLength(1);
    handler = (_q, res) => serve(res, captured('head', 'fixture-app-list'));
    clock += 100_000;
    const err = await c.get(app(), 'list').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STACKD_REGISTRY_RATE_LIMITED', kind: 'rate-limited', retryAfterMs: 20_000, retryAtMs: Date.parse('2026-11-28T10:02:00.000Z'), status: 429 });
    expect((err as Error).message).toBe(`${registry}/fixture/app:list: ${registry} rate-limited stackd (429) and asked it to wait; 20 s of that wait are left, so nothing was sent`);
    expect(seen).toHaveLength(1); // nothing was sent
    clock += 20_000;
    await expect(c.head(app())).resolves.toMatchObject({ digest: LIST_DIGEST });
    expect(seen).toHaveLength(2);
  });

  it('a 429 without Retry-After, or with a wait of 0, does not hold the registry back', async () => {
    const c = makeClient();
    for (const extra of [{}, { 'retry-after': '0' }] as Record<string, string>[]) {
      handler = (_q, res) => registryError(res, 429, 'TOOMANYREQUESTS', 'slow down', extra);
      await expect(c.head(app())).rejects.toMatchObject({ kind: 'rate-limited' });
    }
    handler = (_q, res) => serve(res, captured('head', 'fixture-app-list'));
    await expect(c.head(app())).resolves.toMatchObject({ digest: LIST_DIGEST });
    expect(seen).toHaveLength(3);
  });

  it('a Retry-After of a month holds the registry back for a day at most', async () => {
    handler = (_q, res) => registryError(res, 429, 'TOOMANYREQUESTS', 'go away', { 'retry-after': String(30 * 86400) });
    const c = makeClient();
    // the error names the end of the wait stackd holds to, not the month asked for
    await expect(c.head(app())).rejects.toMatchObject({ kind: 'rate-limited', retryAtMs: clock + 86_400_000 });
    clock += 86_400_000;
    handler = (_q, res) => serve(res, captured('head', 'fixture-app-list'));
    await expect(c.head(app())).resolves.toMatchObject({ digest: LIST_DIGEST });
  });

  it('429 with Retry-After as an HTTP date', async () => {
    handler = (_q, res) => registryError(res, 429, 'TOOMANYREQUESTS', 'slow down', { 'retry-after': new Date(clock + 90_000).toUTCString() });
    await expect(makeClient().get(app(), 'list')).rejects.toMatchObject({ kind: 'rate-limited', retryAfterMs: 90_000 });
  });

  it('429 without Retry-After: rate-limited, no wait named', async () => {
    handler = (_q, res) => registryError(res, 429, 'TOOMANYREQUESTS', 'slow down');
    const err = await makeClient().head(app()).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rate-limited' });
    expect((err as RegistryError).retryAfterMs).toBeUndefined();
    expect((err as RegistryError).retryAtMs).toBeUndefined();
  });

  it('5xx → unreachable (try later)', async () => {
    handler = (_q, res) => registryError(res, 503, 'UNAVAILABLE', 'maintenance');
    await expect(makeClient().head(app())).rejects.toMatchObject({ code: 'STACKD_REGISTRY_UNREACHABLE', status: 503 });
  });

  it('a redirect is not followed (protocol), so no credential travels elsewhere', async () => {
    handler = (_q, res) => { res.writeHead(307, { location: 'http://elsewhere.invalid/v2/x' }); res.end(); };
    await expect(makeClient().head(app())).rejects.toThrow(/answered 307 \(to http:\/\/elsewhere.invalid\/v2\/x; stackd follows no redirects\)/);
  });

  it('connection refused → unreachable, naming registry and address', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await makeClient().head(ref(`127.0.0.1:${port}/x/y:1`)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STACKD_REGISTRY_UNREACHABLE', registry: `127.0.0.1:${port}` });
    expect((err as Error).message).toBe(`cannot reach 127.0.0.1:${port} at http://127.0.0.1:${port} (ECONNREFUSED); check the network and DNS, or whether the registry is down`);
  });

  it('no answer within the timeout → unreachable', async () => {
    handler = () => { /* never answers */ };
    const err = await makeClient({ requestTimeoutMs: 200 }).head(app()).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unreachable' });
    expect((err as Error).message).toMatch(/did not answer within 200 ms \(UND_ERR_HEADERS_TIMEOUT\)/);
  });
});

describe('authentication', () => {
  it('anonymous token flow: 401 Bearer → token with service and scope → retry once with the token', async () => {
    const reg = tokenRegistry({ expiresIn: 300 });
    expect(await makeClient().head(app())).toMatchObject({ digest: LIST_DIGEST });
    expect(seen.map((s) => ({ method: s.method, path: s.path, query: s.query, authorization: s.authorization }))).toEqual([
      { method: 'HEAD', path: '/v2/fixture/app/manifests/list', query: {}, authorization: undefined },
      { method: 'GET', path: '/token', query: { service: 'test-registry', scope: 'repository:fixture/app:pull' }, authorization: undefined },
      { method: 'HEAD', path: '/v2/fixture/app/manifests/list', query: {}, authorization: 'Bearer tok-1' },
    ]);
    expect(reg.tokens()).toBe(1);
  });

  it('a challenge without service: the token request has only the scope', async () => {
    tokenRegistry({ service: false });
    await makeClient().head(app());
    expect(seen[1]?.query).toEqual({ scope: 'repository:fixture/app:pull' });
  });

  it('with credentials, the token service receives them as Basic; the registry only ever sees the token', async () => {
    tokenRegistry({ user: ['robot', PASSWORD] });
    await makeClient({ credentials: creds('robot', PASSWORD) }).get(app(), 'list');
    expect(seen[1]).toMatchObject({ path: '/token', authorization: basicOf('robot', PASSWORD) });
    expect(seen.filter((s) => s.path.startsWith('/v2/')).map((s) => s.authorization)).toEqual([undefined, 'Bearer tok-1']);
  });

  it('reuses the token within expires_in, and fetches a new one after', async () => {
    const reg = tokenRegistry({ expiresIn: 300 });
    const c = makeClient();
    await c.head(app());
    clock += 299_000;
    await c.get(app(), 'list');
    expect(reg.tokens()).toBe(1);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', authorization: 'Bearer tok-1' });
    clock += 2_000; // past expires_in: the token is not sent again
    await c.head(app());
    expect(reg.tokens()).toBe(2);
    expect(seen.slice(-3).map((s) => `${s.method} ${s.path} ${s.authorization ?? '-'}`)).toEqual([
      'HEAD /v2/fixture/app/manifests/list -', 'GET /token -', 'HEAD /v2/fixture/app/manifests/list Bearer tok-2',
    ]);
  });

  it('without expires_in a token lives 60 s', async () => {
    const reg = tokenRegistry();
    const c = makeClient();
    await c.head(app());
    clock += 59_000;
    await c.head(app());
    expect(reg.tokens()).toBe(1);
    clock += 2_000;
    await c.head(app());
    expect(reg.tokens()).toBe(2);
  });

  it('a cached token the registry refuses (revoked early) is replaced once', async () => {
    const reg = tokenRegistry({ expiresIn: 300 });
    const c = makeClient();
    await c.head(app());
    // the registry forgets tok-1 but still accepts newer ones
    const inner = handler;
    handler = (req, res, url) => {
      if (req.headers.authorization === 'Bearer tok-1') req.headers.authorization = 'Bearer revoked';
      inner(req, res, url);
    };
    await c.head(app());
    expect(reg.tokens()).toBe(2);
  });

  it('two refused requests at once share one token fetch', async () => {
    const reg = tokenRegistry({ expiresIn: 300 });
    const c = makeClient();
    await Promise.all([c.head(app()), c.get(app(), 'list')]);
    expect(reg.tokens()).toBe(1);
  });

  it('a wrong password → auth error naming the registry and where the credentials came from, never the password', async () => {
    tokenRegistry({ user: ['robot', 'the-right-one'] });
    const err = await makeClient({ credentials: creds('robot', PASSWORD) }).head(app()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ code: 'STACKD_REGISTRY_AUTH', kind: 'auth', registry, status: 401 });
    const e = err as RegistryError;
    expect(e.message).toBe(
      `${registry}/fixture/app: the token service http://${registry}/token refused the credentials for ${registry} from ` +
      `/run/user/1000/containers/auth.json (auths["127.0.0.1"]) (401 UNAUTHORIZED: authentication required); ` +
      `the password or token is wrong or expired: podman login ${registry}`);
    for (const text of [e.message, String(e.stack), inspect(e, { depth: 5 }), JSON.stringify(e)]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(Buffer.from(`robot:${PASSWORD}`).toString('base64'));
    }
  });

  it('anonymous and still refused after the token (private repository) → auth error saying what to do', async () => {
    handler = (req, res, url) => {
      if (url.pathname === '/token') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"token":"anon"}'); return; }
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${registry}/token",service="s"` });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    };
    const err = await makeClient().get(app(), 'list').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'auth' });
    expect((err as Error).message).toMatch(/refused an anonymous token \(401 UNAUTHORIZED: authentication required\); the repository is private, or does not exist/);
    // exactly one retry
    expect(seen.filter((s) => s.path.startsWith('/v2/'))).toHaveLength(2);
  });

  it('a Basic challenge → the request again with Authorization: Basic, kept for the next request', async () => {
    handler = (req, res) => {
      if (req.headers.authorization !== basicOf('robot', PASSWORD)) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="Registry Realm"' });
        res.end();
        return;
      }
      serve(res, LIST);
    };
    const c = makeClient({ credentials: creds('robot', PASSWORD) });
    expect((await c.get(app(), 'list')).digest).toBe(LIST_DIGEST);
    await c.get(app(), 'list');
    expect(seen.map((s) => s.authorization)).toEqual([undefined, basicOf('robot', PASSWORD), basicOf('robot', PASSWORD)]);
  });

  it('a Basic challenge with a wrong password, or with no credentials → auth errors without the password', async () => {
    handler = (_q, res) => { res.writeHead(401, { 'www-authenticate': 'Basic realm="Registry Realm"' }); res.end(); };
    const err = await makeClient({ credentials: creds('robot', PASSWORD) }).head(app()).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'auth', registry });
    expect((err as Error).message).toMatch(/refused the credentials from \/run\/user\/1000\/containers\/auth.json/);
    expect(`${(err as Error).message}${String((err as Error).stack)}`).not.toContain(PASSWORD);
    await client?.close();
    const none = await makeClient().head(app()).catch((e: unknown) => e);
    expect((none as Error).message).toMatch(/wants a username and password \(Basic\) and none were found in \(no credential source configured\); log in as the user stackd runs as: podman login /);
  });

  it('a 401 without a challenge stackd speaks is a protocol error', async () => {
    handler = (_q, res) => { res.writeHead(401, { 'www-authenticate': 'Negotiate' }); res.end(); };
    await expect(makeClient().head(app())).rejects.toMatchObject({ kind: 'protocol', message: expect.stringContaining('WWW-Authenticate: Negotiate') as unknown });
  });

  it('the token service rate-limits → rate-limited', async () => {
    handler = (_q, res, url) => {
      if (url.pathname === '/token') { registryError(res, 429, 'TOOMANYREQUESTS', 'slow', { 'retry-after': '7' }); return; }
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${registry}/token"` });
      res.end();
    };
    await expect(makeClient().head(app())).rejects.toMatchObject({ kind: 'rate-limited', retryAfterMs: 7000 });
  });
});

describe('at most 2 requests in flight per registry', () => {
  it('six checks at once: the registry never sees more than 2', async () => {
    handler = (_q, res) => { setTimeout(() => serve(res, captured('head', 'fixture-app-list')), 60); };
    const c = makeClient();
    const heads = await Promise.all(Array.from({ length: 6 }, () => c.head(app())));
    expect(heads.every((h) => h.digest === LIST_DIGEST)).toBe(true);
    expect(seen).toHaveLength(6);
    expect(maxInFlight).toBe(2);
  });

  it('a configured limit of 1 serializes', async () => {
    handler = (_q, res) => { setTimeout(() => serve(res, captured('head', 'fixture-app-list')), 30); };
    const c = makeClient({ maxInFlightPerRegistry: 1 });
    await Promise.all(Array.from({ length: 3 }, () => c.head(app())));
    expect(maxInFlight).toBe(1);
  });

  it('refuses a limit below 1', () => {
    expect(() => new RegistryClient({ maxInFlightPerRegistry: 0 })).toThrow(/`maxInFlightPerRegistry`/);
  });
});

describe('https unless the registry is insecure', () => {
  let dir: string;
  let tls: ReturnType<typeof createHttpsServer> | undefined;
  let tlsRegistry: string;
  let ca: string;
  beforeAll(async () => {
    // the https cases need a certificate: openssl is provisioned (test/lab/provision.sh); no silent skip
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      throw new Error('openssl is not on PATH: run `bash test/lab/provision.sh` as root (the https registry tests need it)');
    }
    dir = mkdtempSync(join(tmpdir(), 'stackd-tls-'));
    // a throwaway self-signed certificate for 127.0.0.1, made now and deleted after
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    tls = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }, (req, res) => {
      seen.push({ method: req.method ?? '', path: new URL(req.url ?? '/', 'https://x').pathname, query: {} });
      serve(res, captured('head', 'fixture-app-list'));
    });
    await new Promise<void>((resolve) => tls?.listen(0, '127.0.0.1', resolve));
    tlsRegistry = `127.0.0.1:${(tls.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (!tls) return;
    tls.closeAllConnections();
    await new Promise<void>((resolve) => tls?.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a registry that is not insecure is spoken to over https (here trusting the test CA)', async () => {
    const agent = new Agent({ connect: { ca } });
    try {
      const c = makeClient({ isInsecure: () => false, dispatcher: agent });
      expect(await c.head(ref(`${tlsRegistry}/fixture/app:list`))).toMatchObject({ digest: LIST_DIGEST });
      expect(seen).toEqual([{ method: 'HEAD', path: '/v2/fixture/app/manifests/list', query: {} }]);
    } finally {
      await agent.close();
    }
  });

  it('an untrusted certificate → unreachable, saying what to do', async () => {
    const err = await makeClient({ isInsecure: () => false }).head(ref(`${tlsRegistry}/fixture/app:list`)).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unreachable', registry: tlsRegistry });
    expect((err as Error).message).toMatch(new RegExp(`^TLS with ${tlsRegistry} at https://${tlsRegistry} failed \\(DEPTH_ZERO_SELF_SIGNED_CERT\\); .*insecure = true in registries.conf`));
  });

  it('the plain-http test registry is asked over https when not marked insecure (and that fails)', async () => {
    handler = (_q, res) => serve(res, captured('head', 'fixture-app-list'));
    const err = await makeClient({ isInsecure: () => false }).head(app()).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unreachable' });
    expect((err as Error).message).toContain(`https://${registry}`);
    // …and over http when insecure, as registries.conf says for the lab registry
    await client?.close();
    const asked: [string, string][] = [];
    expect(await makeClient({ isInsecure: (r, repo) => { asked.push([r, repo]); return true; } }).head(app())).toMatchObject({ digest: LIST_DIGEST });
    expect(asked).toEqual([[registry, 'fixture/app']]);
  });

  it('credentials are not sent to a plain-http token service of an https registry', async () => {
    const agent = new Agent({ connect: { ca } });
    const tls401 = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }, (_q, res) => {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${registry}/token",service="s"` });
      res.end();
    });
    await new Promise<void>((resolve) => tls401.listen(0, '127.0.0.1', resolve));
    try {
      const r = ref(`127.0.0.1:${(tls401.address() as AddressInfo).port}/fixture/app:list`);
      const err = await makeClient({ isInsecure: () => false, dispatcher: agent, credentials: creds('robot', PASSWORD) }).head(r).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'protocol' });
      expect((err as Error).message).toMatch(/token service http:\/\/127.0.0.1:\d+ is plain http; stackd does not send the credentials/);
      expect(seen.filter((s) => s.path === '/token')).toEqual([]);
    } finally {
      tls401.closeAllConnections();
      await new Promise<void>((resolve) => tls401.close(() => resolve()));
      await agent.close();
    }
  });
});
