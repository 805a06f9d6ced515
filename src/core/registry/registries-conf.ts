// Which registries podman reaches over plain http: `insecure = true` in registries.conf (containers-
// registries.conf(5), version 2), or the version-1 table `[registries.insecure] registries = [...]`.
// Parsed with smol-toml: a real registries.conf has far more than [[registry]] (aliases with quoted keys,
// [[registry.mirror]], short-name-mode), and a hand-written subset parser would refuse valid files.
//
// Files (registriesConfPaths): ~/.config/containers/registries.conf REPLACES /etc/containers/registries.conf
// when it exists; then the drop-ins of /etc/containers/registries.conf.d/ and ~/.config/containers/
// registries.conf.d/, each directory's *.conf in name order. A later [[registry]] with the same prefix
// replaces an earlier one. The entry whose prefix matches the image name longest decides.
import { parse as parseToml } from 'smol-toml';
import { isRecord } from './media-types.js';

export interface RegistryConfEntry {
  /** what image names it applies to: host[:port][/path], or *.domain */
  prefix: string;
  location: string;
  insecure: boolean;
  /** the file it came from, for messages */
  file: string;
}

export function parseRegistriesConf(text: string, file: string): RegistryConfEntry[] | { error: string } {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { error: `${file} is not valid TOML (${why}); podman cannot read it either: fix it` };
  }
  if (!isRecord(doc)) return [];
  const entries: RegistryConfEntry[] = [];
  if (Array.isArray(doc.registry)) {
    for (const [i, r] of doc.registry.entries()) {
      if (!isRecord(r)) continue;
      const location = typeof r.location === 'string' ? trimSlash(r.location) : '';
      const prefix = typeof r.prefix === 'string' && r.prefix !== '' ? trimSlash(r.prefix) : location;
      if (prefix === '') return { error: `${file}: [[registry]] number ${i + 1} has neither location nor prefix` };
      entries.push({ prefix, location: location || prefix, insecure: r.insecure === true, file });
    }
  }
  // version 1: [registries.insecure] registries = ["host:5000"]
  const v1 = isRecord(doc.registries) && isRecord(doc.registries.insecure) ? doc.registries.insecure.registries : undefined;
  if (Array.isArray(v1)) {
    for (const host of v1) {
      if (typeof host === 'string' && host !== '') entries.push({ prefix: trimSlash(host), location: trimSlash(host), insecure: true, file });
    }
  }
  return entries;
}

/** Later files override earlier ones entry by entry (same prefix); new prefixes add up. */
export function mergeRegistriesConf(layers: readonly RegistryConfEntry[][]): RegistryConfEntry[] {
  const byPrefix = new Map<string, RegistryConfEntry>();
  for (const layer of layers) for (const e of layer) byPrefix.set(e.prefix, e);
  return [...byPrefix.values()];
}

/** true when podman would talk plain http to the registry for this repository. */
export function isInsecureRegistry(entries: readonly RegistryConfEntry[], registry: string, repository: string): boolean {
  const name = `${registry}/${repository}`;
  let best: RegistryConfEntry | undefined;
  let bestLength = -1;
  for (const e of entries) {
    const length = matchLength(name, e.prefix);
    if (length > bestLength) {
      best = e;
      bestLength = length;
    }
  }
  return best?.insecure ?? false;
}

export interface RegistriesConfEnv {
  HOME?: string;
  XDG_CONFIG_HOME?: string;
}

/** The main file podman reads (the user's when it exists) and the drop-in directories, in order. */
export function registriesConfPaths(env: RegistriesConfEnv, userFileExists: boolean): { main: string; dropInDirs: string[] } {
  const configHome = env.XDG_CONFIG_HOME || (env.HOME ? `${env.HOME}/.config` : undefined);
  const userFile = configHome ? `${configHome}/containers/registries.conf` : undefined;
  return {
    main: userFile !== undefined && userFileExists ? userFile : '/etc/containers/registries.conf',
    dropInDirs: ['/etc/containers/registries.conf.d', ...(configHome ? [`${configHome}/containers/registries.conf.d`] : [])],
  };
}

/**
 * containers/image's refMatchingPrefix: the prefix must end where the name does or at ":", "/" or "@", so
 * "registry.lan" matches "registry.lan/app" but not "registry.lan2/app"; "*.example.com" matches any
 * subdomain host. The match length ranks entries.
 */
function matchLength(name: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const suffix = prefix.slice(1); // ".example.com"
    const hostEnd = name.indexOf('/');
    const host = hostEnd >= 0 ? name.slice(0, hostEnd) : name;
    const hostOnly = host.replace(/:[0-9]+$/, '');
    return hostOnly.endsWith(suffix) && hostOnly.length > suffix.length ? prefix.length : -1;
  }
  if (name === prefix) return prefix.length;
  if (name.startsWith(prefix) && /[:/@]/.test(name[prefix.length] ?? '')) return prefix.length;
  return -1;
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}
