// Choosing the one manifest of a list that this host runs, as podman does: os and architecture must match;
// the variant must be one the host can run, best first. Entries that are not images for a platform (BuildKit's
// provenance/SBOM attestations: platform unknown/unknown, `vnd.docker.reference.type: attestation-manifest`)
// are never chosen and never offered as "available".
import type { Platform } from '../update/types.js';
import { isDigest } from './reference.js';
import { isRecord } from './media-types.js';

export interface IndexEntry {
  digest: string;
  mediaType?: string;
  platform: Platform;
}

/** The platform entries of a list body, in the list's order, attestations and malformed entries left out. */
export function indexEntries(indexBody: unknown): IndexEntry[] {
  if (!isRecord(indexBody) || !Array.isArray(indexBody.manifests)) return [];
  const out: IndexEntry[] = [];
  for (const m of indexBody.manifests) {
    if (!isRecord(m) || !isDigest(m.digest) || !isRecord(m.platform)) continue;
    const { os, architecture, variant } = m.platform;
    if (typeof os !== 'string' || typeof architecture !== 'string') continue;
    if (os === 'unknown' || architecture === 'unknown') continue;
    if (isRecord(m.annotations) && m.annotations['vnd.docker.reference.type'] === 'attestation-manifest') continue;
    const platform: Platform = { os, architecture };
    if (typeof variant === 'string' && variant !== '') platform.variant = variant;
    const entry: IndexEntry = { digest: m.digest, platform };
    if (typeof m.mediaType === 'string') entry.mediaType = m.mediaType;
    out.push(entry);
  }
  return out;
}

/** The entry this platform runs, or undefined when the list has none for it. */
export function pickPlatform(indexBody: unknown, platform: Platform): IndexEntry | undefined {
  const want = normalize(platform);
  const entries = indexEntries(indexBody).map((e) => ({ e, p: normalize(e.platform) }))
    .filter(({ p }) => p.os === want.os && p.architecture === want.architecture);
  for (const variant of runnableVariants(want)) {
    const hit = entries.find(({ p }) => p.variant === variant);
    if (hit) return hit.e;
  }
  return undefined;
}

/** "linux/amd64", "linux/arm64/v8": the platforms a list offers, for a "no manifest for this platform" message. */
export function availablePlatforms(indexBody: unknown): string[] {
  return indexEntries(indexBody).map((e) => platformString(e.platform));
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== '').join('/');
}

interface Normal {
  os: string;
  architecture: string;
  /** '' when the architecture has no variant or the default one */
  variant: string;
}

// containerd's platforms.Normalize, the subset registries use: arm64's only variant is v8 (written or not),
// amd64 without a variant is v1, 32-bit arm without one is v7.
function normalize(p: Platform): Normal {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  if (/^[0-9]/.test(variant)) variant = `v${variant}`;
  switch (architecture) {
    case 'x86_64': case 'x86-64': architecture = 'amd64'; break;
    case 'aarch64': architecture = 'arm64'; break;
    case 'armhf': architecture = 'arm'; variant ||= 'v7'; break;
    case 'armel': architecture = 'arm'; variant ||= 'v6'; break;
    case 'i386': architecture = '386'; break;
  }
  if (architecture === 'arm64' && (variant === 'v8' || variant === 'v8.0')) variant = '';
  if (architecture === 'amd64' && variant === 'v1') variant = '';
  if (architecture === 'arm' && variant === '') variant = 'v7';
  return { os, architecture, variant };
}

/**
 * The variants a host of this platform runs, best first. A v7 arm host runs v6 and v5 images; an x86-64-v3
 * host runs v2 and baseline ones; anything else only its own variant. A host that names no amd64 variant
 * (podman reports none) is baseline: an amd64/v3-only image is NOT chosen for it.
 */
function runnableVariants(p: Normal): string[] {
  const level = Number(p.variant.slice(1));
  if (p.architecture === 'arm' && Number.isInteger(level) && level >= 5) {
    return Array.from({ length: level - 4 }, (_, i) => `v${level - i}`);
  }
  if (p.architecture === 'amd64' && Number.isInteger(level) && level >= 2) {
    return [...Array.from({ length: level - 1 }, (_, i) => `v${level - i}`), ''];
  }
  return [p.variant];
}
