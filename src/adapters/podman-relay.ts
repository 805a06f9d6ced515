// The socket compose talks to instead of podman's: every request passes through to podman unchanged, except
// GET /info and GET /version, which are answered from a short-lived copy.
//
// Why: docker-compose asks both on every run (`up` asks /info and /version, `config` asks /info; seen with
// strace in the lab: docker-compose 2.26.1, podman 5.4.2), and podman gathers host facts for each answer —
// about 0.33 s apiece on a 2-core machine, CPU it burns again for every stack. For a one-service stack that
// is 0.67 s of a 0.77 s cold `up`, and all of a no-op one. The answers describe podman itself (API version,
// OS, storage driver), which does not change while it runs; the copy lives `ttlMs` (config
// podman.composeInfoCache) so a restarted or upgraded podman is seen soon after.
//
// Everything else — bodies, chunked streams (pull progress, events), hijacked attach/exec connections — is
// piped both ways as it comes. A podman that cannot be reached gets the client's connection closed unanswered,
// as podman's own missing socket would; any other failure of the relay is a 502 saying so.
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';

export interface PodmanRelayOptions {
  /** where compose connects (the relay's own unix socket; created 0600) */
  listenPath: string;
  /** podman's API socket */
  upstreamPath: string;
  /** how long an /info or /version answer is reused */
  ttlMs: number;
  now?: () => number;
  /** told of every request as it arrives, hijacked ones included (bench/scrape.ts counts podman API calls so) */
  onRequest?: (method: string, url: string) => void;
  /**
   * told, for every passed-through request, how long podman took to start its answer (headers, not the whole
   * body: a pull or an event stream may flow for minutes). The queue's adaptive concurrency reads podman's
   * pace from this.
   */
  onAnswer?: (method: string, url: string, ms: number) => void;
}

interface Copy {
  status: number;
  headers: string[];
  body: Buffer;
  atMs: number;
}

/** GET /info or /version, with or without an API version prefix (compose sends /v1.41/info). */
const CACHEABLE = /^\/(?:v\d+(?:\.\d+)*\/)?(?:info|version)(?:\?.*)?$/;
/** /info ↔ /version under the same API prefix (a query, which compose never sends here, is dropped). */
function siblingOf(url: string): string {
  return url.replace(/\/(info|version)(?:\?.*)?$/, (_m, word: string) => (word === 'info' ? '/version' : '/info'));
}
// Per connection, not per message: node sets them itself on both sides.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection']);

export class PodmanRelay {
  private server?: Server;
  private readonly copies = new Map<string, Copy>();
  private readonly fetching = new Map<string, Promise<Copy>>();
  // Kept-alive connections towards podman, as compose's own client keeps them. (One connection per request,
  // tried once, cost a compose run an EOF on POST /networks/create about once per five-stack converge on the
  // lab; node drops a kept socket podman closed, e.g. when its socket-activated service exits idle.)
  private readonly agent = new Agent({ keepAlive: true });
  /** hijacked connections: the server no longer tracks them, and close() would wait for them */
  private readonly tunnels = new Set<Socket>();
  private readonly now: () => number;
  /** answers served from a copy, and fetched from podman for one (for the log and the tests) */
  readonly counts = { served: 0, fetched: 0 };

  constructor(private readonly opts: PodmanRelayOptions) {
    this.now = opts.now ?? Date.now;
  }

  get path(): string {
    return this.opts.listenPath;
  }

  async start(): Promise<void> {
    await mkdir(dirname(this.opts.listenPath), { recursive: true, mode: 0o700 });
    await removeStaleSocket(this.opts.listenPath);
    const server = createServer((req, res) => this.onRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());
    // compose keeps idle connections; a stream (events, a long pull) may be quiet for minutes
    server.keepAliveTimeout = 5_000;
    server.requestTimeout = 0;
    // 0600 from the first moment. node binds inside listen(), synchronously, so the umask is set around that
    // call only: held across an await it would apply to whatever else the process creates meanwhile.
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const oldMask = process.umask(0o177);
      try {
        server.listen(this.opts.listenPath, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(oldMask);
      }
    });
    await chmod(this.opts.listenPath, 0o600);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.agent.destroy();
    if (!server) return;
    for (const t of this.tunnels) t.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(this.opts.listenPath, { force: true });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    this.opts.onRequest?.(req.method ?? 'GET', url);
    if (req.method === 'GET' && CACHEABLE.test(url) && this.opts.ttlMs > 0) {
      req.resume();
      this.copyOf(url).then(
        (copy) => {
          res.writeHead(copy.status, copy.headers);
          res.end(copy.body);
        },
        (err: unknown) => badGateway(res, err),
      );
      return;
    }
    const askedAt = performance.now();
    const upstream = request({
      socketPath: this.opts.upstreamPath, agent: this.agent, method: req.method, path: url, headers: endToEnd(req.rawHeaders),
    }, (answer) => {
      this.opts.onAnswer?.(req.method ?? 'GET', url, performance.now() - askedAt);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.rawHeaders));
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => badGateway(res, err));
    res.on('close', () => {
      // compose went away before the answer ended (a stream it stopped reading): stop asking podman too
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /**
   * A fresh copy, or one fetch shared by everyone asking at once. Fetching one of the pair also fetches the
   * other: compose asks /info first (`config`, and `up` before it creates anything) and /version only later
   * in `up`, so at a cold start the second ~0.33 s of podman's work would otherwise sit on every first `up`'s
   * path. The sibling is asked under the very API prefix compose used.
   */
  private copyOf(url: string, withSibling = true): Promise<Copy> {
    const have = this.copies.get(url);
    if (have && this.now() - have.atMs < this.opts.ttlMs) {
      this.counts.served++;
      return Promise.resolve(have);
    }
    let pending = this.fetching.get(url);
    if (!pending) {
      pending = this.fetch(url).finally(() => this.fetching.delete(url));
      this.fetching.set(url, pending);
      if (withSibling) {
        const sibling = siblingOf(url);
        const copy = this.copies.get(sibling);
        const fresh = copy !== undefined && this.now() - copy.atMs < this.opts.ttlMs;
        if (!fresh && !this.fetching.has(sibling)) this.copyOf(sibling, false).catch(() => undefined);
      }
    }
    return pending;
  }

  private fetch(url: string): Promise<Copy> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.opts.upstreamPath, agent: this.agent, method: 'GET', path: url }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('error', reject);
        answer.on('end', () => {
          const copy = { status: answer.statusCode ?? 502, headers: endToEnd(answer.rawHeaders), body: Buffer.concat(chunks), atMs: this.now() };
          this.counts.fetched++;
          // only a good answer is kept: an error must be asked again next time
          if (copy.status === 200) this.copies.set(url, copy);
          else this.copies.delete(url);
          resolve(copy);
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** attach/exec hijack the connection (101 Switching Protocols): from there on it is bytes both ways. */
  private onUpgrade(req: IncomingMessage, client: Socket, head: Buffer): void {
    this.opts.onRequest?.(req.method ?? 'GET', req.url ?? '/');
    const upstream = connect(this.opts.upstreamPath);
    const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.on('connect', () => {
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    this.tunnels.add(client).add(upstream);
    const close = () => {
      upstream.destroy();
      client.destroy();
      this.tunnels.delete(client);
      this.tunnels.delete(upstream);
    };
    upstream.on('error', close);
    client.on('error', close);
    upstream.on('close', close);
    client.on('close', close);
  }
}

/** rawHeaders without the hop-by-hop ones, as the flat [name, value, …] list node takes. */
function endToEnd(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1] ?? '');
  }
  return out;
}

/** connect-level failures: podman's socket is missing, refused or not ours (nothing was answered) */
const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES', 'ECONNRESET', 'EPIPE']);

function badGateway(res: ServerResponse, err: unknown): void {
  // Podman not there: close without an answer, as podman's own socket would, so compose and podman's wrapper
  // say what they say when podman is down ("Cannot connect to Podman", "Cannot connect to the Docker
  // daemon") and stackd's reasons stay podman-unreachable, not a relay's 502.
  if (res.headersSent || UNREACHABLE.has((err as NodeJS.ErrnoException | undefined)?.code ?? '')) {
    res.socket?.destroy();
    res.destroy();
    return;
  }
  const message = `podman's API socket did not answer through stackd's relay: ${err instanceof Error ? err.message : String(err)}`;
  res.writeHead(502, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ message, cause: message, response: 502 }));
}

/**
 * A socket left by a stackd that died may be removed; one something still listens on (another stackd's relay,
 * whose compose runs would lose podman) and anything else at the path are refused, never deleted.
 */
async function removeStaleSocket(p: string): Promise<void> {
  const st = await lstat(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (!st.isSocket()) {
    throw new Error(`${p} exists and is not a socket (stackd's podman relay would listen there); move it away or set podman.composeInfoCache: 0`);
  }
  if (await accepts(p)) {
    throw new Error(`${p}: another process listens there (another stackd's podman relay?); stop it, or give this stackd its own api.socket directory`);
  }
  await rm(p, { force: true });
}

/** Whether a listener accepts connections on the unix socket `p` (a stale file refuses them). */
function accepts(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(p);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}
