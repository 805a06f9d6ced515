// Is an image reference fully qualified (`registry/name:tag` or `registry/name@digest`)? A short name such as
// `busybox` or `library/nginx` is resolved by podman through unqualified-search-registries, so which registry
// answers depends on the host's registries.conf, and stackd's own update check cannot tell where to look.
// Parsing follows the distribution reference grammar: the first path component is a registry only when it
// contains "." or ":" or is "localhost".

export interface ImageRefProblem {
  kind: 'no-registry' | 'no-tag';
  message: string;
}

export function imageRefProblem(ref: string): ImageRefProblem | undefined {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const hasDigest = at >= 0;
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  // a ":" after the last "/" is a tag; one before it belongs to the registry's port
  const hasTag = name.lastIndexOf(':') > name.lastIndexOf('/');
  if (!hasRegistry) {
    return {
      kind: 'no-registry',
      message: `image "${ref}" names no registry, so podman picks one from unqualified-search-registries; ` +
        `write it in full, e.g. "docker.io/${slash >= 0 ? name : `library/${name}`}${hasTag || hasDigest ? '' : ':TAG'}"`,
    };
  }
  if (!hasTag && !hasDigest) {
    return { kind: 'no-tag', message: `image "${ref}" has no tag (it means :latest); pin a tag, e.g. "${name}:1.2.3"` };
  }
  return undefined;
}
