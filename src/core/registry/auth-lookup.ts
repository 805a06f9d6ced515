// Where podman would find credentials for (registry, repository), decided from the parsed auth files
// (containers-auth.json(5), containers/image pkg/docker/config). Pure: the files' contents come in; the
// adapter reads them and runs a credential helper when this says so.
//
// Files, in podman's order (authFilePaths): $REGISTRY_AUTH_FILE ALONE when it is set (podman then reads no
// other file); else $XDG_RUNTIME_DIR/containers/auth.json (or /run/containers/<uid>/auth.json),
// $XDG_CONFIG_HOME/containers/auth.json (~/.config/…), then $DOCKER_CONFIG/config.json or ~/.docker/config.json.
// The FIRST file with an entry for the name wins. Within a file:
//   1. credHelpers.<host>  → that helper (helpers know hosts, never repositories)
//   2. auths.<key>, most specific key first: host/ns/repo, host/ns, host   (exact keys)
//   3. auths keys written as URLs ("https://index.docker.io/v1/", "http://host/v2/") → their host;
//      docker.io, index.docker.io and registry-1.docker.io are one registry
//   4. credsStore → that helper for every host (docker's default store; podman itself ignores credsStore,
//      but a user who logged in with docker would otherwise be anonymous to stackd)
// An auths entry whose `auth` is empty is docker's marker for "in the helper": no credentials from it.
import { isRecord } from './media-types.js';

export interface AuthFile {
  path: string;
  /** the parsed JSON; undefined when the file does not exist */
  content: unknown;
}

export type AuthLookup =
  | { kind: 'basic'; username: string; password: string; file: string; key: string }
  | {
    kind: 'helper';
    /** the helper's name: the program is docker-credential-<helper> */
    helper: string;
    /** what to write on the helper's stdin, tried in order until one has credentials */
    serverUrls: string[];
    file: string;
    key: string;
  }
  | { kind: 'none'; notes: string[] };

const DOCKER_HUB_KEYS = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
const DOCKER_HUB_LEGACY_URL = 'https://index.docker.io/v1/';

export interface AuthEnv {
  REGISTRY_AUTH_FILE?: string;
  XDG_RUNTIME_DIR?: string;
  XDG_CONFIG_HOME?: string;
  DOCKER_CONFIG?: string;
  HOME?: string;
  /** for /run/containers/<uid>/auth.json when XDG_RUNTIME_DIR is unset */
  uid?: number;
}

/** The auth files podman reads, in its order. */
export function authFilePaths(env: AuthEnv): string[] {
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  const paths: string[] = [];
  if (env.XDG_RUNTIME_DIR) paths.push(`${env.XDG_RUNTIME_DIR}/containers/auth.json`);
  else if (env.uid !== undefined) paths.push(`/run/containers/${env.uid}/auth.json`);
  const configHome = env.XDG_CONFIG_HOME || (env.HOME ? `${env.HOME}/.config` : undefined);
  if (configHome) paths.push(`${configHome}/containers/auth.json`);
  if (env.DOCKER_CONFIG) paths.push(`${env.DOCKER_CONFIG}/config.json`);
  else if (env.HOME) paths.push(`${env.HOME}/.docker/config.json`);
  return paths;
}

export function findCredentials(files: readonly AuthFile[], registry: string, repository: string): AuthLookup {
  const notes: string[] = [];
  for (const file of files) {
    if (file.content === undefined) continue;
    const found = inFile(file, registry, repository, notes);
    if (found) return found;
  }
  return { kind: 'none', notes };
}

function inFile(file: AuthFile, registry: string, repository: string, notes: string[]): AuthLookup | undefined {
  const c = file.content;
  if (!isRecord(c)) {
    notes.push(`${file.path} is not a JSON object; skipped`);
    return undefined;
  }
  const hub = DOCKER_HUB_KEYS.includes(registry);
  const hostKeys = hub ? [...DOCKER_HUB_KEYS, DOCKER_HUB_LEGACY_URL] : [registry];

  // 1. a helper for the host
  if (isRecord(c.credHelpers)) {
    for (const key of hostKeys) {
      const helper = c.credHelpers[key];
      if (typeof helper === 'string' && helper !== '') {
        return { kind: 'helper', helper, serverUrls: helperServerUrls(registry, key), file: file.path, key: `credHelpers.${key}` };
      }
    }
  }

  if (isRecord(c.auths)) {
    const auths = c.auths;
    // 2. exact keys, most specific first
    const name = `${registry}/${repository}`;
    const exact = [...namespaceKeys(name), ...(hub ? hostKeys.slice(1) : [])];
    // 3. keys written as URLs, reduced to their host
    const urlKey = Object.keys(auths).find((key) => {
      const host = urlKeyHost(key);
      return host !== undefined && (host === registry || (hub && DOCKER_HUB_KEYS.includes(host)));
    });
    const key = exact.find((k) => k in auths) ?? urlKey;
    // the first matching key decides; an empty one ("in the helper") falls through to credsStore
    const found = key !== undefined ? decode(file.path, key, auths[key], notes) : undefined;
    if (found) return found;
  }

  // 4. docker's default store
  if (typeof c.credsStore === 'string' && c.credsStore !== '') {
    return { kind: 'helper', helper: c.credsStore, serverUrls: helperServerUrls(registry, registry), file: file.path, key: 'credsStore' };
  }
  return undefined;
}

/** host/ns/repo → [host/ns/repo, host/ns, host] */
function namespaceKeys(name: string): string[] {
  const keys: string[] = [];
  for (let k = name; ; k = k.slice(0, k.lastIndexOf('/'))) {
    keys.push(k);
    if (!k.includes('/')) return keys;
  }
}

/** "https://host/v1/" → "host"; a key without a scheme is not a URL key. */
function urlKeyHost(key: string): string | undefined {
  const m = /^https?:\/\/([^/]+)/.exec(key);
  return m ? m[1] : undefined;
}

/**
 * What to ask a helper for. podman asks with the host ("docker.io"); docker stores Docker Hub under its
 * legacy URL, so for Docker Hub both are tried, the key the entry was found under first.
 */
function helperServerUrls(registry: string, key: string): string[] {
  const urls = [key];
  if (DOCKER_HUB_KEYS.includes(registry)) urls.push('docker.io', DOCKER_HUB_LEGACY_URL);
  return [...new Set(urls)];
}

function decode(path: string, key: string, entry: unknown, notes: string[]): AuthLookup | undefined {
  const auth = isRecord(entry) && typeof entry.auth === 'string' ? entry.auth : '';
  if (auth === '') {
    notes.push(`${path}: auths["${key}"] has no "auth" (docker's marker for credentials kept in a helper)`);
    return undefined;
  }
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    // never the decoded text: it may be a secret
    notes.push(`${path}: auths["${key}"].auth is not base64 of "user:password"; skipped`);
    return undefined;
  }
  // podman trims trailing NULs some tools wrote after the password
  return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, ''), file: path, key };
}
