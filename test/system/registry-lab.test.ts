// Proof of the registry lab (registry-lab.ts) on the real machine: Debian's docker-registry (distribution 2.8)
// with htpasswd and with token auth, real rootless podman pushing and pulling, a two-platform list, and the
// 429 and digest-stripping proxies. Every assertion reads podman, the registry's own access log, the issuer's
// record or raw HTTP. At the end nothing of the lab may be left behind.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PODMAN_SOCKET, cleanup, podman, podmanOk, run, scratch } from './harness.js';
import {
  DEFAULT_AUTHFILE, DROPIN_DIR, MANIFEST_ACCEPT, freePort, MEDIA, cleanupRegistryLab, labLeftovers, localImagesOf, parseChallenge, podmanLogin,
  pushImage, pushTwoPlatformList, readAuthJson, registryRequest, startBasicRegistry, startDigestStrippingProxy, startOpenRegistry,
  startRateLimitProxy, startTokenRegistry, stopRegistry, writeAuthJson,
  type BasicRegistryHandle, type RegistryHandle, type TokenRegistryHandle,
} from './registry-lab.js';

const timings: Record<string, number> = {};
async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = Math.round(performance.now() - t0);
  }
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ALICE = { user: 'alice', password: 'wonder-land-7' };
const BOB = { user: 'bob', password: 'builder-42' };

async function inspectImage(ref: string): Promise<{ Id: string; RepoDigests: string[]; Architecture: string; Labels: Record<string, string> | null }> {
  return (JSON.parse(await podmanOk('image', 'inspect', ref)) as { Id: string; RepoDigests: string[]; Architecture: string; Labels: Record<string, string> | null }[])[0]!;
}

let dir: string;

beforeAll(async () => {
  dir = await scratch('registry-lab');
});

afterAll(async () => {
  await cleanupRegistryLab();
  const left = await labLeftovers();
  await cleanup(dir);
  console.log(`[registry-lab] timings (ms): ${JSON.stringify(timings)}`);
  expect(left).toEqual([]);
});

describe('basic registry (htpasswd)', () => {
  let reg: BasicRegistryHandle;

  beforeAll(async () => {
    reg = await timed('startBasicRegistry', () => startBasicRegistry({ ...ALICE, moreUsers: { dave: 'd pass with spaces $x' } }));
  });

  it('answers 401 with a Basic challenge without credentials and is marked insecure for podman', async () => {
    const r = await registryRequest(reg.host, '/v2/', { auth: 'none' });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Basic realm="stackd-lab"');
    expect((await registryRequest(reg.host, '/v2/', { credentials: ALICE })).status).toBe(200);
    expect((await registryRequest(reg.host, '/v2/', { credentials: { user: 'alice', password: 'nope' } })).status).toBe(401);
    expect((await registryRequest(reg.host, '/v2/', { credentials: { user: 'dave', password: 'd pass with spaces $x' } })).status).toBe(200);
  });

  it('podman login, push and pull work; without the login a pull is refused 401', async () => {
    const wrong = await podmanLogin(reg.host, 'alice', 'wrong-password');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/invalid username\/password|401|unauthorized/i);

    const login = await timed('basic: podman login', () => podmanLogin(reg.host, ALICE.user, ALICE.password));
    expect(login.code, login.stderr).toBe(0);
    expect(await readAuthJson(reg.host)).toEqual(ALICE); // podman's default authfile

    const ref = `${reg.host}/lab/app:1`;
    const digest = await timed('basic: pushImage', () => pushImage(ref, { variant: 'app-v1' }));
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const before = reg.mark();
    await timed('basic: podman pull', () => podmanOk('pull', '-q', ref));
    const img = await inspectImage(ref);
    expect(img.RepoDigests).toContain(`${reg.host}/lab/app@${digest}`);
    expect(img.Labels?.['stackd.lab.variant']).toBe('app-v1');
    const hc = JSON.parse(await podmanOk('image', 'inspect', '--format', '{{json .HealthCheck}}', ref)) as { Test: string[] };
    expect(hc.Test).toEqual(['CMD', 'test', '-f', '/variant.txt']);
    const out = await podmanOk('run', '--rm', ref, 'cat', '/variant.txt');
    expect(out.trim()).toBe('app-v1');
    await reg.flush();
    const pulled = reg.requestsSince(before);
    expect(pulled.some((r) => r.method === 'GET' && r.path === '/v2/lab/app/manifests/1' && r.status === 200)).toBe(true);

    // the same pull without the login: a fresh, empty authfile
    const empty = join(dir, 'empty-auth.json');
    await writeAuthJson(empty, {});
    await podmanOk('rmi', ref);
    const anon = await podman('pull', '-q', '--authfile', empty, ref);
    expect(anon.code).not.toBe(0);
    expect(anon.stderr).toMatch(/401|unauthorized|authentication required/i);
    await reg.flush();
    expect(reg.requests().some((r) => r.path === '/v2/lab/app/manifests/1' && r.status === 401)).toBe(true);

    // an auth.json written by the lab (as podman writes it) is as good as podman login's
    const written = join(dir, 'written-auth.json');
    await writeAuthJson(written, { [reg.host]: ALICE });
    expect((await podman('pull', '-q', '--authfile', written, ref)).code).toBe(0);
  });
});

describe('token registry (Bearer flow with an in-test issuer)', () => {
  let reg: TokenRegistryHandle;
  let authfile: string;

  beforeAll(async () => {
    reg = await timed('startTokenRegistry', () => startTokenRegistry({ users: { [ALICE.user]: ALICE.password, [BOB.user]: BOB.password } }));
    authfile = join(dir, 'token-auth.json');
  });

  it('a raw request gets 401 with WWW-Authenticate: Bearer realm, service and scope', async () => {
    const base = await registryRequest(reg.host, '/v2/', { auth: 'none' });
    expect(base.status).toBe(401);
    expect(base.headers['www-authenticate']).toBe(`Bearer realm="${reg.realm}",service="${reg.service}"`);

    const m = await registryRequest(reg.host, '/v2/lab/tok/manifests/1', { method: 'HEAD', accept: MANIFEST_ACCEPT, auth: 'none' });
    expect(m.status).toBe(401);
    const ch = parseChallenge(m.headers['www-authenticate']);
    expect(ch).toEqual({ scheme: 'bearer', params: { realm: reg.realm, service: reg.service, scope: 'repository:lab/tok:pull' } });
  });

  it('the issuer refuses a wrong password (401), and a token it issues opens the registry', async () => {
    const wrong = await registryRequest(reg.host, '/v2/', { credentials: { user: 'alice', password: 'guess' } });
    expect(wrong.from).toBe('issuer');
    expect(wrong.status).toBe(401);
    const ok = await registryRequest(reg.host, '/v2/', { credentials: ALICE });
    expect(ok.status).toBe(200);
    expect(ok.sentAuth).toBe('bearer');

    const t = await registryRequest(reg.realm.replace('http://', '').split('/')[0]!, `/token?service=${reg.service}&scope=repository:lab/tok:pull,push`, {
      headers: { authorization: `Basic ${Buffer.from(`${BOB.user}:${BOB.password}`).toString('base64')}` },
    });
    expect(t.status).toBe(200);
    const body = t.json<{ token: string; access_token: string; expires_in: number; issued_at: string }>();
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
    const [h, c] = body.token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
    expect(h).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    expect((h as { x5c: string[] }).x5c).toHaveLength(1);
    expect(c).toMatchObject({ iss: reg.issuer, sub: 'bob', aud: reg.service, access: [{ type: 'repository', name: 'lab/tok', actions: ['pull', 'push'] }] });

    const rec = reg.tokenRequests();
    expect(rec.some((r) => r.outcome === 'bad-credentials' && r.user === 'alice' && r.status === 401)).toBe(true);
    expect(rec.some((r) => r.outcome === 'issued' && r.user === 'bob' && r.scopes.includes('repository:lab/tok:pull,push'))).toBe(true);
  });

  it('the registry checks the token: kid instead of x5c works; wrong issuer, wrong audience, expired do not', async () => {
    const access = [{ type: 'registry', name: 'catalog', actions: ['*'] }];
    const status = async (token: string) => (await registryRequest(reg.host, '/v2/_catalog', { bearer: token })).status;
    expect(await status(reg.mintToken({ sub: 'alice', access }))).toBe(200);
    expect(await status(reg.mintToken({ sub: 'alice', access, keyHeader: 'kid' }))).toBe(200);
    expect(reg.keyId).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    expect(await status(reg.mintToken({ sub: 'alice', access, issuer: 'someone-else' }))).toBe(401);
    expect(await status(reg.mintToken({ sub: 'alice', access, audience: 'other-registry' }))).toBe(401);
    expect(await status(reg.mintToken({ sub: 'alice', access, expiresIn: -120 }))).toBe(401); // past the 60 s leeway
    expect(await status(reg.mintToken({ sub: 'alice', access: [] }))).toBe(401); // valid, but grants nothing
  });

  it('podman login, push and pull go through the issuer; the registry log shows the requests', async () => {
    const bad = await podmanLogin(reg.host, 'alice', 'nope', authfile);
    expect(bad.code).not.toBe(0);
    const n0 = reg.tokenRequests().length;
    const login = await timed('token: podman login', () => podmanLogin(reg.host, ALICE.user, ALICE.password, authfile));
    expect(login.code, login.stderr).toBe(0);
    const loginReqs = reg.tokenRequests().slice(n0);
    expect(loginReqs.some((r) => r.outcome === 'issued' && r.credentials === 'basic' && r.user === 'alice' && r.account === 'alice')).toBe(true);

    const ref = `${reg.host}/lab/tok:1`;
    const n1 = reg.tokenRequests().length;
    const digest = await timed('token: pushImage', () => pushImage(ref, { variant: 'tok-v1', authfile }));
    const pushReqs = reg.tokenRequests().slice(n1);
    expect(pushReqs.some((r) => r.user === 'alice' && r.scopes.includes('repository:lab/tok:pull,push')
      && r.granted.some((g) => g.name === 'lab/tok' && g.actions.includes('push')))).toBe(true);

    const mark = reg.mark();
    await timed('token: podman pull', () => podmanOk('pull', '-q', '--authfile', authfile, ref));
    expect((await inspectImage(ref)).RepoDigests).toContain(`${reg.host}/lab/tok@${digest}`);
    await reg.flush();
    const seen = reg.requestsSince(mark);
    console.log(`[registry-lab] token pull, registry access log: ${seen.map((r) => `${r.method} ${r.path} ${r.status}`).join(' | ')}`);
    // the Bearer dance: /v2/ without a token is refused, then everything carries the token
    expect(seen[0]).toMatchObject({ method: 'GET', path: '/v2/', status: 401 });
    expect(seen.some((r) => r.path === '/v2/lab/tok/manifests/1' && r.status === 200)).toBe(true);
    expect(seen.some((r) => r.path.startsWith('/v2/lab/tok/blobs/sha256:') && r.status === 200)).toBe(true);
    expect(reg.logs()).toMatch(/auth\.user\.name="?alice"?/);

    // no credentials, no anonymous pull: the issuer hands out an empty token and the registry refuses
    await podmanOk('rmi', ref);
    const empty = join(dir, 'empty-auth-2.json');
    await writeAuthJson(empty, {});
    const anon = await podman('pull', '-q', '--authfile', empty, ref);
    expect(anon.code).not.toBe(0);
    expect(anon.stderr).toMatch(/requested access to the resource is denied/);
    expect(reg.tokenRequests().some((r) => r.credentials === 'none' && r.granted.every((g) => g.actions.length === 0))).toBe(true);
    await reg.flush();
    expect(reg.requests().at(-1)).toMatchObject({ method: 'GET', path: '/v2/lab/tok/manifests/1', status: 401 });
  });

  it('anonymousPull: podman pulls without credentials, and cannot push', async () => {
    const open = await timed('startTokenRegistry (anonymousPull)', () => startTokenRegistry({ users: { alice: ALICE.password }, anonymousPull: true }));
    try {
      const ref = `${open.host}/lab/pub:1`;
      const digest = await pushImage(ref, { variant: 'pub', credentials: ALICE });
      const empty = join(dir, 'empty-auth-3.json');
      await writeAuthJson(empty, {});
      await podmanOk('pull', '-q', '--authfile', empty, ref);
      expect((await inspectImage(ref)).RepoDigests).toContain(`${open.host}/lab/pub@${digest}`);
      expect(open.tokenRequests().some((r) => r.credentials === 'none' && r.granted.some((g) => g.name === 'lab/pub' && g.actions.join() === 'pull'))).toBe(true);
      await expect(pushImage(`${open.host}/lab/pub:2`, { variant: 'nope', authfile: empty })).rejects.toThrow(/requested access to the resource is denied/);
    } finally {
      await stopRegistry(open);
    }
  });
});

describe('two-platform list', () => {
  let reg: RegistryHandle;

  beforeAll(async () => {
    reg = await startOpenRegistry();
  });

  it('HEAD of the tag gives the index digest; a pull records the index and the amd64 digest; only arm64 changes when only arm64 changed', async () => {
    const ref = `${reg.host}/lab/multi:1`;
    const first = await timed('pushTwoPlatformList #1', () => pushTwoPlatformList(ref, { amd64Variant: 'amd-1', arm64Variant: 'arm-1' }));
    expect(first.index.mediaType).toBe(MEDIA.ociIndex);
    expect(first.index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64']);

    const mark = reg.mark();
    const head = await registryRequest(reg.host, '/v2/lab/multi/manifests/1', { method: 'HEAD', accept: [MEDIA.ociIndex, MEDIA.dockerList] });
    expect(head.status).toBe(200);
    expect(head.headers['docker-content-digest']).toBe(first.indexDigest);
    expect(head.headers['content-type']).toBe(MEDIA.ociIndex);
    expect(head.body.length).toBe(0);
    // a HEAD is one request and fetches no blob
    await reg.flush();
    expect(reg.requestsSince(mark).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['HEAD /v2/lab/multi/manifests/1 200']);
    // the body a GET returns hashes to that digest
    const get = await registryRequest(reg.host, '/v2/lab/multi/manifests/1', { accept: [MEDIA.ociIndex, MEDIA.dockerList] });
    expect(sha256(get.body)).toBe(first.indexDigest);

    // a client that leaves the OCI index type out of Accept gets 404 from distribution 2.8 (it would rewrite
    // the list to the linux/amd64 manifest, but does not for an OCI index): the update check must send it
    for (const accept of [[MEDIA.dockerList], [MEDIA.dockerList, MEDIA.dockerManifest], [MEDIA.ociManifest, MEDIA.dockerManifest], []]) {
      const r = await registryRequest(reg.host, '/v2/lab/multi/manifests/1', accept.length ? { accept } : {});
      expect({ accept, status: r.status, code: r.json<{ errors: { code: string }[] }>().errors[0]?.code }).toEqual({ accept, status: 404, code: 'MANIFEST_UNKNOWN' });
    }

    await timed('list: podman pull', () => podmanOk('pull', '-q', ref));
    const img = await inspectImage(ref);
    expect(img.Architecture).toBe('amd64');
    expect(img.RepoDigests).toEqual(expect.arrayContaining([`${reg.host}/lab/multi@${first.indexDigest}`, `${reg.host}/lab/multi@${first.amd64Digest}`]));
    expect(img.RepoDigests).not.toContain(`${reg.host}/lab/multi@${first.arm64Digest}`);
    expect((await podmanOk('run', '--rm', ref, 'cat', '/variant.txt')).trim()).toBe('amd-1');

    const second = await timed('pushTwoPlatformList #2', () => pushTwoPlatformList(ref, { amd64Variant: 'amd-1', arm64Variant: 'arm-2' }));
    expect(second.amd64Digest).toBe(first.amd64Digest);
    expect(second.arm64Digest).not.toBe(first.arm64Digest);
    expect(second.indexDigest).not.toBe(first.indexDigest);
    const head2 = await registryRequest(reg.host, '/v2/lab/multi/manifests/1', { method: 'HEAD', accept: [MEDIA.ociIndex, MEDIA.dockerList] });
    expect(head2.headers['docker-content-digest']).toBe(second.indexDigest);
    // the amd64 image a host runs is the same: pulling the new list fetches no blob
    const mark2 = reg.mark();
    await podmanOk('pull', '-q', ref);
    const after = await inspectImage(ref);
    expect(after.Id).toBe(img.Id);
    expect(after.RepoDigests).toContain(`${reg.host}/lab/multi@${second.indexDigest}`);
    // podman fetches the small config blob again, never a layer
    const amdManifest = (await registryRequest(reg.host, `/v2/lab/multi/manifests/${second.amd64Digest}`, { accept: MEDIA.ociManifest }))
      .json<{ config: { digest: string }; layers: { digest: string }[] }>();
    await reg.flush();
    const blobs = reg.requestsSince(mark2).filter((r) => r.path.includes('/blobs/'));
    expect(blobs.map((r) => r.path)).toEqual([`/v2/lab/multi/blobs/${amdManifest.config.digest}`]);
    expect(blobs.some((r) => amdManifest.layers.some((l) => r.path.endsWith(l.digest)))).toBe(false);

    // and a third push with the amd64 side changed moves the amd64 digest
    const third = await pushTwoPlatformList(ref, { amd64Variant: 'amd-2', arm64Variant: 'arm-2' });
    expect(third.amd64Digest).not.toBe(first.amd64Digest);
    expect(third.arm64Digest).toBe(second.arm64Digest);
  });
});

describe('proxies', () => {
  let reg: BasicRegistryHandle;
  let digest: string;

  beforeAll(async () => {
    reg = await startBasicRegistry(BOB);
    digest = await pushImage(`${reg.host}/lab/px:1`, { variant: 'px', credentials: BOB });
  });

  it('the rate-limit proxy answers manifest requests 429 with Retry-After, always or the first N, and forwards the rest', async () => {
    const px = await startRateLimitProxy(reg, { retryAfter: 7 });
    const head = await registryRequest(px.host, '/v2/lab/px/manifests/1', { method: 'HEAD', accept: MANIFEST_ACCEPT, credentials: BOB });
    expect(head.status).toBe(429);
    expect(head.headers['retry-after']).toBe('7');
    const get = await registryRequest(px.host, '/v2/lab/px/manifests/1', { accept: MANIFEST_ACCEPT, credentials: BOB });
    expect(get.status).toBe(429);
    expect(get.json<{ errors: { code: string }[] }>().errors[0]?.code).toBe('TOOMANYREQUESTS');
    // not a manifest request: forwarded (and the registry's own 401 comes back)
    expect((await registryRequest(px.host, '/v2/', { auth: 'none' })).status).toBe(401);
    expect((await registryRequest(px.host, '/v2/', { credentials: BOB })).status).toBe(200);

    px.setLimit(2);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await registryRequest(px.host, '/v2/lab/px/manifests/1', { method: 'HEAD', accept: MANIFEST_ACCEPT, credentials: BOB })).status);
    }
    expect(statuses).toEqual([429, 429, 200]);
    expect(px.limited()).toBe(4);
    expect(px.requests().filter((r) => r.limited).every((r) => r.path === '/v2/lab/px/manifests/1')).toBe(true);

    await stopRegistry(px);
  });

  it('podman meets one 429 with Retry-After: 3, waits it out and pulls', async () => {
    const px = await startRateLimitProxy(reg, { retryAfter: 3, limit: 1 });
    const authfile = join(dir, 'px-auth.json');
    await writeAuthJson(authfile, { [px.host]: BOB });
    const t0 = Date.now();
    const pull = await podman('pull', '-q', '--authfile', authfile, `${px.host}/lab/px:1`);
    const ms = Date.now() - t0;
    timings['podman pull through one 429 (Retry-After 3)'] = ms;
    console.log(`[registry-lab] podman pull after one 429: exit ${pull.code}, ${ms} ms; proxy saw ${px.requests().map((r) => `${r.method} ${r.path} ${r.status}`).join(' | ')}`);
    expect(pull.code, pull.stderr).toBe(0);
    expect(px.limited()).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(2900);
    await stopRegistry(px);
  });

  it('the digest-stripping proxy drops Docker-Content-Digest and leaves the bodies intact', async () => {
    const px = await startDigestStrippingProxy(reg.host);
    const direct = await registryRequest(reg.host, '/v2/lab/px/manifests/1', { accept: MANIFEST_ACCEPT, credentials: BOB });
    expect(direct.headers['docker-content-digest']).toBe(digest);

    const head = await registryRequest(px.host, '/v2/lab/px/manifests/1', { method: 'HEAD', accept: MANIFEST_ACCEPT, credentials: BOB });
    expect(head.status).toBe(200);
    expect(head.headers['docker-content-digest']).toBeUndefined();
    expect(head.headers['content-length']).toBe(String(direct.body.length));
    const get = await registryRequest(px.host, '/v2/lab/px/manifests/1', { accept: MANIFEST_ACCEPT, credentials: BOB });
    expect(get.headers['docker-content-digest']).toBeUndefined();
    expect(get.body.equals(direct.body)).toBe(true);
    expect(sha256(get.body)).toBe(digest);
    const layer = get.json<{ layers: { digest: string; size: number }[] }>().layers.at(-1)!;
    const blob = await registryRequest(px.host, `/v2/lab/px/blobs/${layer.digest}`, { credentials: BOB });
    expect(blob.status).toBe(200);
    expect(blob.body.length).toBe(layer.size);
    expect(sha256(blob.body)).toBe(layer.digest);
    expect(px.requests().filter((r) => r.strippedDigest).length).toBeGreaterThanOrEqual(3);

    // podman pulls through it (it checks the body against the digest it computes itself)
    const authfile = join(dir, 'strip-auth.json');
    await writeAuthJson(authfile, { [px.host]: BOB });
    const pull = await podman('pull', '-q', '--authfile', authfile, `${px.host}/lab/px:1`);
    expect(pull.code, pull.stderr).toBe(0);
    expect((await inspectImage(`${px.host}/lab/px:1`)).RepoDigests).toContain(`${px.host}/lab/px@${digest}`);
    await stopRegistry(px);
    expect(await localImagesOf(`${px.host}/`)).toEqual([]);
  });
});

describe('the podman API service (the socket stackd talks to)', () => {
  it('pulls from a lab registry that was started while the service was already running', async () => {
    const dispatcher = new Agent({ connect: { socketPath: PODMAN_SOCKET } });
    try {
      const ping = await request('http://d/_ping', { dispatcher });
      await ping.body.dump();
      const pidBefore = (await run(['systemctl', '--user', 'show', '-p', 'MainPID', '--value', 'podman.service'])).stdout.trim();
      const reg = await startOpenRegistry();
      const ref = `${reg.host}/lab/api:1`;
      const digest = await pushImage(ref, { variant: 'api' });
      const r = await request(`http://d/v1.41/images/create?fromImage=${encodeURIComponent(`${reg.host}/lab/api`)}&tag=1`, { method: 'POST', dispatcher });
      const text = await r.body.text();
      const pidAfter = (await run(['systemctl', '--user', 'show', '-p', 'MainPID', '--value', 'podman.service'])).stdout.trim();
      console.log(`[registry-lab] compat pull via the API: ${r.statusCode}; podman.service MainPID ${pidBefore} -> ${pidAfter}; ${text.slice(-300)}`);
      expect(r.statusCode).toBe(200);
      expect(text).not.toMatch(/"error"/);
      expect((await inspectImage(ref)).RepoDigests).toContain(`${reg.host}/lab/api@${digest}`);
      await stopRegistry(reg);
    } finally {
      await dispatcher.close();
    }
  });
});

describe('outages', () => {
  it('down() refuses connections, up() serves the same content again; pause() makes requests hang until resume()', async () => {
    const reg = await startOpenRegistry();
    const digest = await pushImage(`${reg.host}/lab/out:1`, { variant: 'out', health: 'unhealthy' });
    const head = () => registryRequest(reg.host, '/v2/lab/out/manifests/1', { method: 'HEAD', accept: MANIFEST_ACCEPT, timeoutMs: 1000 });
    expect((await head()).headers['docker-content-digest']).toBe(digest);

    await reg.down();
    await expect(head()).rejects.toThrow(/ECONNREFUSED/);
    const pull = await podman('pull', '-q', `${reg.host}/lab/out:1`);
    expect(pull.code).not.toBe(0);
    expect(pull.stderr).toMatch(/connection refused/);
    await timed('registry up() again', () => reg.up());
    expect((await head()).headers['docker-content-digest']).toBe(digest);

    reg.pause();
    const t0 = Date.now();
    await expect(head()).rejects.toThrow(/no answer in 1000 ms/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    reg.resume();
    expect((await head()).status).toBe(200);

    // health: 'unhealthy' gives an image whose own HEALTHCHECK never passes
    await podmanOk('pull', '-q', `${reg.host}/lab/out:1`);
    const hc = JSON.parse(await podmanOk('image', 'inspect', '--format', '{{json .HealthCheck}}', `${reg.host}/lab/out:1`)) as { Test: string[] };
    expect(hc.Test).toEqual(['CMD', 'test', '-f', '/never-there-unhealthy']);
    await stopRegistry(reg);
  });
});

describe('teardown', () => {
  it('stop() leaves no process, port, drop-in, login, image or temp dir behind', async () => {
    // a drop-in of a crashed run (its port answers nothing) is swept when the next registry starts
    const stalePort = await freePort();
    const stale = join(DROPIN_DIR, `stackd-reglab-127-0-0-1-${stalePort}.conf`);
    await writeFile(stale, `[[registry]]\nlocation = "127.0.0.1:${stalePort}"\ninsecure = true\n`);
    const reg = await startBasicRegistry({ user: 'carol', password: 'c-pass-1' });
    expect(existsSync(stale)).toBe(false);
    expect((await podmanLogin(reg.host, 'carol', 'c-pass-1')).code).toBe(0);
    await pushImage(`${reg.host}/lab/gone:1`, { variant: 'gone', credentials: { user: 'carol', password: 'c-pass-1' } });
    await podmanOk('pull', '-q', `${reg.host}/lab/gone:1`);
    const dropIns = (await run(['ls', DROPIN_DIR])).stdout;
    expect(dropIns).toContain(`stackd-reglab-127-0-0-1-${reg.host.split(':')[1]}.conf`);
    const t0 = Date.now();
    await stopRegistry(reg);
    timings['stop (registry + login + image)'] = Date.now() - t0;
    expect(existsSync(reg.dir)).toBe(false);
    expect(await localImagesOf(`${reg.host}/`)).toEqual([]);
    expect(await readAuthJson(reg.host, DEFAULT_AUTHFILE)).toBeUndefined();
    expect((await registryRequest(reg.host, '/v2/', { auth: 'none' }).catch((e: Error) => e)) instanceof Error).toBe(true);
  });
});
