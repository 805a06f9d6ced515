// The verdicts against REAL registry answers (test/fixtures/registry, captured from the lab's docker-registry
// by capture.sh) and podman's real image inspect after pulling the list on this amd64 host.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DOCKER_LIST, DOCKER_MANIFEST, MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST, availablePlatforms, indexEntries,
  isIndex, isIndexDocument, judgeHead, judgeManifest, localDigestsOf, pickPlatform,
} from '../../../../src/core/registry/manifest.js';
import type { ManifestDoc, Platform } from '../../../../src/core/update/types.js';
import { captured, capturedDoc, capturedJson } from '../../../fixtures/registry/load.js';

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };
const ARM64: Platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const APP = { registry: 'localhost:5000', repository: 'fixture/app' };
const OTHER = { registry: 'localhost:5000', repository: 'fixture/other' };

const list = capturedDoc('fixture-app-list');
const listDocker = capturedDoc('fixture-app-list-docker');
const arm64Changed = capturedDoc('fixture-app-list-arm64-changed');
const attest = capturedDoc('fixture-app-list-attest');
const v1 = capturedDoc('fixture-app-v1');
const v1Docker = capturedDoc('fixture-app-v1-docker');
const pulled = capturedJson('podman-image-inspect.fixture-app-list-pulled.json');
const pulledApi = capturedJson('libpod-image-inspect.fixture-app-list-pulled.json');
const pulledThenOther = capturedJson('podman-image-inspect.fixture-app-list-then-other-pulled.json');

const digestOf = (doc: ManifestDoc, arch: string): string =>
  indexEntries(doc.body).find((e) => e.platform.architecture === arch)?.digest ?? 'missing';
const listAmd64 = digestOf(list, 'amd64');
const listArm64 = digestOf(list, 'arm64');

describe('the captured answers are what the tests below assume', () => {
  it('Docker-Content-Digest is the sha256 of the body the registry sent', () => {
    for (const name of ['fixture-app-list', 'fixture-app-list-docker', 'fixture-app-v1', 'fixture-app-list-amd64-by-digest']) {
      const c = captured('get', name);
      expect(`sha256:${createHash('sha256').update(c.body ?? '').digest('hex')}`).toBe(c.headers['docker-content-digest']);
    }
  });

  it('HEAD and GET of a tag give the same digest and type', () => {
    expect(captured('head', 'fixture-app-list').headers).toMatchObject({
      'docker-content-digest': list.digest, 'content-type': OCI_INDEX,
    });
  });

  it('only arm64 changed between list and list-arm64-changed', () => {
    expect(digestOf(arm64Changed, 'amd64')).toBe(listAmd64);
    expect(digestOf(arm64Changed, 'arm64')).not.toBe(listArm64);
    expect(arm64Changed.digest).not.toBe(list.digest);
  });
});

describe('media types', () => {
  it('asks for both list types and both manifest types, lists first', () => {
    expect(MANIFEST_ACCEPT).toBe(`${OCI_INDEX}, ${OCI_MANIFEST}, ${DOCKER_LIST}, ${DOCKER_MANIFEST}`);
  });

  it.each<[string | undefined, boolean]>([
    [OCI_INDEX, true], [DOCKER_LIST, true], [`${DOCKER_LIST}; charset=utf-8`, true], ['Application/VND.OCI.Image.Index.v1+JSON', true],
    [OCI_MANIFEST, false], [DOCKER_MANIFEST, false], ['application/json', false], [undefined, false], ['', false],
  ])('isIndex(%j) = %j', (t, expected) => {
    expect(isIndex(t)).toBe(expected);
  });

  it('tells a list from the body when the Content-Type does not', () => {
    expect(isIndexDocument('application/json', list.body)).toBe(true);
    expect(isIndexDocument('application/json', v1.body)).toBe(false);
    // an OCI index body may omit mediaType
    expect(isIndexDocument(undefined, { schemaVersion: 2, manifests: [] })).toBe(true);
    expect(isIndexDocument(undefined, { schemaVersion: 2, config: {}, layers: [] })).toBe(false);
  });
});

describe('pickPlatform', () => {
  it.each<[string, ManifestDoc, Platform, string | undefined]>([
    ['amd64 from the OCI index', list, AMD64, listAmd64],
    ['arm64/v8 from the OCI index', list, ARM64, listArm64],
    ['arm64 without a variant is v8', list, { os: 'linux', architecture: 'arm64' }, listArm64],
    ['aarch64 is arm64', list, { os: 'linux', architecture: 'aarch64' }, listArm64],
    ['x86_64 is amd64', list, { os: 'linux', architecture: 'x86_64' }, listAmd64],
    ['amd64 from the Docker list', listDocker, AMD64, digestOf(listDocker, 'amd64')],
    ['no s390x in the list', list, { os: 'linux', architecture: 's390x' }, undefined],
    ['no windows in the list', list, { os: 'windows', architecture: 'amd64' }, undefined],
    ['the attestation entry is skipped; amd64 still found', attest, AMD64, listAmd64],
    ['unknown/unknown is never chosen', attest, { os: 'unknown', architecture: 'unknown' }, undefined],
  ])('%s', (_name, doc, platform, digest) => {
    expect(pickPlatform(doc.body, platform)?.digest).toBe(digest);
  });

  const variants = {
    manifests: [
      { digest: `sha256:${'1'.repeat(64)}`, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
      { digest: `sha256:${'2'.repeat(64)}`, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { digest: `sha256:${'3'.repeat(64)}`, platform: { os: 'linux', architecture: 'amd64', variant: 'v3' } },
      { digest: `sha256:${'4'.repeat(64)}`, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: 'not-a-digest', platform: { os: 'linux', architecture: 'riscv64' } },
      { digest: `sha256:${'5'.repeat(64)}` },
    ],
  };
  it.each<[Platform, string | undefined]>([
    [{ os: 'linux', architecture: 'arm', variant: 'v7' }, '2'],
    [{ os: 'linux', architecture: 'arm' }, '2'], // arm without a variant is v7
    [{ os: 'linux', architecture: 'arm', variant: 'v8' }, '2'], // best runnable below v8
    [{ os: 'linux', architecture: 'arm', variant: 'v6' }, '1'],
    [{ os: 'linux', architecture: 'arm', variant: 'v5' }, undefined],
    [{ os: 'linux', architecture: 'amd64' }, '4'], // baseline host: not the v3 build
    [{ os: 'linux', architecture: 'amd64', variant: 'v3' }, '3'],
    [{ os: 'linux', architecture: 'amd64', variant: 'v2' }, '4'],
    [{ os: 'linux', architecture: 'riscv64' }, undefined], // its entry has no valid digest
  ])('variants: %j → %s', (platform, digit) => {
    expect(pickPlatform(variants, platform)?.digest).toBe(digit === undefined ? undefined : `sha256:${digit.repeat(64)}`);
  });

  it('lists the platforms a list offers, without attestations', () => {
    expect(availablePlatforms(attest.body)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(availablePlatforms(v1.body)).toEqual([]);
    expect(availablePlatforms('junk')).toEqual([]);
  });
});

describe('localDigestsOf (podman image inspect after `podman pull localhost:5000/fixture/app:list`)', () => {
  it('the platform Digest and both RepoDigests of the repository: list and platform manifest', () => {
    expect(new Set(localDigestsOf(pulled, APP))).toEqual(new Set([list.digest, listAmd64]));
    // the libpod API answers one object; the CLI an array of one
    expect(new Set(localDigestsOf(pulledApi, APP))).toEqual(new Set([list.digest, listAmd64]));
  });

  it('RepoDigests of another repository do not count', () => {
    // podman's names × digests: fixture/other "has" the list digest that fixture/other never served
    const stale = `sha256:${'9'.repeat(64)}`;
    const withStale = structuredClone(pulledThenOther) as [{ RepoDigests: string[] }];
    withStale[0].RepoDigests.push(`localhost:5000/fixture/other@${stale}`);
    expect(localDigestsOf(withStale, APP)).not.toContain(stale);
    expect(localDigestsOf(withStale, OTHER)).toContain(stale);
  });

  it('compares repositories normalized (docker.io/nginx is docker.io/library/nginx)', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    const inspect = { RepoDigests: [`docker.io/nginx@${d}`, `docker.io/library/nginxx@sha256:${'b'.repeat(64)}`, 'junk', 7] };
    expect(localDigestsOf(inspect, { registry: 'docker.io', repository: 'library/nginx' })).toEqual([d]);
  });

  it('nothing from what is not an inspect', () => {
    expect(localDigestsOf(undefined, APP)).toEqual([]);
    expect(localDigestsOf([], APP)).toEqual([]);
    expect(localDigestsOf({ Digest: 'sha256:short', RepoDigests: 'x' }, APP)).toEqual([]);
  });
});

describe('judgeHead', () => {
  const local = localDigestsOf(pulled, APP);
  it.each<[string, { digest?: string }, string]>([
    ['the list the image was pulled from', { digest: captured('head', 'fixture-app-list').headers['docker-content-digest'] }, 'up-to-date'],
    ['the platform manifest (a tag that moved to a single manifest we have)', { digest: listAmd64 }, 'up-to-date'],
    ['a list where only arm64 changed: not decidable from a HEAD', { digest: captured('head', 'fixture-app-list-arm64-changed').headers['docker-content-digest'] }, 'need-get'],
    ['another image', { digest: v1.digest }, 'need-get'],
    ['no Docker-Content-Digest header', {}, 'need-get'],
  ])('%s → %s', (_name, head, verdict) => {
    expect(judgeHead(local, head)).toBe(verdict);
  });

  it('an image with no digests (built locally) always needs a GET', () => {
    expect(judgeHead([], { digest: list.digest })).toBe('need-get');
  });
});

describe('judgeManifest', () => {
  const local = localDigestsOf(pulled, APP);
  it.each<[string, readonly string[], ManifestDoc, Platform, unknown]>([
    ['the same list', local, list, AMD64, { kind: 'up-to-date' }],
    ['only arm64 changed, we run amd64: NOT an update (diun 299)', local, arm64Changed, AMD64, { kind: 'up-to-date' }],
    ['only arm64 changed, we run arm64: update to the new arm64 manifest', [list.digest, listArm64], arm64Changed, ARM64, { kind: 'update', platformDigest: digestOf(arm64Changed, 'arm64') }],
    ['the Docker-format list of the same images has other digests: update', local, listDocker, AMD64, { kind: 'update', platformDigest: digestOf(listDocker, 'amd64') }],
    ['a list with an attestation entry: amd64 unchanged', local, attest, AMD64, { kind: 'up-to-date' }],
    ['a list without our platform', [v1.digest], list, { os: 'linux', architecture: 's390x' }, { kind: 'no-platform', available: ['linux/amd64', 'linux/arm64/v8'] }],
    ['a single manifest we have', [v1.digest], v1, AMD64, { kind: 'up-to-date' }],
    ['a single manifest we lack', local, v1, AMD64, { kind: 'update', platformDigest: v1.digest }],
    ['a single Docker v2 manifest we lack', local, v1Docker, AMD64, { kind: 'update', platformDigest: v1Docker.digest }],
    ['a list served as application/json', local, { ...arm64Changed, mediaType: 'application/json' }, AMD64, { kind: 'up-to-date' }],
    ['a locally built image (no digests) and a list', [], list, AMD64, { kind: 'update', platformDigest: listAmd64 }],
  ])('%s', (_name, localDigests, doc, platform, verdict) => {
    expect(judgeManifest(localDigests, doc, platform)).toEqual(verdict);
  });
});
