// The manifest media types stackd asks registries for, and how to tell a list from a single manifest.
// Docker schema 1 (signed) is deliberately absent: no registry stackd targets still serves only that, and a
// tag that does cannot be compared with what podman stores anyway.

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

/**
 * Every type stackd understands, lists first. A registry answers with the stored form only when the Accept
 * header names it: asked for Docker v2 alone, docker-registry answers an OCI index with 404 MANIFEST_UNKNOWN
 * ("OCI index found, but accept header does not support OCI indexes"; captured in test/fixtures/registry).
 */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];

/** The one Accept header value sent with every HEAD and GET of a manifest. */
export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

/** "application/vnd.oci.image.index.v1+json; charset=utf-8" → the bare type, lower case. */
export function bareMediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** true for an OCI image index or a Docker manifest list (a multi-platform image). */
export function isIndex(mediaType: string | undefined): boolean {
  const t = bareMediaType(mediaType);
  return t === OCI_INDEX || t === DOCKER_LIST;
}

/** true for a single-platform OCI or Docker v2 manifest. */
export function isImageManifest(mediaType: string | undefined): boolean {
  const t = bareMediaType(mediaType);
  return t === OCI_MANIFEST || t === DOCKER_MANIFEST;
}

/**
 * Is this fetched document a list? The Content-Type says so; when it is missing or generic (some registries
 * send application/json), the body's own mediaType, and for an OCI index (whose body may omit it) the
 * presence of `manifests` without `layers`.
 */
export function isIndexDocument(mediaType: string | undefined, body: unknown): boolean {
  if (isIndex(mediaType)) return true;
  if (isImageManifest(mediaType)) return false;
  if (!isRecord(body)) return false;
  if (typeof body.mediaType === 'string') return isIndex(body.mediaType);
  return Array.isArray(body.manifests) && !('layers' in body);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
