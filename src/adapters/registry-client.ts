// THE one place stackd talks to image registries, and only about manifests: HEAD and GET of
// /v2/<repo>/manifests/<tag|digest>. Never a blob, never a push, never a tag moved.
//
// - https always, plain http only for a registry podman also reaches that way (registries.conf insecure = true)
// - authentication as docker/podman do it: a 401 with `WWW-Authenticate: Bearer realm=…,service=…` → GET the
//   realm with ?service=…&scope=repository:<repo>:pull (Basic credentials when the user has some, anonymous
//   otherwise) → retry once with the token, which is kept per (registry, scope) for its expires_in; a
//   `Basic` challenge → the request again with Authorization: Basic
// - at most 2 requests in flight per registry (a small p-queue per registry; a token fetch runs in the slot
//   of the request that needed it)
// - failures are RegistryError with a kind: unreachable, auth, not-found, rate-limited (with the wait from
//   Retry-After), protocol, config. Messages name the registry and reference, never a secret.
// - a 429's Retry-After is honoured: the registry is not asked again before then (up to a day), not even by
//   a run started meanwhile. The wait is kept in this client's memory, so it holds while stackd runs: a
//   restart of stackd forgets it
import { createHash } from 'node:crypto';
import PQueue from 'p-queue';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { parseChallenges, pickChallenge, pullScope, tokenUrl } from '../core/registry/challenge.js';
import type { Challenge } from '../core/registry/challenge.js';
import { MANIFEST_ACCEPT, bareMediaType, isImageManifest, isIndex } from '../core/registry/media-types.js';
import { apiHost, isDigest } from '../core/registry/reference.js';
import { parseRetryAfter } from '../core/registry/retry-after.js';
import { DEFAULT_TOKEN_SECONDS, parseTokenResponse } from '../core/registry/token.js';
import type { ImageRef, ManifestDoc, ManifestHead } from '../core/update/types.js';
import type { RegistryPort } from '../supervisor/ports.js';
import { InvalidOptionError, RegistryError } from './errors.js';
import { RegistriesConfFiles } from './registries-conf-files.js';
import { RegistryAuth } from './registry-auth.js';
import type { Credentials, CredentialSource } from './registry-auth.js';
import { authFilePaths } from '../core/registry/auth-lookup.js';
import type { AuthEnv } from '../core/registry/auth-lookup.js';
import type { RegistriesConfEnv } from '../core/registry/registries-conf.js';

export interface RegistryClientOptions {
  /** registries podman reaches over plain http (RegistriesConfFiles.isInsecure). Default: none. */
  isInsecure?: (registry: string, repository: string) => boolean | Promise<boolean>;
  /** the user's credentials (RegistryAuth). Default: anonymous everywhere. */
  credentials?: CredentialSource;
  /** Default: an undici Agent of the client's own (closed by close()). Tests pass one trusting their CA. */
  dispatcher?: Dispatcher;
  /** connect, headers and body, each. Default 30 s. */
  requestTimeoutMs?: number;
  /** Default 2. */
  maxInFlightPerRegistry?: number;
  /** epoch ms; for token expiry and Retry-After dates. Default Date.now. */
  now?: () => number;
  /** what cost more than it should, for a log line or a metric */
  onEvent?: (event: RegistryEvent) => void;
}

export type RegistryEvent =
  /** HEAD sent no Docker-Content-Digest: the check will need a GET (Docker Hub counts GETs against the pull limit) */
  | { kind: 'head-without-digest'; registry: string; name: string; reference: string }
  /** GET sent no Docker-Content-Digest: the digest is the sha256 of the body */
  | { kind: 'digest-from-body'; registry: string; name: string; reference: string }
  | { kind: 'rate-limited'; registry: string; retryAfterMs?: number };

/** distribution's limit for a manifest; a bigger answer is not a manifest */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_TOKEN_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
/** the longest Retry-After honoured */
const MAX_QUIET_MS = 24 * 3600 * 1000;
const TAG = /^[\w][\w.-]{0,127}$/;

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
/** a self-signed, expired or mismatched certificate, or TLS spoken to a plain-http port */
const TLS_CODE = /CERT|SSL|TLS|EPROTO|SELF_SIGNED|UNABLE_TO_/;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface Authorization {
  header: string;
  expiresAtMs: number;
  /** whose credentials went into it (undefined: anonymous) */
  credentials?: Credentials;
}

/** One manifest request: the reference it is about, for every message. */
interface Target {
  ref: ImageRef;
  /** registry/repository */
  name: string;
  reference: string;
  origin: string;
  insecure: boolean;
}

export class RegistryClient implements RegistryPort {
  private readonly isInsecure: (registry: string, repository: string) => boolean | Promise<boolean>;
  private readonly credentials: CredentialSource | undefined;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;
  private readonly onEvent: (event: RegistryEvent) => void;
  private readonly queues = new Map<string, PQueue>();
  /** "<registry> <scope>" → the Authorization header to send, until it expires */
  private readonly auth = new Map<string, Authorization>();
  /** token fetches in flight, so two refused requests share one fetch */
  private readonly pendingAuth = new Map<string, Promise<Authorization>>();
  /**
   * registry → epoch ms before which it is not asked again: the Retry-After of its last 429. In memory only: it
   * spans update runs while this client lives (the daemon's lifetime); a restart of stackd forgets it.
   */
  private readonly quietUntil = new Map<string, number>();

  constructor(opts: RegistryClientOptions = {}) {
    const timeout = opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new InvalidOptionError('requestTimeoutMs', 'a number of milliseconds above 0', opts.requestTimeoutMs);
    }
    const max = opts.maxInFlightPerRegistry ?? 2;
    if (!Number.isInteger(max) || max < 1) throw new InvalidOptionError('maxInFlightPerRegistry', 'an integer from 1 and up', opts.maxInFlightPerRegistry);
    this.isInsecure = opts.isInsecure ?? (() => false);
    this.credentials = opts.credentials;
    this.timeoutMs = timeout;
    this.maxInFlight = max;
    this.now = opts.now ?? Date.now;
    this.onEvent = opts.onEvent ?? (() => {});
    this.ownsDispatcher = opts.dispatcher === undefined;
    this.dispatcher = opts.dispatcher ?? new Agent({ connect: { timeout } });
  }

  /** HEAD of the tag (or the digest when the reference has no tag): the digest and type, no body. */
  async head(ref: ImageRef): Promise<ManifestHead> {
    const reference = ref.tag ?? ref.digest;
    if (reference === undefined) throw new InvalidOptionError('ref', 'an ImageRef with a tag or a digest', ref.canonical);
    const t = await this.target(ref, reference);
    const a = await this.exchange(t, 'HEAD');
    const head: ManifestHead = {};
    const digest = header(a, 'docker-content-digest');
    if (isDigest(digest)) head.digest = digest;
    else this.onEvent({ kind: 'head-without-digest', registry: ref.registry, name: t.name, reference });
    const type = header(a, 'content-type');
    if (type) head.mediaType = bareMediaType(type);
    return head;
  }

  /** GET of a tag or a digest: the parsed document, its digest (checked against the body) and type. */
  async get(ref: ImageRef, reference: string): Promise<ManifestDoc> {
    if (!TAG.test(reference) && !isDigest(reference)) {
      throw new InvalidOptionError('reference', 'a tag or a sha256:… digest', reference);
    }
    const t = await this.target(ref, reference);
    const a = await this.exchange(t, 'GET');
    const computed = `sha256:${createHash('sha256').update(a.body).digest('hex')}`;
    const sent = header(a, 'docker-content-digest');
    // a registry that names a digest must have sent those bytes; a GET by digest must yield that digest
    for (const [what, expected] of [['its Docker-Content-Digest', sent], ['the digest asked for', isDigest(reference) ? reference : undefined]] as const) {
      if (expected !== undefined && expected.startsWith('sha256:') && expected !== computed) {
        throw new RegistryError(ref.registry, 'protocol',
          `${t.name}:${reference}: ${ref.registry} sent a manifest whose sha256 is ${computed}, not ${what} ${expected}; ` +
          'a proxy may have altered it: stackd does not trust this answer');
      }
    }
    let digest = computed;
    if (isDigest(sent)) digest = sent;
    else this.onEvent({ kind: 'digest-from-body', registry: ref.registry, name: t.name, reference });
    let body: unknown;
    try {
      body = JSON.parse(a.body.toString('utf8'));
    } catch (err) {
      throw new RegistryError(ref.registry, 'protocol', `${t.name}:${reference}: ${ref.registry} answered 200 with a body that is not JSON; expected a manifest`, { cause: err });
    }
    return { digest, mediaType: mediaTypeOf(header(a, 'content-type'), body), body };
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async target(ref: ImageRef, reference: string): Promise<Target> {
    const insecure = await this.isInsecure(ref.registry, ref.repository);
    return {
      ref,
      name: `${ref.registry}/${ref.repository}`,
      reference,
      insecure,
      origin: `${insecure ? 'http' : 'https'}://${apiHost(ref.registry)}`,
    };
  }

  private queue(registry: string): PQueue {
    let q = this.queues.get(registry);
    if (!q) {
      q = new PQueue({ concurrency: this.maxInFlight });
      this.queues.set(registry, q);
    }
    return q;
  }

  /** One manifest request in the registry's slot: authenticate when challenged, retry once, judge the status. */
  private exchange(t: Target, method: 'HEAD' | 'GET'): Promise<Answer> {
    return this.queue(t.ref.registry).add(async () => {
      this.refuseWhileQuiet(t);
      const url = `${t.origin}/v2/${t.ref.repository}/manifests/${t.reference}`;
      const key = `${t.ref.registry} ${pullScope(t.ref.repository)}`;
      let authz = this.cachedAuth(key);
      let a = await this.send(t, url, method, authz?.header);
      if (a.status === 401) {
        const challenge = pickChallenge(parseChallenges(a.headers['www-authenticate']));
        if (!challenge) {
          throw new RegistryError(t.ref.registry, 'protocol',
            `${t.name}:${t.reference}: ${t.ref.registry} answered 401 without a challenge stackd speaks ` +
            `(WWW-Authenticate: ${String(a.headers['www-authenticate'] ?? 'none')}); expected Bearer or Basic`, { status: 401 });
        }
        // what we sent (if anything) was refused: forget it, authenticate afresh, retry once
        this.auth.delete(key);
        authz = await this.authorizeOnce(t, key, challenge);
        a = await this.send(t, url, method, authz.header);
      }
      return this.judge(t, a, authz);
    });
  }

  /**
   * A registry that answered 429 with Retry-After is not asked again before that time, by this run or a later
   * one while stackd runs (a `stackctl update` right after a rate-limited one would otherwise ask at once, and on
   * Docker Hub every refused request can extend the penalty). Nothing is sent; the error carries the time
   * (retryAtMs) for the caller to name.
   */
  private refuseWhileQuiet(t: Target): void {
    const registry = t.ref.registry;
    const until = this.quietUntil.get(registry);
    if (until === undefined) return;
    const left = until - this.now();
    if (left <= 0) {
      this.quietUntil.delete(registry);
      return;
    }
    throw new RegistryError(registry, 'rate-limited',
      `${t.name}:${t.reference}: ${registry} rate-limited stackd (429) and asked it to wait; ${Math.ceil(left / 1000)} s of that wait are left, ` +
      'so nothing was sent', { status: 429, retryAfterMs: left, retryAtMs: until });
  }

  private cachedAuth(key: string): Authorization | undefined {
    const a = this.auth.get(key);
    if (a && a.expiresAtMs > this.now()) return a;
    if (a) this.auth.delete(key);
    return undefined;
  }

  private authorizeOnce(t: Target, key: string, challenge: Challenge): Promise<Authorization> {
    let p = this.pendingAuth.get(key);
    if (!p) {
      p = this.authorize(t, challenge).finally(() => this.pendingAuth.delete(key));
      this.pendingAuth.set(key, p);
    }
    return p.then((authz) => {
      this.auth.set(key, authz);
      return authz;
    });
  }

  private async authorize(t: Target, challenge: Challenge): Promise<Authorization> {
    const registry = t.ref.registry;
    const creds = await this.credentials?.credentialsFor(registry, t.ref.repository);
    if (challenge.scheme === 'basic') {
      if (!creds) {
        throw new RegistryError(registry, 'auth',
          `${t.name}:${t.reference}: ${registry} wants a username and password (Basic) and none were found in ${this.sources()}; ` +
          `log in as the user stackd runs as: podman login ${registry}`, { status: 401 });
      }
      // Basic has no expiry; keep the header as long as a token's default, then look the credentials up again
      return { header: basic(creds), expiresAtMs: this.now() + DEFAULT_TOKEN_SECONDS * 1000, credentials: creds };
    }
    const built = tokenUrl(challenge, t.ref.repository);
    if ('error' in built) {
      throw new RegistryError(registry, 'protocol', `${t.name}:${t.reference}: ${registry} sent a Bearer challenge stackd cannot follow: ${built.error}`, { status: 401 });
    }
    const realm = new URL(built.url);
    if (creds && realm.protocol === 'http:' && !t.insecure) {
      throw new RegistryError(registry, 'protocol',
        `${t.name}: ${registry}'s token service ${realm.origin} is plain http; stackd does not send the credentials from ${creds.source} over it. ` +
        `If that is really wanted, mark ${registry} insecure = true in registries.conf`);
    }
    const a = await this.fetchToken(t, built.url, creds);
    const token = parseTokenResponse(parseJson(a.body), this.now());
    if ('error' in token) {
      throw new RegistryError(registry, 'protocol', `${t.name}: ${realm.origin}${realm.pathname} (token service of ${registry}): ${token.error}`);
    }
    const authz: Authorization = { header: `Bearer ${token.token}`, expiresAtMs: token.expiresAtMs };
    if (creds) authz.credentials = creds;
    return authz;
  }

  private async fetchToken(t: Target, url: string, creds: Credentials | undefined): Promise<Answer> {
    const registry = t.ref.registry;
    const realm = new URL(url);
    const service = `${realm.origin}${realm.pathname}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (creds) headers.authorization = basic(creds);
    let a: Answer;
    try {
      a = await this.fetch(registry, url, 'GET', headers, MAX_TOKEN_BYTES);
    } catch (err) {
      throw this.translate(registry, `the token service ${service} of ${registry}`, err);
    }
    if (a.status === 200) return a;
    if (a.status === 401 || a.status === 403) {
      throw new RegistryError(registry, 'auth', creds
        ? `${t.name}: the token service ${service} refused the credentials for ${registry} from ${creds.source} (${a.status}${registryMessage(a)}); ` +
          `the password or token is wrong or expired: podman login ${registry}`
        : `${t.name}: the token service ${service} refused an anonymous token for ${registry} (${a.status}${registryMessage(a)}); ` +
          `no credentials were found in ${this.sources()}: podman login ${registry}`, { status: a.status });
    }
    throw this.statusError(t, a, `the token service ${service}`);
  }

  private async send(t: Target, url: string, method: 'HEAD' | 'GET', authorization: string | undefined): Promise<Answer> {
    const headers: Record<string, string> = { accept: MANIFEST_ACCEPT };
    if (authorization) headers.authorization = authorization;
    try {
      return await this.fetch(t.ref.registry, url, method, headers, MAX_MANIFEST_BYTES);
    } catch (err) {
      throw this.translate(t.ref.registry, `${t.ref.registry} at ${t.origin}`, err);
    }
  }

  /** One HTTP exchange, body read whole (within limit). No redirects are followed: credentials stay put. */
  private async fetch(registry: string, url: string, method: 'HEAD' | 'GET', headers: Record<string, string>, limit: number): Promise<Answer> {
    const res = await request(url, {
      dispatcher: this.dispatcher,
      method,
      headers,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const body = method === 'HEAD' ? (await res.body.dump(), Buffer.alloc(0)) : await readLimited(res.body, limit, registry, url);
    return { status: res.statusCode, headers: res.headers, body };
  }

  private judge(t: Target, a: Answer, authz: Authorization | undefined): Answer {
    const registry = t.ref.registry;
    const what = `${t.name}:${t.reference}`;
    if (a.status >= 200 && a.status < 300) return a;
    if (a.status === 401) {
      const who = authz?.credentials ? `the credentials from ${authz.credentials.source}` : 'an anonymous token';
      throw new RegistryError(registry, 'auth',
        `${what}: ${registry} refused ${who} (401${registryMessage(a)}); ` +
        (authz?.credentials
          ? `they do not give pull access to ${t.ref.repository}: check the account, then podman login ${registry}`
          : `the repository is private, or does not exist (Docker Hub answers 401 for both): check the name, or podman login ${registry}`),
        { status: 401 });
    }
    if (a.status === 403) {
      throw new RegistryError(registry, 'auth', `${what}: ${registry} denied access (403${registryMessage(a)}); the account has no pull access to ${t.ref.repository}`, { status: 403 });
    }
    if (a.status === 404) {
      throw new RegistryError(registry, 'not-found',
        `${what}: ${registry} has no such manifest (404${registryMessage(a)}); check the image name and tag in the compose file`, { status: 404 });
    }
    throw this.statusError(t, a, registry);
  }

  /** 429, 5xx and the unexpected, from the registry or its token service. */
  private statusError(t: Target, a: Answer, who: string): RegistryError {
    const registry = t.ref.registry;
    const what = `${t.name}:${t.reference}`;
    if (a.status === 429) {
      const retryAfterMs = parseRetryAfter(header(a, 'retry-after'), this.now());
      this.onEvent(retryAfterMs === undefined ? { kind: 'rate-limited', registry } : { kind: 'rate-limited', registry, retryAfterMs });
      const wait = retryAfterMs === undefined ? 'it sent no Retry-After' : `it asks to wait ${Math.ceil(retryAfterMs / 1000)} s`;
      const opts: { status: number; retryAfterMs?: number; retryAtMs?: number } = { status: 429 };
      if (retryAfterMs !== undefined) {
        opts.retryAfterMs = retryAfterMs;
        if (retryAfterMs > 0) {
          // a day at most: a broken header must not stop update checks for good
          opts.retryAtMs = this.now() + Math.min(retryAfterMs, MAX_QUIET_MS);
          this.quietUntil.set(registry, opts.retryAtMs);
        }
      }
      // when stackd asks again is the caller's to say (retryAtMs, or its next run when there is no wait)
      return new RegistryError(registry, 'rate-limited',
        `${what}: ${who} rate-limited stackd (429); ${wait}; on Docker Hub, podman login docker.io raises the limit`, opts);
    }
    if (a.status >= 500) {
      return new RegistryError(registry, 'unreachable', `${what}: ${who} answered ${a.status}${registryMessage(a)}; the registry has trouble: stackd tries again later`, { status: a.status });
    }
    const location = header(a, 'location');
    return new RegistryError(registry, 'protocol',
      `${what}: ${who} answered ${a.status}${registryMessage(a)}${location ? ` (to ${location}; stackd follows no redirects)` : ''}; expected 200`,
      { status: a.status });
  }

  /** A transport failure as a RegistryError; anything else (ours, or a bug) unchanged. */
  private translate(registry: string, who: string, err: unknown): unknown {
    if (err instanceof RegistryError) return err;
    const code = transportCode(err);
    if (code === undefined) return err;
    if (TIMEOUT_CODES.has(code)) {
      return new RegistryError(registry, 'unreachable', `${who} did not answer within ${this.timeoutMs} ms (${code}); stackd tries again later`, { cause: err });
    }
    if (UNREACHABLE_CODES.has(code)) {
      return new RegistryError(registry, 'unreachable', `cannot reach ${who} (${code}); check the network and DNS, or whether the registry is down`, { cause: err });
    }
    if (TLS_CODE.test(code)) {
      return new RegistryError(registry, 'unreachable',
        `TLS with ${who} failed (${code}); if this registry serves plain http or an untrusted certificate, mark it insecure = true in registries.conf (podman needs that too)`,
        { cause: err });
    }
    return err;
  }

  private sources(): string {
    return this.credentials?.describe() ?? '(no credential source configured)';
  }
}

function header(a: Answer, name: string): string | undefined {
  const v = a.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/** The document's type: the Content-Type when it is a manifest type, else the body's own mediaType. */
function mediaTypeOf(contentType: string | undefined, body: unknown): string {
  const t = bareMediaType(contentType);
  if (isIndex(t) || isImageManifest(t)) return t;
  if (typeof body === 'object' && body !== null && 'mediaType' in body && typeof body.mediaType === 'string') return body.mediaType;
  return t;
}

/** " MANIFEST_UNKNOWN: manifest unknown" from the registry's error body, when it sent one. */
function registryMessage(a: Answer): string {
  const v = parseJson(a.body);
  if (typeof v !== 'object' || v === null || !('errors' in v) || !Array.isArray(v.errors)) return '';
  const first: unknown = v.errors[0];
  if (typeof first !== 'object' || first === null) return '';
  const code = 'code' in first && typeof first.code === 'string' ? first.code : '';
  const message = 'message' in first && typeof first.message === 'string' ? first.message : '';
  const text = [code, message].filter(Boolean).join(': ').slice(0, 200);
  return text ? ` ${text}` : '';
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number, registry: string, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new RegistryError(registry, 'protocol', `${url} sent more than ${limit} bytes; a manifest or token is never that big`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The errno-like code of a transport failure, looking through undici's wrappers and happy-eyeballs' AggregateError. */
function transportCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    if ('code' in e && typeof e.code === 'string') return e.code;
    if ('cause' in e) queue.push(e.cause);
    if ('errors' in e && Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]));
  }
  return undefined;
}

export interface UserRegistrySettings {
  /** the user's environment as podman reads it (stackd's own: the daemon runs as that user) */
  env: AuthEnv & RegistriesConfEnv;
  /** a credential helper's whole environment (build it with buildChildEnv; helpers may need DBUS_SESSION_BUS_ADDRESS) */
  helperEnv: Record<string, string>;
}

/**
 * The client as the daemon uses it: credentials from the user's auth files and helpers, plain http for the
 * registries.conf insecure ones. The composition root passes the environment; nothing here reads it.
 */
export function createRegistryClient(
  user: UserRegistrySettings,
  opts: Omit<RegistryClientOptions, 'isInsecure' | 'credentials'> = {},
): RegistryClient {
  const conf = new RegistriesConfFiles({ env: user.env });
  const auth = new RegistryAuth({ authFiles: authFilePaths(user.env), helperEnv: user.helperEnv });
  return new RegistryClient({ ...opts, isInsecure: (registry, repository) => conf.isInsecure(registry, repository), credentials: auth });
}
