// The decisions the updater takes from what a registry said. Pure: the digests the local image has, the
// registry's answer, the host's platform in; a verdict out.
import type { ManifestDoc, ManifestHead, Platform } from '../update/types.js';
import { isIndexDocument } from './media-types.js';
import { availablePlatforms, pickPlatform } from './platform.js';

export type HeadVerdict = 'up-to-date' | 'need-get';

export type ManifestVerdict =
  | { kind: 'up-to-date' }
  | { kind: 'update'; platformDigest: string }
  | { kind: 'no-platform'; available: string[] };

/**
 * After a HEAD (cheap: Docker Hub does not count it against the pull limit): the tag still serves a manifest
 * the local image has, or a GET must tell. The HEAD digest is the list's for a multi-platform tag, and podman
 * keeps the list digest among the RepoDigests after a pull by tag, so an unchanged list is up to date here.
 * A changed list is NOT yet an update: maybe only another platform changed; judgeManifest decides that.
 * No digest header (some registries send none on HEAD): need-get.
 */
export function judgeHead(localDigests: readonly string[], head: ManifestHead): HeadVerdict {
  return head.digest !== undefined && localDigests.includes(head.digest) ? 'up-to-date' : 'need-get';
}

/**
 * After a GET of the tag. A list: up to date when the list itself or THIS platform's manifest is one the
 * local image has — so a list where only another architecture changed is no update (diun issue 299); an
 * update names the platform manifest's digest (what to pull, as repo@digest). A single manifest: its digest
 * decides. A list without this platform: no-platform, with what it offers.
 */
export function judgeManifest(localDigests: readonly string[], doc: ManifestDoc, platform: Platform): ManifestVerdict {
  if (localDigests.includes(doc.digest)) return { kind: 'up-to-date' };
  if (!isIndexDocument(doc.mediaType, doc.body)) return { kind: 'update', platformDigest: doc.digest };
  const entry = pickPlatform(doc.body, platform);
  if (!entry) return { kind: 'no-platform', available: availablePlatforms(doc.body) };
  if (localDigests.includes(entry.digest)) return { kind: 'up-to-date' };
  return { kind: 'update', platformDigest: entry.digest };
}
