// The registry policy's checker: HEAD first, GET only when the HEAD cannot tell, the host's platform decides.
import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../../src/adapters/errors.js';
import type { ImageRef, ManifestDoc, ManifestHead } from '../../../src/core/update/types.js';
import type { RegistryPort } from '../../../src/supervisor/ports.js';
import { hostPlatform, registryChecker } from '../../../src/supervisor/registry-check.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const INDEX = 'application/vnd.oci.image.index.v1+json';
const list = (amd64: string, arm64: string): ManifestDoc => ({
  digest: d('9'), mediaType: INDEX,
  body: {
    schemaVersion: 2, mediaType: INDEX, manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: amd64, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: arm64, size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ],
  },
});

class FakeRegistry implements RegistryPort {
  readonly calls: string[] = [];
  constructor(private readonly answer: { head?: ManifestHead; get?: ManifestDoc; error?: Error }) {}
  async head(ref: ImageRef): Promise<ManifestHead> {
    this.calls.push(`HEAD ${ref.canonical}`);
    if (this.answer.error) throw this.answer.error;
    return this.answer.head ?? {};
  }
  async get(ref: ImageRef, reference: string): Promise<ManifestDoc> {
    this.calls.push(`GET ${ref.registry}/${ref.repository}:${reference}`);
    if (!this.answer.get) throw new Error('no GET expected');
    return this.answer.get;
  }
}

// podman keeps the list's digest and this platform's manifest digest after a pull by tag
const local = { Id: 'img', Digest: d('1'), RepoDigests: [`localhost:5000/app@${d('8')}`, `localhost:5000/app@${d('1')}`] };
const REF = 'localhost:5000/app:v1';
const amd64 = hostPlatform('x64');

describe('registryChecker', () => {
  it.each([
    ['HEAD names a digest the local image has: up to date, no GET', { head: { digest: d('8') } }, { kind: 'up-to-date' }, ['HEAD']],
    ['a new list where only arm64 changed: up to date after one GET (diun 299)', { head: { digest: d('9') }, get: list(d('1'), d('7')) }, { kind: 'up-to-date' }, ['HEAD', 'GET']],
    ['a new amd64 manifest: an update to pull by digest', { head: { digest: d('9') }, get: list(d('2'), d('7')) },
      { kind: 'update', digest: d('2'), pullRef: `localhost:5000/app@${d('2')}` }, ['HEAD', 'GET']],
    ['no digest header on HEAD: the GET decides', { head: {}, get: list(d('1'), d('7')) }, { kind: 'up-to-date' }, ['HEAD', 'GET']],
  ] as const)('%s', async (_what, answer, expected, calls) => {
    const reg = new FakeRegistry(answer);
    expect(await registryChecker(reg, amd64)(REF, local)).toEqual(expected);
    expect(reg.calls.map((c) => c.split(' ')[0])).toEqual(calls);
  });

  it('a list without this platform names what it offers', async () => {
    const reg = new FakeRegistry({ head: { digest: d('9') }, get: list(d('2'), d('7')) });
    const r = await registryChecker(reg, hostPlatform('s390x'))(REF, local);
    expect(r).toMatchObject({ kind: 'failed' });
    expect(r.kind === 'failed' && r.reason).toContain('linux/amd64, linux/arm64/v8');
  });

  // the registry client holds to a Retry-After's wait while stackd runs: no run asks before it ends, so the row
  // names that time; a 429 that asked for no wait leaves the registry alone for the rest of this run only
  const WAIT_ENDS = Date.parse('2026-11-28T10:02:00Z');
  it.each([
    ['a 429 with Retry-After: the time the wait ends',
      new RegistryError('localhost:5000', 'rate-limited', 'localhost:5000 answered 429; it asks to wait 120 s', { status: 429, retryAfterMs: 120_000, retryAtMs: WAIT_ENDS }),
      { reason: 'localhost:5000 answered 429; it asks to wait 120 s; stackd asks localhost:5000 again in the first run after 2026-11-28T10:02:00.000Z', retryAtMs: WAIT_ENDS }],
    ['a later run during that wait (nothing sent): the same time',
      new RegistryError('localhost:5000', 'rate-limited', 'localhost:5000 asked stackd to wait; 20 s of that wait are left, so nothing was sent', { status: 429, retryAfterMs: 20_000, retryAtMs: WAIT_ENDS }),
      { reason: 'localhost:5000 asked stackd to wait; 20 s of that wait are left, so nothing was sent; stackd asks localhost:5000 again in the first run after 2026-11-28T10:02:00.000Z', retryAtMs: WAIT_ENDS }],
    ['a 429 without Retry-After (or a wait of 0): the next run',
      new RegistryError('localhost:5000', 'rate-limited', 'localhost:5000 answered 429; it sent no Retry-After', { status: 429 }),
      { reason: 'localhost:5000 answered 429; it sent no Retry-After; the next run tries again' }],
  ] as const)('rate-limited, %s; the registry marked rate-limited', async (_what, error, expected) => {
    const reg = new FakeRegistry({ error });
    expect(await registryChecker(reg, amd64)(REF, local)).toEqual({ kind: 'failed', rateLimitedRegistry: 'localhost:5000', ...expected });
  });

  it('a wrong password is a clear failed row', async () => {
    const reg = new FakeRegistry({ error: new RegistryError('localhost:5000', 'auth', 'localhost:5000 refused the credentials from auth.json') });
    expect(await registryChecker(reg, amd64)(REF, local)).toEqual({ kind: 'failed', reason: 'localhost:5000 refused the credentials from auth.json' });
  });

  it('no local image with a digest of that registry: failed, nothing asked', async () => {
    const reg = new FakeRegistry({});
    const r = await registryChecker(reg, amd64)(REF, { Id: 'built-here', RepoDigests: [] });
    expect(r.kind).toBe('failed');
    expect(reg.calls).toEqual([]);
  });

  it.each([['x64', 'amd64'], ['arm64', 'arm64'], ['arm', 'arm']])('hostPlatform(%s) → %s', (node, arch) => {
    expect(hostPlatform(node).architecture).toBe(arch);
  });
});
