// The updater's ReferenceChecker for the `registry` policy: one reference, its registry asked for manifests
// only (never a blob, never a tag moved). HEAD first (cheap; Docker Hub does not count it against the pull
// limit); a GET only when the HEAD cannot tell — a changed list may change only another platform (diun 299).
import { errorCode, errorMessage } from '../core/errors.js';
import { askAgainText } from '../core/registry/ask-again.js';
import { judgeHead, judgeManifest, localDigestsOf, platformString } from '../core/registry/manifest.js';
import { isImageRefError, parseImageRef } from '../core/registry/reference.js';
import type { Platform } from '../core/update/types.js';
import type { RegistryPort } from './ports.js';
import type { CheckOutcome, ReferenceChecker } from './updater.js';

/** The platform podman pulls for on this host (Node's process.arch → OCI architecture and variant). */
export function hostPlatform(nodeArch: string): Platform {
  switch (nodeArch) {
    case 'x64': return { os: 'linux', architecture: 'amd64' };
    case 'arm64': return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm': return { os: 'linux', architecture: 'arm', variant: 'v7' };
    case 'ia32': return { os: 'linux', architecture: '386' };
    default: return { os: 'linux', architecture: nodeArch };
  }
}

export function registryChecker(registry: RegistryPort, platform: Platform): ReferenceChecker {
  return async (reference: string, localImage: unknown): Promise<CheckOutcome> => {
    const ref = parseImageRef(reference);
    if (isImageRefError(ref)) return { kind: 'failed', reason: `image "${reference}": ${ref.error}` };
    const local = localDigestsOf(localImage, ref);
    if (local.length === 0) {
      return { kind: 'failed', reason: `no local image for ${reference} with a digest from ${ref.registry} (pulled or built here?); run: stackctl up to pull it first` };
    }
    try {
      if (judgeHead(local, await registry.head(ref)) === 'up-to-date') return { kind: 'up-to-date' };
      const doc = await registry.get(ref, ref.tag ?? ref.digest ?? 'latest');
      const v = judgeManifest(local, doc, platform);
      if (v.kind === 'up-to-date') return v;
      if (v.kind === 'no-platform') {
        return { kind: 'failed', reason: `${reference} offers ${v.available.join(', ') || 'no platform'}, not ${platformString(platform)}` };
      }
      return { kind: 'update', digest: v.platformDigest, pullRef: `${ref.registry}/${ref.repository}@${v.platformDigest}` };
    } catch (err) {
      if (errorCode(err) !== 'STACKD_REGISTRY_RATE_LIMITED') return { kind: 'failed', reason: errorMessage(err) };
      // the registry client holds to the wait a Retry-After asked for (retryAtMs): no run asks before it ends
      const retryAtMs = typeof err === 'object' && err !== null && 'retryAtMs' in err && typeof err.retryAtMs === 'number' ? err.retryAtMs : undefined;
      return {
        kind: 'failed',
        reason: `${errorMessage(err)}; ${askAgainText(ref.registry, retryAtMs)}`,
        rateLimitedRegistry: ref.registry,
        ...(retryAtMs !== undefined ? { retryAtMs } : {}),
      };
    }
  };
}
