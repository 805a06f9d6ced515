// Which manifest digests a local image already has, from podman's image inspect (the libpod API's object or
// the CLI's one-element array). podman keeps `Digest` (the manifest it pulled: the platform manifest of a
// list) and `RepoDigests` as "repository@sha256:…" — after a pull by tag of a list, both the list's digest and
// the platform manifest's (see test/fixtures/registry/podman-image-inspect.fixture-app-list-pulled.json).
//
// Only RepoDigests of the SAME repository count. podman builds RepoDigests as every name of the image times
// every digest it recorded, so after the same image came from fixture/other as well it claims
// fixture/other@<list digest> that fixture/other never served (fixture …-then-other-pulled.json). An entry of
// another repository therefore says nothing about what THIS repository serves.
import type { ImageRef } from '../update/types.js';
import { isRecord } from './media-types.js';
import { isDigest, isImageRefError, parseImageRef } from './reference.js';

export function localDigestsOf(inspect: unknown, repository: Pick<ImageRef, 'registry' | 'repository'>): string[] {
  const image = Array.isArray(inspect) ? inspect[0] : inspect;
  if (!isRecord(image)) return [];
  const out = new Set<string>();
  if (isDigest(image.Digest)) out.add(image.Digest);
  const repoDigests = Array.isArray(image.RepoDigests) ? image.RepoDigests : [];
  for (const entry of repoDigests) {
    if (typeof entry !== 'string') continue;
    const at = entry.lastIndexOf('@');
    if (at < 0) continue;
    const digest = entry.slice(at + 1);
    if (!isDigest(digest)) continue;
    // parse the name part too, so docker.io/nginx and docker.io/library/nginx are one repository
    const name = parseImageRef(entry.slice(0, at));
    if (isImageRefError(name)) continue;
    if (name.registry === repository.registry && name.repository === repository.repository) out.add(digest);
  }
  return [...out];
}
