// The registry lab: real registries (Debian's docker-registry, distribution 2.8) on loopback for the system
// tests of registry updates, started and torn down by the test process itself (as the lab user).
//
//   startBasicRegistry     htpasswd auth (Basic)                       → { host, logs(), requests(), stop() }
//   startTokenRegistry     token auth + an in-process token issuer    → … + tokenRequests(), mintToken()
//   startRateLimitProxy    429 + Retry-After for manifest requests    → { host, requests(), limited(), stop() }
//   startDigestStrippingProxy  forwards all, drops Docker-Content-Digest
//   pushImage / pushTwoPlatformList   images made without RUN steps (no emulation), pushed with podman
//   writeAuthJson / podmanLogin / registryRequest   credentials and raw registry HTTP
//   cleanupRegistryLab / labLeftovers   tear everything down, and prove nothing is left
//
// Every server binds 127.0.0.1 on a free port and is added to the lab user's
// ~/.config/containers/registries.conf.d/ as insecure (plain http) for as long as it runs. Every child process
// is started with an argv (never a shell string) under `setpriv --pdeathsig KILL`, so it dies with the test
// process even when that crashes. stop() of a registry or proxy also removes the local images named after its
// host (pulled or pushed through it), the podman logins made with podmanLogin for it, its drop-in and its temp
// dir. The lab is shared and system tests hold /tmp/stackd-lab.lock, so one run at a time uses these.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, rmSync, unlinkSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, rmdir, symlink, unlink, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BASE_IMAGE, RUNTIME_DIR, freePort, run, type RunResult } from './harness.js';

export { freePort };

// --- public types ----------------------------------------------------------------------------------------

export interface Credentials {
  user: string;
  password: string;
}

/** One line of docker-registry's access log (Combined Log Format on its stdout). */
export interface RegistryAccess {
  method: string;
  /** the request path without its query, e.g. /v2/lab/app/manifests/1 */
  path: string;
  /** the full request URI as logged */
  uri: string;
  status: number;
  bytes: number;
  userAgent: string;
}

export interface RegistryHandle {
  /** 127.0.0.1:<port>: the registry part of an image reference */
  readonly host: string;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** the registry's temp dir (config, htpasswd or keys, storage under data/) */
  readonly dir: string;
  /** everything docker-registry printed so far (access log and app log, in arrival order) */
  logs(): string;
  /** the access-log lines so far, parsed (which requests came: "no blob fetched" is `!requests().some(r => r.path.includes('/blobs/'))`) */
  requests(): RegistryAccess[];
  /** number of access-log lines so far: take it before an action, pass it to requestsSince() after */
  mark(): number;
  requestsSince(mark: number): RegistryAccess[];
  /**
   * Wait until the registry has been quiet for quietMs (at most maxMs): its access log line is written after
   * the response, so read requests() after a flush() when the last request matters.
   */
  flush(quietMs?: number, maxMs?: number): Promise<void>;
  /** kill the registry process (connections refused on its port); storage, port and drop-in stay */
  down(): Promise<void>;
  /** start it again on the same port with the same storage */
  up(): Promise<void>;
  /** SIGSTOP / SIGCONT the registry process: requests hang (timeouts) until resume() */
  pause(): void;
  resume(): void;
  /** tear down: process, port, drop-in, logins, local images named after host, temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface BasicRegistryHandle extends RegistryHandle {
  readonly credentials: Credentials;
}

export interface ResourceAccess {
  type: string;
  name: string;
  actions: string[];
}

/** One request to the token issuer. */
export interface TokenRequestRecord {
  at: number;
  method: string;
  service: string | undefined;
  /** every scope= parameter, as sent (e.g. repository:lab/app:pull,push) */
  scopes: string[];
  /** the account= parameter podman sends at login */
  account: string | undefined;
  /** how the client authenticated: Basic header, form fields (POST), or not at all */
  credentials: 'basic' | 'form' | 'none';
  /** the user name it sent (also when the password was wrong) */
  user: string | undefined;
  status: number;
  outcome: 'issued' | 'bad-credentials' | 'bad-service' | 'bad-request';
  /** what the issued token grants ([] for a login, or for an anonymous client without anonymousPull) */
  granted: ResourceAccess[];
}

export interface MintOptions {
  sub?: string;
  access?: ResourceAccess[];
  /** seconds from now (negative: already expired; the registry allows 60 s of leeway) */
  expiresIn?: number;
  notBeforeIn?: number;
  issuer?: string;
  audience?: string;
  /** the key-identification header to use (default: the registry's) */
  keyHeader?: 'x5c' | 'kid';
}

export interface TokenRegistryHandle extends RegistryHandle {
  /** http://127.0.0.1:<issuer port>/token */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly users: Readonly<Record<string, string>>;
  tokenRequests(): TokenRequestRecord[];
  /** sign a token the registry trusts (or, with wrong issuer/audience/exp, one it must refuse) */
  mintToken(opts?: MintOptions): string;
  /** the libtrust key id of the signing key (what `kid` carries) */
  readonly keyId: string;
}

export type Grant = (user: string | undefined, resource: { type: string; name: string }, requested: string[]) => string[];

export interface ProxyRecord {
  at: number;
  method: string;
  /** path without query */
  path: string;
  url: string;
  accept: string | undefined;
  authorization: 'basic' | 'bearer' | 'none' | 'other';
  status: number;
  /** answered by the proxy itself (429) instead of forwarded */
  limited: boolean;
  /** the upstream response carried Docker-Content-Digest and the proxy removed it */
  strippedDigest: boolean;
}

export interface ProxyHandle {
  readonly host: string;
  readonly url: string;
  readonly upstream: string;
  requests(): ProxyRecord[];
  stop(): Promise<void>;
}

export interface RateLimitProxyHandle extends ProxyHandle {
  /** how many requests the proxy answered itself */
  limited(): number;
  /** 'always', or limit the next N matching requests (0: forward everything) */
  setLimit(limit: 'always' | number): void;
}

export interface PushImageOptions {
  /** text of /variant.txt and the stackd.lab.variant label: distinct variants make distinct images */
  variant: string;
  /** the image's HEALTHCHECK: test -f /variant.txt (healthy), a file that is never there (unhealthy), or none */
  health?: 'healthy' | 'unhealthy' | 'none';
  labels?: Record<string, string>;
  cmd?: string[];
  /** base image (default localhost/busybox:lab) */
  base?: string;
  authfile?: string;
  credentials?: Credentials;
}

export interface TwoPlatformOptions {
  amd64Variant: string;
  arm64Variant: string;
  authfile?: string;
  credentials?: Credentials;
}

export interface TwoPlatformDigests {
  indexDigest: string;
  amd64Digest: string;
  arm64Digest: string;
  /** the index as the registry serves it */
  index: ImageIndex;
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: { mediaType: string; digest: string; size: number; platform?: { architecture: string; os: string; variant?: string } }[];
}

export interface RegistryResponse {
  status: number;
  /** lower-cased names; repeated headers joined with ", " */
  headers: Record<string, string>;
  body: Buffer;
  /** 'issuer' when the token issuer refused (its response is returned) */
  from: 'registry' | 'issuer';
  /** the Authorization scheme finally sent to the registry */
  sentAuth: 'none' | 'basic' | 'bearer';
  text(): string;
  json<T = unknown>(): T;
}

export interface RegistryRequestOptions {
  method?: string;
  accept?: string | string[];
  headers?: Record<string, string>;
  body?: string | Buffer;
  credentials?: Credentials;
  /** 'auto' (default): answer a 401 challenge (Basic, or the Bearer token flow); 'none': one plain request */
  auth?: 'auto' | 'none';
  bearer?: string;
  timeoutMs?: number;
}

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;
/** What podman sends when it resolves a tag: lists and single manifests of both families. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest];

// --- the lab's bookkeeping -------------------------------------------------------------------------------

interface Resource {
  what: string;
  stop(): Promise<void>;
  /** last resort at process exit: synchronous */
  killSync(): void;
}

const live = new Set<Resource>();
const everDropIns = new Set<string>();
const everTempDirs = new Set<string>();
const everHosts = new Set<string>();
const everChildren = new Set<ChildProcess>();
const everServers = new Set<Server>();
const logins: { host: string; authfile: string | undefined }[] = [];
const BUILD_PREFIX = 'localhost/stackd-reglab-';
let exitHook = false;

function track(r: Resource): void {
  live.add(r);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const res of live) {
        try { res.killSync(); } catch { /* best effort at exit */ }
      }
    });
  }
}

export const DROPIN_DIR = join(process.env['HOME'] ?? homedir(), '.config/containers/registries.conf.d');
export const DEFAULT_AUTHFILE = join(RUNTIME_DIR, 'containers/auth.json');
const PODMAN_ENV = { PODMAN_IGNORE_CGROUPSV1_WARNING: '1' };
const DEFAULT_CMD = ['sleep', '1000000'];
const FIXED_TIME = 1_700_000_000; // --timestamp of the platform images: the same variant gives the same digest
const hasSetpriv = existsSync('/usr/bin/setpriv');

async function tempDir(kind: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `stackd-reglab-${kind}-`));
  everTempDirs.add(dir);
  return dir;
}

function podman(args: string[], input?: string): Promise<RunResult> {
  return run(['podman', ...args], { env: PODMAN_ENV, ...(input === undefined ? {} : { input }) });
}

async function podmanOk(args: string[], input?: string): Promise<string> {
  const r = await podman(args, input);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

async function runOk(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolveP) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (v: boolean) => { sock.destroy(); resolveP(v); };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function listen(server: Server): Promise<number> {
  everServers.add(server);
  return new Promise((resolveP, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolveP(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveP) => {
    if (!server.listening) return resolveP();
    server.close(() => resolveP());
    server.closeAllConnections();
  });
}

// --- registries.conf drop-ins ----------------------------------------------------------------------------

function dropInPath(host: string): string {
  return join(DROPIN_DIR, `stackd-reglab-${host.replace(/[^0-9A-Za-z]+/g, '-')}.conf`);
}

/** Mark host insecure (plain http) for podman: ~/.config/containers/registries.conf.d/stackd-reglab-<host>.conf */
let madeDropInDir = false;

async function addInsecure(host: string): Promise<string> {
  if (!existsSync(DROPIN_DIR)) {
    await mkdir(DROPIN_DIR, { recursive: true });
    madeDropInDir = true;
  }
  const p = dropInPath(host);
  await writeFile(p, `# stackd registry lab (test/system/registry-lab.ts); removed when it stops\n[[registry]]\nlocation = "${host}"\ninsecure = true\n`);
  everDropIns.add(p);
  return p;
}

/**
 * Remove drop-ins of earlier runs whose port no longer answers (a crashed run). Runs hold the lab lock, so
 * a drop-in whose server is gone belongs to nobody.
 */
export async function sweepStaleDropIns(): Promise<string[]> {
  const names = await readdir(DROPIN_DIR).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const n of names) {
    const m = /^stackd-reglab-127-0-0-1-(\d+)\.conf$/.exec(n);
    if (!m || everDropIns.has(join(DROPIN_DIR, n))) continue;
    if (await portAnswers(Number(m[1]))) continue;
    await unlink(join(DROPIN_DIR, n)).catch(() => undefined);
    removed.push(n);
  }
  return removed;
}

// --- podman credentials ----------------------------------------------------------------------------------

/** Write an auth.json as podman writes it: {"auths":{"<host>":{"auth":"base64(user:password)"}}} (0600). */
export async function writeAuthJson(path: string, entries: Record<string, Credentials>): Promise<void> {
  const auths: Record<string, { auth: string }> = {};
  for (const [host, c] of Object.entries(entries)) auths[host] = { auth: Buffer.from(`${c.user}:${c.password}`).toString('base64') };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ auths }, null, '\t')}\n`, { mode: 0o600 });
}

/** The credentials an auth.json holds for host (podman's default authfile when none is named). */
export async function readAuthJson(host: string, authfile = DEFAULT_AUTHFILE): Promise<Credentials | undefined> {
  const text = await readFile(authfile, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const auth = (JSON.parse(text) as { auths?: Record<string, { auth?: string }> }).auths?.[host]?.auth;
  if (!auth) return undefined;
  const plain = Buffer.from(auth, 'base64').toString();
  const i = plain.indexOf(':');
  return { user: plain.slice(0, i), password: plain.slice(i + 1) };
}

/**
 * `podman login --tls-verify=false -u user --password-stdin [--authfile f] host` (the password goes on stdin,
 * not into argv). Never throws: check `code`. The login is logged out again when the lab stops host.
 */
export async function podmanLogin(host: string, user: string, password: string, authfile?: string): Promise<RunResult> {
  const args = ['login', '--tls-verify=false', '--username', user, '--password-stdin'];
  if (authfile) args.push('--authfile', authfile);
  args.push(host);
  const r = await podman(args, `${password}\n`);
  if (r.code === 0) logins.push({ host, authfile });
  return r;
}

async function logoutAll(host: string): Promise<void> {
  for (let i = logins.length - 1; i >= 0; i--) {
    const l = logins[i];
    if (!l || l.host !== host) continue;
    logins.splice(i, 1);
    if (l.authfile && !existsSync(l.authfile)) continue;
    await podman(['logout', ...(l.authfile ? ['--authfile', l.authfile] : []), host]);
  }
}

// --- local images named after a lab host -----------------------------------------------------------------

interface ImageRow { Id: string; Names?: string[] | null; RepoDigests?: string[] | null }

async function imageRows(): Promise<ImageRow[]> {
  const rows = JSON.parse((await podmanOk(['images', '--all', '--format', 'json'])) || '[]') as ImageRow[];
  const byId = new Map<string, ImageRow>();
  for (const r of rows) byId.set(r.Id, r);
  return [...byId.values()];
}

/** Names and digests in local storage that start with prefix (e.g. 127.0.0.1:5123/). */
export async function localImagesOf(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const r of await imageRows()) {
    for (const n of [...(r.Names ?? []), ...(r.RepoDigests ?? [])]) if (n.startsWith(prefix)) out.push(n);
  }
  return out;
}

/**
 * Remove what local storage holds under prefix: an image whose every name is under prefix is removed,
 * one that also has other names only loses ours (podman untag). Containers using them are left alone (the
 * removal then fails and is reported).
 */
async function removeLocalImagesOf(prefix: string): Promise<string[]> {
  const problems: string[] = [];
  for (const r of await imageRows()) {
    const names = r.Names ?? [];
    const ours = names.filter((n) => n.startsWith(prefix));
    const digestsOurs = (r.RepoDigests ?? []).some((d) => d.startsWith(prefix));
    if (!ours.length && !digestsOurs) continue;
    const foreign = names.filter((n) => !n.startsWith(prefix));
    if (foreign.length === 0) {
      // --force: an image pulled by tag and by digest has two names; every one is this registry's
      const res = await podman(['rmi', '--ignore', '--force', r.Id]);
      if (res.code !== 0) problems.push(`podman rmi ${r.Id}: ${res.stderr.trim()}`);
    } else {
      for (const n of ours) {
        const res = await podman(['untag', r.Id, n]);
        if (res.code !== 0) problems.push(`podman untag ${r.Id} ${n}: ${res.stderr.trim()}`);
      }
    }
  }
  return problems;
}

// --- docker-registry processes ---------------------------------------------------------------------------

interface RegistryProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

function spawnTracked(argv: string[], onOut: (s: string) => void, onErr: (s: string) => void): RegistryProcess {
  const full = hasSetpriv ? ['setpriv', '--pdeathsig', 'KILL', '--', ...argv] : argv;
  const [cmd, ...args] = full;
  if (!cmd) throw new Error('empty argv');
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  everChildren.add(child);
  child.stdout?.on('data', (d: Buffer) => onOut(d.toString()));
  child.stderr?.on('data', (d: Buffer) => onErr(d.toString()));
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.once('error', () => r());
  });
  return { child, exited };
}

async function killProcess(p: RegistryProcess | undefined): Promise<void> {
  if (!p) return;
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await p.exited;
  clearTimeout(t);
}

function registryConfig(dir: string, port: number, auth: string): string {
  // JSON strings are YAML strings: every value goes in quoted.
  const q = JSON.stringify;
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    '  accesslog: { disabled: false }',
    'storage:',
    `  filesystem: { rootdirectory: ${q(join(dir, 'data'))} }`,
    '  delete: { enabled: true }',
    '  maintenance: { uploadpurging: { enabled: false } }',
    'http:',
    `  addr: ${q(`127.0.0.1:${port}`)}`,
    `  secret: ${q(randomBytes(16).toString('hex'))}`,
    auth,
    '',
  ].join('\n');
}

function parseAccessLog(text: string): RegistryAccess[] {
  const out: RegistryAccess[] = [];
  const re = /^\S+ \S+ \S+ \[[^\]]+\] "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"$/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const uri = m[2] ?? '';
    out.push({ method: m[1] ?? '', uri, path: uri.split('?')[0] ?? uri, status: Number(m[3]), bytes: m[4] === '-' ? 0 : Number(m[4]), userAgent: m[5] ?? '' });
  }
  return out;
}

/**
 * Start docker-registry with the given auth section in a fresh temp dir on a free port; retried on another
 * port if the one picked was taken in between. Returns the handle's common part.
 */
async function startRegistryProcess(kind: string, dir: string, auth: string, extraStop: () => Promise<void>, killExtra: () => void): Promise<RegistryHandle> {
  let out = '';
  let all = '';
  let lastOutput = Date.now();
  let proc: RegistryProcess | undefined;
  let port = 0;
  let lastErr = '';
  const configPath = join(dir, 'config.yml');

  const launch = async (fixedPort?: number): Promise<void> => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const p = fixedPort ?? (await freePort());
      await writeFile(configPath, registryConfig(dir, p, auth));
      let err = '';
      const started = spawnTracked(['docker-registry', 'serve', configPath], (s) => { out += s; all += s; lastOutput = Date.now(); }, (s) => { err += s; all += s; lastOutput = Date.now(); });
      const deadline = Date.now() + 15_000;
      let ok = false;
      while (Date.now() < deadline) {
        if (started.child.exitCode !== null || started.child.signalCode !== null) break;
        if (err.includes(`listening on 127.0.0.1:${p}`) && (await portAnswers(p))) { ok = true; break; }
        await sleep(50);
      }
      if (ok) { proc = started; port = p; return; }
      await killProcess(started);
      lastErr = err.slice(-2000);
      if (fixedPort !== undefined || !/address already in use/.test(err)) break;
    }
    throw new Error(`docker-registry (${kind}) did not start: ${lastErr}`);
  };

  try {
    await launch();
  } catch (e) {
    await extraStop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const host = `127.0.0.1:${port}`;
  everHosts.add(host);
  let stopped = false;
  let dropIn: string | undefined;
  const resource: Resource = {
    what: `${kind} registry ${host} (pid ${proc?.child.pid})`,
    stop: () => handle.stop(),
    killSync: () => {
      proc?.child.kill('SIGKILL');
      killExtra();
      if (dropIn) try { unlinkSync(dropIn); } catch { /* gone */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  track(resource);
  try {
    dropIn = await addInsecure(host);
  } catch (e) {
    live.delete(resource);
    await killProcess(proc);
    await extraStop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const handle: RegistryHandle = {
    host,
    url: `http://${host}`,
    dir,
    logs: () => all,
    requests: () => parseAccessLog(out),
    mark: () => parseAccessLog(out).length,
    requestsSince: (mark) => parseAccessLog(out).slice(mark),
    flush: async (quietMs = 150, maxMs = 3000) => {
      const deadline = Date.now() + maxMs;
      await sleep(quietMs);
      while (Date.now() - lastOutput < quietMs && Date.now() < deadline) await sleep(25);
    },
    down: async () => { await killProcess(proc); },
    up: async () => {
      if (proc && proc.child.exitCode === null && proc.child.signalCode === null) return;
      await launch(port);
    },
    pause: () => { proc?.child.kill('SIGSTOP'); },
    resume: () => { proc?.child.kill('SIGCONT'); },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const problems: string[] = [];
      if (dropIn) await unlink(dropIn).catch(() => undefined);
      await logoutAll(host);
      problems.push(...(await removeLocalImagesOf(`${host}/`)));
      await killProcess(proc);
      await extraStop();
      await rm(dir, { recursive: true, force: true });
      live.delete(resource);
      if (problems.length) throw new Error(`stopping registry ${host} left: ${problems.join('; ')}`);
    },
  };
  return handle;
}

/** docker-registry with htpasswd (bcrypt) auth: Basic. */
export async function startBasicRegistry(opts: Credentials & { moreUsers?: Record<string, string> }): Promise<BasicRegistryHandle> {
  await sweepStaleDropIns();
  const dir = await tempDir('basic');
  const htpasswd = join(dir, 'htpasswd');
  try {
    // htpasswd -B (bcrypt, what distribution accepts) -i (the password on stdin, not in argv); -c the first time
    const users = [[opts.user, opts.password], ...Object.entries(opts.moreUsers ?? {})];
    for (const [i, [u, p]] of users.entries()) {
      const r = await run(['htpasswd', '-B', ...(i === 0 ? ['-c'] : []), '-i', htpasswd, u ?? ''], { input: `${p ?? ''}\n` });
      if (r.code !== 0) throw new Error(`htpasswd for ${u}: ${r.stderr.trim()}`);
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const auth = ['auth:', '  htpasswd:', '    realm: "stackd-lab"', `    path: ${JSON.stringify(htpasswd)}`].join('\n');
  const h = await startRegistryProcess('basic', dir, auth, async () => undefined, () => undefined);
  return Object.assign(h, { credentials: { user: opts.user, password: opts.password } });
}

/** docker-registry without auth (anonymous push and pull). */
export async function startOpenRegistry(): Promise<RegistryHandle> {
  await sweepStaleDropIns();
  const dir = await tempDir('open');
  return startRegistryProcess('open', dir, '', async () => undefined, () => undefined);
}

// --- the token issuer ------------------------------------------------------------------------------------

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** libtrust's key id: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32, 12 groups of 4. */
export function libtrustKeyId(spkiDer: Buffer): string {
  const bytes = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let s = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      s += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return (s.match(/.{4}/g) ?? []).join(':');
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolveP, reject) => {
    let s = '';
    req.on('data', (d: Buffer) => { s += d.toString(); if (s.length > limit) req.destroy(new Error('body too large')); });
    req.on('end', () => resolveP(s));
    req.on('error', reject);
  });
}

function basicFrom(header: string | undefined): Credentials | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const plain = Buffer.from(m[1], 'base64').toString();
  const i = plain.indexOf(':');
  return i < 0 ? { user: plain, password: '' } : { user: plain.slice(0, i), password: plain.slice(i + 1) };
}

/**
 * docker-registry with `auth: token`, and a token issuer on loopback that implements the Docker token flow:
 * GET /token?service=…&scope=repository:<name>:pull,push[&scope=…] with optional Basic credentials answers
 * {token, access_token, expires_in, issued_at}; a wrong password or unknown user is a 401. An authenticated
 * user gets every requested action (or what `grant` says); an anonymous client gets pull when anonymousPull,
 * else an empty access list (the registry then answers 401, as Docker Hub does for a private repository).
 * Tokens are RS256 JWTs; the header identifies the key by x5c (the self-signed certificate that is the
 * registry's rootcertbundle) or, with keyHeader 'kid', by its libtrust key id.
 */
export async function startTokenRegistry(opts: {
  users: Record<string, string>;
  anonymousPull?: boolean;
  service?: string;
  issuer?: string;
  tokenTtlSeconds?: number;
  keyHeader?: 'x5c' | 'kid';
  grant?: Grant;
}): Promise<TokenRegistryHandle> {
  await sweepStaleDropIns();
  const service = opts.service ?? 'stackd-lab-registry';
  const issuerName = opts.issuer ?? 'stackd-lab-issuer';
  const ttl = opts.tokenTtlSeconds ?? 300;
  const defaultKeyHeader = opts.keyHeader ?? 'x5c';
  const users = { ...opts.users };
  const dir = await tempDir('token');
  const keyPath = join(dir, 'issuer-key.pem');
  const certPath = join(dir, 'issuer-cert.pem');
  let key: KeyObject;
  let x5c: string;
  let keyId: string;
  try {
    await runOk(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
      '-subj', '/CN=stackd-lab-token-issuer', '-keyout', keyPath, '-out', certPath]);
    key = createPrivateKey(await readFile(keyPath));
    const cert = new X509Certificate(await readFile(certPath));
    x5c = cert.raw.toString('base64');
    keyId = libtrustKeyId(cert.publicKey.export({ type: 'spki', format: 'der' }));
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const mintToken = (m: MintOptions = {}): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = (m.keyHeader ?? defaultKeyHeader) === 'kid' ? { typ: 'JWT', alg: 'RS256', kid: keyId } : { typ: 'JWT', alg: 'RS256', x5c: [x5c] };
    const claims = {
      iss: m.issuer ?? issuerName,
      sub: m.sub ?? '',
      aud: m.audience ?? service,
      exp: now + (m.expiresIn ?? ttl),
      nbf: now + (m.notBeforeIn ?? 0),
      iat: now,
      jti: randomUUID(),
      access: m.access ?? [],
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
  };

  const records: TokenRequestRecord[] = [];
  const grantFor: Grant = opts.grant ?? ((user, resource, requested) => {
    if (resource.type !== 'repository') return [];
    if (user !== undefined) return requested.filter((a) => ['pull', 'push', 'delete', '*'].includes(a));
    return opts.anonymousPull ? requested.filter((a) => a === 'pull') : [];
  });

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://issuer');
      const rec: TokenRequestRecord = {
        at: Date.now(), method: req.method ?? '', service: undefined, scopes: [], account: undefined,
        credentials: 'none', user: undefined, status: 0, outcome: 'bad-request', granted: [],
      };
      const reply = (status: number, body: unknown, headers: OutgoingHttpHeaders = {}) => {
        rec.status = status;
        records.push(rec);
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'POST')) {
        return reply(404, { errors: [{ code: 'NOT_FOUND', message: 'token issuer: GET or POST /token' }] });
      }
      let params = url.searchParams;
      let creds: Credentials | undefined;
      if (req.method === 'POST') {
        params = new URLSearchParams(await readBody(req));
        if (params.get('grant_type') !== 'password') {
          return reply(400, { error: 'unsupported_grant_type', error_description: 'the lab issuer supports grant_type=password' });
        }
        rec.credentials = 'form';
        creds = { user: params.get('username') ?? '', password: params.get('password') ?? '' };
      } else {
        creds = basicFrom(req.headers.authorization);
        if (creds) rec.credentials = 'basic';
      }
      rec.service = params.get('service') ?? undefined;
      rec.scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      rec.account = params.get('account') ?? undefined;
      rec.user = creds?.user;
      if (creds && users[creds.user] !== creds.password) {
        rec.outcome = 'bad-credentials';
        return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] },
          { 'www-authenticate': 'Basic realm="stackd-lab-token-issuer"' });
      }
      if (rec.service !== service) {
        rec.outcome = 'bad-service';
        return reply(400, { errors: [{ code: 'DENIED', message: `unknown service ${JSON.stringify(rec.service)}; this issuer serves ${service}` }] });
      }
      const access: ResourceAccess[] = [];
      for (const s of rec.scopes) {
        const p = parseScope(s);
        if (!p) continue;
        const actions = grantFor(creds?.user, { type: p.type, name: p.name }, p.actions);
        const existing = access.find((a) => a.type === p.type && a.name === p.name);
        if (existing) existing.actions = [...new Set([...existing.actions, ...actions])];
        else access.push({ type: p.type, name: p.name, actions });
      }
      rec.granted = access;
      rec.outcome = 'issued';
      const token = mintToken({ sub: creds?.user ?? '', access });
      reply(200, { token, access_token: token, expires_in: ttl, issued_at: new Date().toISOString() });
    })().catch((e: unknown) => {
      if (!res.headersSent) { res.writeHead(500); res.end(String(e)); }
    });
  });
  let issuerPort: number;
  try {
    issuerPort = await listen(server);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const realm = `http://127.0.0.1:${issuerPort}/token`;
  const auth = [
    'auth:',
    '  token:',
    `    realm: ${JSON.stringify(realm)}`,
    `    service: ${JSON.stringify(service)}`,
    `    issuer: ${JSON.stringify(issuerName)}`,
    `    rootcertbundle: ${JSON.stringify(certPath)}`,
  ].join('\n');
  const h = await startRegistryProcess('token', dir, auth, () => closeServer(server), () => { server.close(); server.closeAllConnections(); });
  return Object.assign(h, {
    realm, service, issuer: issuerName, users, keyId,
    tokenRequests: () => records.slice(),
    mintToken,
  });
}

// --- raw registry HTTP -----------------------------------------------------------------------------------

function rawRequest(url: string, method: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolveP, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
        resolveP({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The parameters of a WWW-Authenticate challenge: scheme plus realm, service, scope, error… */
export function parseChallenge(header: string | undefined): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) if (p[1]) params[p[1]] = p[2] ?? '';
  return { scheme: (m[1] ?? '').toLowerCase(), params };
}

function response(r: { status: number; headers: Record<string, string>; body: Buffer }, from: 'registry' | 'issuer', sentAuth: RegistryResponse['sentAuth']): RegistryResponse {
  return { ...r, from, sentAuth, text: () => r.body.toString(), json: <T>() => JSON.parse(r.body.toString()) as T };
}

/**
 * One request to a registry (host is 127.0.0.1:<port>, path starts with /v2/), answering its 401 the way a
 * client does: Basic with the credentials, or the Bearer flow (GET the realm with service and scope, Basic
 * credentials when given, then the request again with the token).
 */
export async function registryRequest(host: string, path: string, opts: RegistryRequestOptions = {}): Promise<RegistryResponse> {
  const method = opts.method ?? 'GET';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.accept) headers['accept'] = Array.isArray(opts.accept) ? opts.accept.join(', ') : opts.accept;
  const url = `http://${host}${path}`;
  if (opts.bearer) {
    return response(await rawRequest(url, method, { ...headers, authorization: `Bearer ${opts.bearer}` }, body, timeoutMs), 'registry', 'bearer');
  }
  const first = await rawRequest(url, method, headers, body, timeoutMs);
  if (first.status !== 401 || opts.auth === 'none') return response(first, 'registry', 'none');
  const ch = parseChallenge(first.headers['www-authenticate']);
  const basic = opts.credentials ? `Basic ${Buffer.from(`${opts.credentials.user}:${opts.credentials.password}`).toString('base64')}` : undefined;
  if (ch?.scheme === 'basic') {
    if (!basic) return response(first, 'registry', 'none');
    return response(await rawRequest(url, method, { ...headers, authorization: basic }, body, timeoutMs), 'registry', 'basic');
  }
  if (ch?.scheme === 'bearer' && ch.params['realm']) {
    const t = new URL(ch.params['realm']);
    if (ch.params['service']) t.searchParams.set('service', ch.params['service']);
    for (const s of (ch.params['scope'] ?? '').split(' ').filter(Boolean)) t.searchParams.append('scope', s);
    const tr = await rawRequest(t.toString(), 'GET', basic ? { authorization: basic } : {}, undefined, timeoutMs);
    if (tr.status !== 200) return response(tr, 'issuer', 'none');
    const tok = JSON.parse(tr.body.toString()) as { token?: string; access_token?: string };
    const bearer = tok.token ?? tok.access_token ?? '';
    return response(await rawRequest(url, method, { ...headers, authorization: `Bearer ${bearer}` }, body, timeoutMs), 'registry', 'bearer');
  }
  return response(first, 'registry', 'none');
}

/** host, repository and tag or digest of a reference like 127.0.0.1:5123/lab/app:1 or …/lab/app@sha256:… */
export function parseRef(ref: string): { host: string; repo: string; reference: string } {
  const slash = ref.indexOf('/');
  if (slash < 0) throw new Error(`reference without a registry host: ${ref}`);
  const host = ref.slice(0, slash);
  const rest = ref.slice(slash + 1);
  const at = rest.indexOf('@');
  if (at >= 0) return { host, repo: rest.slice(0, at), reference: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(':');
  return colon > 0 ? { host, repo: rest.slice(0, colon), reference: rest.slice(colon + 1) } : { host, repo: rest, reference: 'latest' };
}

// --- images ----------------------------------------------------------------------------------------------

/** A Containerfile string literal (JSON quoting, with $ escaped against variable expansion). */
const cfString = (s: string): string => JSON.stringify(s).replace(/\$/g, '\\$');

async function authArgs(host: string, o: { authfile?: string; credentials?: Credentials }, dir: string): Promise<string[]> {
  if (o.credentials) {
    const f = join(dir, 'push-auth.json');
    await writeAuthJson(f, { [host]: o.credentials });
    return ['--authfile', f];
  }
  return o.authfile ? ['--authfile', o.authfile] : [];
}

/**
 * Build an image without RUN steps (FROM the lab's busybox, COPY /variant.txt, labels, HEALTHCHECK, CMD;
 * docker format so the HEALTHCHECK is kept) and push it to ref (--tls-verify=false). Returns the digest of
 * the pushed manifest. Each call makes a new image (the docker-format config records its build), so the same
 * variant pushed twice has two digests. The local build tag is removed again.
 */
export async function pushImage(ref: string, opts: PushImageOptions): Promise<string> {
  const { host } = parseRef(ref);
  const dir = await tempDir('build');
  const tag = `${BUILD_PREFIX}build:${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(join(dir, 'variant.txt'), `${opts.variant}\n`);
    const labels = { 'stackd.lab.variant': opts.variant, ...(opts.labels ?? {}) };
    const lines = [`FROM ${opts.base ?? BASE_IMAGE}`, 'COPY variant.txt /variant.txt'];
    for (const [k, v] of Object.entries(labels)) lines.push(`LABEL ${cfString(k)}=${cfString(v)}`);
    const health = opts.health ?? 'healthy';
    if (health !== 'none') {
      const file = health === 'healthy' ? '/variant.txt' : '/never-there-unhealthy';
      lines.push(`HEALTHCHECK --interval=2s --timeout=2s --start-period=1s --retries=2 CMD ${JSON.stringify(['test', '-f', file])}`);
    }
    lines.push(`CMD ${JSON.stringify(opts.cmd ?? DEFAULT_CMD)}`);
    await writeFile(join(dir, 'Containerfile'), `${lines.join('\n')}\n`);
    await podmanOk(['build', '-q', '--pull=never', '--layers=false', '--format', 'docker', '-t', tag, '-f', join(dir, 'Containerfile'), dir]);
    const digestFile = join(dir, 'digest');
    await podmanOk(['push', '-q', '--tls-verify=false', ...(await authArgs(host, opts, dir)), '--digestfile', digestFile, tag, `docker://${ref}`]);
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await podman(['rmi', '--ignore', tag]);
    await rm(dir, { recursive: true, force: true });
  }
}

async function buildPlatformImage(dir: string, arch: 'amd64' | 'arm64', variant: string, tag: string): Promise<void> {
  const root = join(dir, `root-${arch}`);
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'tmp'), { recursive: true });
  await copyFile('/bin/busybox', join(root, 'bin/busybox'));
  for (const a of ['sh', 'sleep', 'cat', 'test', 'true']) await symlink('busybox', join(root, 'bin', a));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  await writeFile(join(root, 'variant.txt'), `${variant}\n`);
  // a reproducible tar (names sorted, fixed times and owners): the same variant makes the same layer
  await runOk(['tar', '--sort=name', `--mtime=@${FIXED_TIME}`, '--owner=0', '--group=0', '--numeric-owner', '-C', root, '-cf', join(dir, `rootfs-${arch}.tar`), '.']);
  const cf = join(dir, `Containerfile.${arch}`);
  await writeFile(cf, [
    'FROM scratch',
    `ADD rootfs-${arch}.tar /`,
    `LABEL "stackd.lab.variant"=${cfString(variant)}`,
    `CMD ${JSON.stringify(DEFAULT_CMD)}`,
    '',
  ].join('\n'));
  // OCI format, fixed --timestamp, no RUN: no emulation, and the same variant gives the same image id
  await podmanOk(['build', '-q', '--pull=never', '--layers=false', '--platform', `linux/${arch}`, '--timestamp', String(FIXED_TIME), '-t', tag, '-f', cf, dir]);
}

/**
 * Push a two-platform list (OCI index: linux/amd64 and linux/arm64) to ref. The per-platform images are
 * built FROM scratch out of a busybox rootfs tar with /variant.txt (no RUN, so no emulation) with a fixed
 * timestamp: an unchanged variant gives the same manifest digest on the next push, so a list where only
 * arm64 changed keeps its amd64 digest. Returns the digests the registry serves.
 */
export async function pushTwoPlatformList(ref: string, opts: TwoPlatformOptions): Promise<TwoPlatformDigests> {
  const { host, repo } = parseRef(ref);
  const dir = await tempDir('list');
  const id = randomBytes(6).toString('hex');
  const tags = { amd64: `${BUILD_PREFIX}amd64:${id}`, arm64: `${BUILD_PREFIX}arm64:${id}` };
  const list = `${BUILD_PREFIX}list:${id}`;
  try {
    await buildPlatformImage(dir, 'amd64', opts.amd64Variant, tags.amd64);
    await buildPlatformImage(dir, 'arm64', opts.arm64Variant, tags.arm64);
    await podmanOk(['manifest', 'create', list]);
    await podmanOk(['manifest', 'add', list, `containers-storage:${tags.amd64}`]);
    await podmanOk(['manifest', 'add', list, `containers-storage:${tags.arm64}`]);
    const digestFile = join(dir, 'digest');
    await podmanOk(['manifest', 'push', '--all', '-q', '--tls-verify=false', ...(await authArgs(host, opts, dir)), '--digestfile', digestFile, list, `docker://${ref}`]);
    const indexDigest = (await readFile(digestFile, 'utf8')).trim();
    const credentials = opts.credentials ?? (await readAuthJson(host, opts.authfile));
    const r = await registryRequest(host, `/v2/${repo}/manifests/${indexDigest}`, { accept: [MEDIA.ociIndex, MEDIA.dockerList], ...(credentials ? { credentials } : {}) });
    if (r.status !== 200) throw new Error(`GET the pushed index ${ref}@${indexDigest}: ${r.status} ${r.text()}`);
    const index = r.json<ImageIndex>();
    const digestOf = (arch: string) => {
      const m = index.manifests.find((x) => x.platform?.architecture === arch && x.platform.os === 'linux');
      if (!m) throw new Error(`pushed index has no linux/${arch}: ${r.text()}`);
      return m.digest;
    };
    return { indexDigest, amd64Digest: digestOf('amd64'), arm64Digest: digestOf('arm64'), index };
  } finally {
    await podman(['manifest', 'rm', list]);
    await podman(['rmi', '--ignore', tags.amd64, tags.arm64]);
    await rm(dir, { recursive: true, force: true });
  }
}

// --- proxies ---------------------------------------------------------------------------------------------

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const MANIFEST_PATH = /^\/v2\/.+\/manifests\/[^/]+$/;

function authKind(h: string | undefined): ProxyRecord['authorization'] {
  if (!h) return 'none';
  if (/^basic /i.test(h)) return 'basic';
  if (/^bearer /i.test(h)) return 'bearer';
  return 'other';
}

async function startProxy(
  kind: string,
  upstream: string | { host: string },
  intercept: (req: IncomingMessage, path: string) => { status: number; headers: Record<string, string>; body: string } | undefined,
  stripDigest: boolean,
): Promise<ProxyHandle> {
  await sweepStaleDropIns();
  const up = typeof upstream === 'string' ? upstream : upstream.host;
  const [upHost, upPort] = [up.slice(0, up.lastIndexOf(':')), Number(up.slice(up.lastIndexOf(':') + 1))];
  const records: ProxyRecord[] = [];
  const server = createServer((req, res: ServerResponse) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? url;
    const rec: ProxyRecord = {
      at: Date.now(), method: req.method ?? '', path, url, accept: req.headers.accept,
      authorization: authKind(req.headers.authorization), status: 0, limited: false, strippedDigest: false,
    };
    records.push(rec);
    const answer = intercept(req, path);
    if (answer) {
      rec.status = answer.status;
      rec.limited = true;
      req.resume();
      res.writeHead(answer.status, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0', ...answer.headers });
      res.end(req.method === 'HEAD' ? undefined : answer.body);
      return;
    }
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    // Host stays the proxy's: the registry builds upload Locations from it, so clients keep coming through us
    const upReq = httpRequest({ host: upHost, port: upPort, method: req.method, path: url, headers }, (upRes) => {
      const out: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(upRes.headers)) {
        if (HOP_BY_HOP.has(k) || v === undefined) continue;
        if (stripDigest && k === 'docker-content-digest') { rec.strippedDigest = true; continue; }
        out[k] = v;
      }
      rec.status = upRes.statusCode ?? 0;
      res.writeHead(rec.status, out);
      upRes.pipe(res);
    });
    upReq.on('error', (e) => {
      rec.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: upstream ${up}: ${e.message}`);
    });
    req.pipe(upReq);
  });
  const port = await listen(server);
  const host = `127.0.0.1:${port}`;
  everHosts.add(host);
  let stopped = false;
  const dropIn = dropInPath(host);
  const resource: Resource = {
    what: `${kind} proxy ${host} → ${up}`,
    stop: () => handle.stop(),
    killSync: () => {
      server.close();
      server.closeAllConnections();
      try { unlinkSync(dropIn); } catch { /* gone */ }
    },
  };
  track(resource);
  await addInsecure(host);
  const handle: ProxyHandle = {
    host,
    url: `http://${host}`,
    upstream: up,
    requests: () => records.slice(),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await unlink(dropIn).catch(() => undefined);
      await logoutAll(host);
      const problems = await removeLocalImagesOf(`${host}/`);
      await closeServer(server);
      live.delete(resource);
      if (problems.length) throw new Error(`stopping proxy ${host} left: ${problems.join('; ')}`);
    },
  };
  return handle;
}

/**
 * A proxy in front of upstream that answers manifest requests (GET/HEAD /v2/<name>/manifests/<ref>) with
 * `status` (429) and Retry-After itself: every one ('always', the default) or the first N; everything else
 * is forwarded. The body is the registry error form {"errors":[{"code":"TOOMANYREQUESTS",…}]}.
 */
export async function startRateLimitProxy(
  upstream: string | { host: string },
  opts: { status?: number; retryAfter?: number | string; limit?: 'always' | number; headers?: Record<string, string>; matchAll?: boolean } = {},
): Promise<RateLimitProxyHandle> {
  let remaining: number | 'always' = opts.limit ?? 'always';
  let count = 0;
  const status = opts.status ?? 429;
  const h = await startProxy('rate-limit', upstream, (_req, path) => {
    if (!opts.matchAll && !MANIFEST_PATH.test(path)) return undefined;
    if (remaining !== 'always') {
      if (remaining <= 0) return undefined;
      remaining -= 1;
    }
    count += 1;
    return {
      status,
      headers: { 'retry-after': String(opts.retryAfter ?? 1), ...(opts.headers ?? {}) },
      body: JSON.stringify({ errors: [{ code: status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: 'rate limit (stackd registry lab proxy)', detail: null }] }),
    };
  }, false);
  return Object.assign(h, {
    limited: () => count,
    setLimit: (limit: 'always' | number) => { remaining = limit; },
  });
}

/** A proxy in front of upstream that forwards everything but removes Docker-Content-Digest from responses. */
export async function startDigestStrippingProxy(upstream: string | { host: string }): Promise<ProxyHandle> {
  return startProxy('digest-stripping', upstream, () => undefined, true);
}

// --- teardown --------------------------------------------------------------------------------------------

/** Stop one registry or proxy (the same as its stop()). */
export async function stopRegistry(h: { stop(): Promise<void> } | undefined): Promise<void> {
  await h?.stop();
}

/** Stop everything the lab started in this process, newest first; collects every failure into one error. */
export async function cleanupRegistryLab(): Promise<void> {
  const errors: string[] = [];
  for (const r of [...live].reverse()) {
    try { await r.stop(); } catch (e) { errors.push(`${r.what}: ${(e as Error).message}`); }
    live.delete(r);
  }
  // build tags of an interrupted push
  for (const n of await localImagesOf(BUILD_PREFIX)) {
    const res = await podman(['rmi', '--ignore', '--force', n]);
    if (res.code !== 0) errors.push(`podman rmi ${n}: ${res.stderr.trim()}`);
  }
  for (const d of everTempDirs) await rm(d, { recursive: true, force: true });
  // the drop-in folder, when the lab made it and nothing else is in it
  if (madeDropInDir) await rmdir(DROPIN_DIR).then(() => { madeDropInDir = false; }, () => undefined);
  if (errors.length) throw new Error(`registry lab cleanup: ${errors.join('\n')}`);
}

/**
 * What this process's lab left behind (expected: nothing after cleanupRegistryLab): live handles, child
 * processes, listening ports, drop-ins, temp dirs, local images and logins of lab hosts, build tags.
 */
export async function labLeftovers(): Promise<string[]> {
  const left: string[] = [];
  for (const r of live) left.push(`still running: ${r.what}`);
  for (const c of everChildren) if (c.exitCode === null && c.signalCode === null) left.push(`process ${c.pid} (${c.spawnargs.join(' ')}) alive`);
  for (const s of everServers) if (s.listening) left.push(`server still listening: ${JSON.stringify(s.address())}`);
  for (const h of everHosts) {
    const port = Number(h.split(':')[1]);
    if (await portAnswers(port)) left.push(`port ${h} still answers`);
    for (const n of await localImagesOf(`${h}/`)) left.push(`local image ${n}`);
    if (await readAuthJson(h)) left.push(`login for ${h} in ${DEFAULT_AUTHFILE}`);
  }
  for (const p of everDropIns) if (existsSync(p)) left.push(`drop-in ${p}`);
  for (const d of everTempDirs) if (existsSync(d)) left.push(`temp dir ${d}`);
  for (const n of await localImagesOf(BUILD_PREFIX)) left.push(`build image ${n}`);
  return left;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
