// THE connection to podman's API socket: dockerode, the engine client the owner chose, over a private
// http.Agent (so close() can free its sockets and `connections` caps them). Two ways in, both under a Lifeline
// (deadline + caller's signal) and both mapped onto the adapter errors:
//   call()  — dockerode's typed methods, where the Docker-compatible endpoint means what libpod's does;
//   open()  — docker-modem's dial, for libpod paths dockerode does not cover (their answers are libpod-shaped,
//             and the core parses libpod). Every status comes back to us with the live body, so podman's error
//             body (message AND cause) is read here, and bodies are read with a timeout between chunks.
import { Agent, IncomingMessage } from 'node:http';
import { stringify } from 'node:querystring';
import { inspect } from 'node:util';
import Docker from 'dockerode';
import { podmanErrorBody, toBuffer } from './podman-body.js';
import { Lifeline } from './podman-lifeline.js';
import {
  PodmanApiError, PodmanBadResponseError, PodmanTimeoutError, PodmanUnreachableError,
} from './errors.js';

export type Method = 'GET' | 'POST' | 'DELETE';

/** libpod paths, versioned as podman 5 serves them (what the client has always used). */
export const LIBPOD = '/v5.0.0/libpod';

/** What an error names: the method and the path with its query, as sent. */
export interface Where {
  method: Method;
  path: string;
}

export interface OpenRequest {
  method: Method;
  /** absolute API path, segments already percent-encoded, no query */
  path: string;
  query?: Record<string, string>;
  /** statuses besides 2xx that the caller handles itself (404 gone, 304 not modified) */
  okStatus?: number[];
  /** time to the response headers; default the client's request timeout */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** An answer whose headers arrived; the caller reads `body` (readAll / textLines) and must end `life`. */
export interface Opened {
  status: number;
  body: IncomingMessage;
  where: Where;
  life: Lifeline;
}

/**
 * The part of dockerode stackd uses, typed as dockerode 5 behaves: ping() and version() take { abortSignal }
 * (lib/docker.js) though @types/dockerode 4 declares them without options. `new Docker()` is checked against it.
 */
interface Engine {
  ping(opts: { abortSignal: AbortSignal }): Promise<unknown>;
  version(opts: { abortSignal: AbortSignal }): Promise<unknown>;
  getContainer(id: string): {
    stop(opts: { t: number; abortSignal: AbortSignal }): Promise<unknown>;
    remove(opts: { force: boolean; abortSignal: AbortSignal }): Promise<unknown>;
  };
  getNetwork(id: string): { remove(opts: { abortSignal: AbortSignal }): Promise<unknown> };
  modem: Docker['modem'];
}

type DialOptions = Parameters<Docker['modem']['dial']>[0];

/**
 * docker-modem merges DOCKER_HOST, DOCKER_CLIENT_TIMEOUT, DOCKER_CERT_PATH … from the environment UNDER these
 * options. A podman host often exports DOCKER_HOST for compose; it must not redirect stackd (a tcp:// host would
 * win over socketPath) nor arm a client-wide timeout that cuts the events stream. So every key it may read is
 * set here. `agent` is a docker-modem option that dockerode passes through (its typings omit it).
 */
interface ModemOptions {
  socketPath: string;
  agent: Agent;
  protocol: 'http';
  host: undefined;
  port: undefined;
  pathPrefix: undefined;
  username: undefined;
  ca: undefined;
  cert: undefined;
  key: undefined;
  timeout: undefined;
  version: undefined;
}

/**
 * docker-modem's dial() runs util.inspect(requestOptions, { showHidden: true, depth: null }) on EVERY request for
 * a debug line, whether or not debugging is on, and the options hold the agent with all its sockets and queued
 * requests: measured with 8 sockets, 100 parallel requests waited 1.6 s before the first byte left (about 16 ms
 * each, growing with the queue), against 20 ms when the agent prints as one word.
 */
class PodmanAgent extends Agent {
  [inspect.custom](): string {
    return '[http.Agent for the podman socket]';
  }
}

const EVERY_STATUS: Record<number, true> = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [i + 100, true]));
const UNREACHABLE_CODES = new Set([
  'ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EPIPE', 'ENOTSOCK', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_CLIENT_CLOSED',
]);

export class PodmanTransport {
  readonly docker: Engine;
  private readonly agent: Agent;
  private inflight = 0;
  private closing?: { promise: Promise<void>; resolve: () => void };

  constructor(readonly socketPath: string, readonly timeoutMs: number, connections: number) {
    // keep-alive like the undici Pool it replaces; idle sockets are dropped after 4 s (undici's default), before
    // podman's own idle cut, so a request never lands on a socket podman is closing
    this.agent = new PodmanAgent({ keepAlive: true, maxSockets: connections, timeout: 4_000 });
    const options: ModemOptions = {
      socketPath, agent: this.agent, protocol: 'http', host: undefined, port: undefined, pathPrefix: undefined,
      username: undefined, ca: undefined, cert: undefined, key: undefined, timeout: undefined, version: undefined,
    };
    this.docker = new Docker(options);
  }

  /**
   * A dockerode method under the deadline. Resolves { value } on success, or { status } when podman answered one
   * of okStatus (dockerode rejects those: 304 on stop, 404 on remove).
   */
  async call(
    where: Where,
    run: (abortSignal: AbortSignal) => Promise<unknown>,
    o: { okStatus?: number[]; timeoutMs?: number } = {},
  ): Promise<{ value: unknown } | { status: number }> {
    const life = this.begin();
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    // a typed call buffers its answer: the countdown covers headers and body (all small: empty or one object)
    life.countdown(timeoutMs);
    try {
      return { value: await life.race(run(life.signal)) };
    } catch (err) {
      const status = modemStatus(err);
      if (status !== undefined && o.okStatus?.includes(status) && !life.timedOutAfter) return { status };
      throw this.translate(err, life, where, timeoutMs);
    } finally {
      life.end();
    }
  }

  /** One libpod request; resolves once the headers arrived with 2xx or okStatus, else throws PodmanApiError. */
  async open(req: OpenRequest): Promise<Opened> {
    const where: Where = { method: req.method, path: req.query ? `${req.path}?${stringify(req.query)}` : req.path };
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const life = this.begin(req.signal);
    life.countdown(timeoutMs);
    let body: IncomingMessage;
    try {
      body = await life.race(this.dial(req, life.signal));
    } catch (err) {
      life.end();
      throw this.translate(err, life, where, timeoutMs);
    }
    const opened: Opened = { status: body.statusCode ?? 0, body, where, life };
    if ((opened.status >= 200 && opened.status < 300) || req.okStatus?.includes(opened.status)) {
      life.countdown(0);
      return opened;
    }
    const text = await this.readAll(opened).catch(() => Buffer.alloc(0));
    const { message, cause } = podmanErrorBody(text);
    throw new PodmanApiError(opened.status, where.method, where.path, message || `HTTP ${opened.status}`, cause);
  }

  /**
   * The whole body; each chunk must come within `idleMs` (0: no limit). Ends the request. A connection that
   * drops before the body is complete is PodmanUnreachableError, never a short answer.
   */
  async readAll(o: Opened, idleMs = this.timeoutMs): Promise<Buffer> {
    const chunks: Buffer[] = [];
    try {
      o.life.countdown(idleMs);
      for await (const chunk of o.body) {
        chunks.push(toBuffer(chunk));
        o.life.countdown(idleMs);
      }
      this.assertComplete(o);
      return Buffer.concat(chunks);
    } catch (err) {
      throw this.translate(err, o.life, o.where, idleMs);
    } finally {
      o.life.end();
    }
  }

  /** The body as JSON (PodmanBadResponseError when it is not). */
  async json(o: Opened): Promise<unknown> {
    const text = (await this.readAll(o)).toString('utf8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new PodmanBadResponseError(o.where.method, o.where.path, `not JSON: ${text.slice(0, 200)}`, { cause: err });
    }
  }

  /** Reads and forgets the body (keeps the connection reusable), then ends the request. */
  async discard(o: Opened): Promise<void> {
    await this.readAll(o);
  }

  /** Throws PodmanUnreachableError when the body ended because the connection did, not because podman finished. */
  assertComplete(o: Opened): void {
    if (!o.body.complete) {
      throw new PodmanUnreachableError(this.socketPath, { cause: Object.assign(new Error('connection closed mid-answer'), { code: 'ECONNRESET' }) });
    }
  }

  /** Maps a failure onto the adapter errors by why the request ended: our deadline, the caller, podman, the socket. */
  translate(err: unknown, life: Lifeline, where: Where, timeoutMs: number): unknown {
    if (err instanceof PodmanApiError || err instanceof PodmanBadResponseError || err instanceof PodmanTimeoutError
      || err instanceof PodmanUnreachableError) return err;
    if (life.timedOutAfter) return new PodmanTimeoutError(where.method, where.path, timeoutMs, { cause: err });
    if (life.abortedByCaller) return life.callerReason;
    const status = modemStatus(err);
    if (status !== undefined) {
      const { message, cause } = podmanErrorBody(modemBody(err));
      return new PodmanApiError(status, where.method, where.path, message || `HTTP ${status}`, cause);
    }
    const code = errnoCode(err);
    if (code !== undefined && UNREACHABLE_CODES.has(code)) return new PodmanUnreachableError(this.socketPath, { cause: causeWithCode(err) });
    return err;
  }

  /** Lets the requests under way finish (like the undici Pool before it), then frees every socket. */
  async close(): Promise<void> {
    if (!this.closing) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => { resolve = r; });
      this.closing = { promise, resolve };
      if (this.inflight === 0) resolve();
    }
    await this.closing.promise;
    this.agent.destroy();
  }

  private begin(signal?: AbortSignal): Lifeline {
    if (this.closing) {
      throw new PodmanUnreachableError(this.socketPath, { cause: Object.assign(new Error('the podman client was closed'), { code: 'ERR_CLIENT_CLOSED' }) });
    }
    this.inflight++;
    return new Lifeline(signal, () => {
      this.inflight--;
      if (this.inflight === 0) this.closing?.resolve();
    });
  }

  private dial(req: OpenRequest, abortSignal: AbortSignal): Promise<IncomingMessage> {
    const options: DialOptions = {
      // docker-modem appends the query only to a path ending in "?" (and strips a lone "?")
      path: req.query ? `${req.path}?` : req.path,
      method: req.method,
      // `_query` keeps the query out of a POST body (docker-modem would also send the options as JSON), and an
      // empty `_body` is dropped: libpod's POSTs here take no body
      options: req.query ? { _query: req.query, ...(req.method === 'POST' ? { _body: {} } : {}) } : undefined,
      isStream: true,
      statusCodes: EVERY_STATUS,
      abortSignal,
    };
    return new Promise((resolve, reject) => {
      this.docker.modem.dial(options, (err, result) => {
        if (err) reject(err);
        else if (result instanceof IncomingMessage) resolve(result);
        else reject(new Error('docker-modem gave no response stream for a stream request'));
      });
    });
  }
}

/** The HTTP status docker-modem puts on the error of a typed call ("(HTTP code 404) no such container - …"). */
function modemStatus(err: unknown): number | undefined {
  return err instanceof Error && 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : undefined;
}

/** docker-modem's copy of the error body: parsed JSON, or the raw Buffer when it was not JSON. */
function modemBody(err: unknown): unknown {
  return err instanceof Error && 'json' in err ? err.json : undefined;
}

/** The first errno-like code on the error or its causes (node may wrap the socket's error once or twice). */
function errnoCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 3; depth++) {
    if ('code' in e && typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return e.code;
    e = 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}

/** The error in the chain that carries the code, so PodmanUnreachableError's message can name it. */
function causeWithCode(err: unknown): unknown {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 3; depth++) {
    if ('code' in e && typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return e;
    e = 'cause' in e ? e.cause : undefined;
  }
  return err;
}
