// Image references as docker and podman read them (the distribution reference grammar and docker's
// normalization), so that stackd asks the registry about exactly the image podman would pull:
//   nginx                      → docker.io/library/nginx:latest
//   docker.io/x, index.docker.io/x → docker.io/library/x   (the library/ prefix only for one-component names)
//   user/app                   → docker.io/user/app:latest (no "." or ":" and not "localhost": not a host)
//   localhost/x, host:5000/x:1 → as written
//   x@sha256:…, x:1@sha256:…   → pinned; the tag stays for reports but the digest decides
// Compose has already interpolated `${TAG:-latest}` when stackd sees a reference; a "$" left in one means the
// variable was never interpolated, and is refused with that said.
import type { ImageRef } from '../update/types.js';

export interface ImageRefError {
  error: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
/** distribution's NameTotalLengthMax: registry and path together */
const NAME_MAX = 255;

// distribution/reference's grammar, anchored per part
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
/** a bare image ID is not a reference (docker refuses it too: it would be read as docker.io/library/<hex>) */
const IMAGE_ID = /^[a-f0-9]{64}$/;

/** Digest algorithms stackd can check a manifest against, with their hex length. */
const DIGEST_HEX: Record<string, number> = { sha256: 64, sha512: 128 };

export function isImageRefError(v: ImageRef | ImageRefError): v is ImageRefError {
  return 'error' in v;
}

export function parseImageRef(text: string): ImageRef | ImageRefError {
  const fail = (why: string): ImageRefError => ({ error: `image reference "${text}": ${why}` });
  if (typeof text !== 'string' || text === '') return { error: 'image reference is empty; expected e.g. "docker.io/library/nginx:1.27"' };
  if (text.includes('$')) {
    return fail('contains "$": a compose variable was not interpolated; stackd reads references from `docker compose config`, which interpolates them');
  }
  if (/\s/.test(text)) return fail('contains whitespace; expected [registry/]name[:tag][@sha256:…]');
  if (IMAGE_ID.test(text)) return fail('is an image ID, not a reference; expected [registry/]name[:tag][@sha256:…]');

  const at = text.indexOf('@');
  const nameAndTag = at >= 0 ? text.slice(0, at) : text;
  let digest: string | undefined;
  if (at >= 0) {
    const d = checkDigest(text.slice(at + 1));
    if (typeof d === 'object') return fail(d.error);
    digest = d;
  }

  // a ":" after the last "/" starts the tag; one before it is the registry's port
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) {
    return fail(`tag "${tag}" is not valid; expected up to 128 of letters, digits, "_", "." and "-", not starting with "." or "-"`);
  }
  if (name === '') return fail('has no name; expected e.g. "docker.io/library/nginx:1.27"');

  const { registry, path } = splitRegistry(name);
  if (!HOST.test(registry)) return fail(`registry "${registry}" is not a valid host[:port]`);
  if (path === '') return fail('has no repository after the registry');
  if (path.toLowerCase() !== path) return fail(`repository "${path}" must be lowercase (docker and podman refuse upper case)`);
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      return fail(`path component "${component}" is not valid; expected lowercase letters and digits, separated by ".", "_", "__" or "-"`);
    }
  }
  if (registry.length + 1 + path.length > NAME_MAX) return fail(`name is longer than ${NAME_MAX} characters`);

  // docker's TagNameOnly: a reference with neither tag nor digest means :latest
  const effectiveTag = tag ?? (digest === undefined ? 'latest' : undefined);
  const ref: ImageRef = {
    registry,
    repository: path,
    canonical: `${registry}/${path}${effectiveTag !== undefined ? `:${effectiveTag}` : ''}${digest !== undefined ? `@${digest}` : ''}`,
  };
  if (effectiveTag !== undefined) ref.tag = effectiveTag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The host that serves a registry's /v2/ API: Docker Hub's is not docker.io itself. */
export function apiHost(registry: string): string {
  return registry === DEFAULT_REGISTRY || registry === LEGACY_DEFAULT_REGISTRY ? 'registry-1.docker.io' : registry;
}

/** The validated digest, or why not. Hex must be lower case: registries compare digests as strings. */
export function checkDigest(text: string): string | ImageRefError {
  const colon = text.indexOf(':');
  const algorithm = colon > 0 ? text.slice(0, colon) : '';
  const hex = colon > 0 ? text.slice(colon + 1) : '';
  const length = DIGEST_HEX[algorithm];
  if (length === undefined) {
    return { error: `digest "${text}" is not valid; expected sha256:<64 lowercase hex digits>` };
  }
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return { error: `digest "${text}" is not valid; expected ${algorithm}:<${length} lowercase hex digits>` };
  }
  return text;
}

/** true for a well-formed sha256/sha512 digest */
export function isDigest(text: unknown): text is string {
  return typeof text === 'string' && typeof checkDigest(text) === 'string';
}

/**
 * docker's splitDockerDomain: the first component is a registry only when it has a "." or ":", is
 * "localhost", or has upper case (a repository path never has); otherwise the name is on Docker Hub.
 */
function splitRegistry(name: string): { registry: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  let registry: string;
  let path: string;
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    registry = DEFAULT_REGISTRY;
    path = name;
  } else {
    registry = first;
    path = name.slice(slash + 1);
  }
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && path !== '' && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  return { registry, path };
}
