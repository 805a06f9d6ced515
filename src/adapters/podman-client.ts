// THE one place that talks to the podman API socket (libpod API, v5 paths). Answers are returned raw
// (`unknown`): turning them into domain types is the core's job (src/core/podman-parse.ts). Transport problems
// become PodmanUnreachableError / PodmanTimeoutError, non-2xx answers PodmanApiError with podman's message.
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { PodmanPort } from '../supervisor/ports.js';
import {
  InvalidOptionError, PodmanApiError, PodmanBadResponseError, PodmanTimeoutError, PodmanUnreachableError,
} from './errors.js';

export interface PodmanClientOptions {
  /** absolute path of the rootless API socket, e.g. /run/user/1000/podman/podman.sock */
  socketPath: string;
  /** per request: time to the response headers and between body chunks. Default 30 s. */
  requestTimeoutMs?: number;
  /** at most this many sockets to podman at once (each events stream holds one). Default 8. */
  connections?: number;
}

export interface ListContainersOptions {
  all?: boolean;
  filters?: { label?: string[] };
}

export interface EventsOptions {
  signal?: AbortSignal;
  /** libpod filters, e.g. { type: ['container'] } */
  filters?: Record<string, string[]>;
  /**
   * Called once when podman ANSWERED (2xx status and headers), before any event: the stream is up. libpod sends the
   * headers at once, and a quiet host may send no event for hours, so this, not the first event, says "connected".
   */
  onOpen?: () => void;
}

type Method = 'GET' | 'POST' | 'DELETE';
interface Answer {
  status: number;
  body: Dispatcher.ResponseData['body'];
}

const API = '/v5.0.0/libpod';
const DEFAULT_TIMEOUT_MS = 30_000;
const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export class PodmanClient implements PodmanPort {
  readonly socketPath: string;
  private readonly timeoutMs: number;
  private readonly pool: Pool;

  constructor(opts: PodmanClientOptions) {
    if (typeof opts?.socketPath !== 'string' || !path.isAbsolute(opts.socketPath)) {
      throw new InvalidOptionError('socketPath', 'an absolute path to the podman API socket', opts?.socketPath);
    }
    const timeout = opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new InvalidOptionError('requestTimeoutMs', 'a number of milliseconds above 0', opts.requestTimeoutMs);
    }
    const connections = opts.connections ?? 8;
    if (!Number.isInteger(connections) || connections < 1) {
      throw new InvalidOptionError('connections', 'an integer from 1 and up', opts.connections);
    }
    this.socketPath = opts.socketPath;
    this.timeoutMs = timeout;
    // a Pool, not a Client: one Client is one connection, and a long-lived events stream would block it
    this.pool = new Pool('http://podman', { socketPath: opts.socketPath, connections });
  }

  /** "OK" when podman answers */
  async ping(): Promise<string> {
    const a = await this.request('GET', '/_ping');
    return a.body.text();
  }

  async version(): Promise<unknown> {
    return this.json('GET', '/version');
  }

  async listContainers(opts: ListContainersOptions = {}): Promise<unknown[]> {
    const query: Record<string, string> = { all: String(opts.all ?? true) };
    if (opts.filters?.label?.length) query.filters = JSON.stringify({ label: opts.filters.label });
    return this.jsonArray('GET', `/containers/json?${new URLSearchParams(query)}`);
  }

  /** Containers labelled by docker-compose or podman-compose for the project; concatenated raw, not deduped. */
  async listProjectContainers(project: string): Promise<unknown[]> {
    const [docker, podman] = await Promise.all([
      this.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } }),
      this.listContainers({ all: true, filters: { label: [`io.podman.compose.project=${project}`] } }),
    ]);
    return [...docker, ...podman];
  }

  /** Raw inspect JSON, or undefined when the container no longer exists (404). */
  async inspectContainer(id: string): Promise<unknown> {
    const a = await this.request('GET', `/containers/${enc(id)}/json`, { okStatus: [404] });
    if (a.status === 404) return drain(a, undefined);
    return this.readJson('GET', `/containers/${enc(id)}/json`, a);
  }

  /** Resolves once stopped; already stopped (304) and gone (404) count as stopped. */
  async stopContainer(id: string, timeoutS: number): Promise<void> {
    if (!Number.isInteger(timeoutS) || timeoutS < 0) throw new InvalidOptionError('timeoutS', 'an integer from 0 and up', timeoutS);
    // podman waits up to timeoutS before SIGKILL: the request may take that long
    const a = await this.request('POST', `/containers/${enc(id)}/stop?timeout=${timeoutS}`, {
      okStatus: [304, 404],
      timeoutMs: timeoutS * 1000 + this.timeoutMs,
    });
    await a.body.dump();
  }

  /** true when removed; false when it was already gone (404). */
  async removeContainer(id: string, opts: { force?: boolean } = { force: true }): Promise<boolean> {
    const a = await this.request('DELETE', `/containers/${enc(id)}?force=${String(opts.force ?? true)}`, { okStatus: [404] });
    return drain(a, a.status < 300);
  }

  /** Runs the healthcheck now. Raw { Status, FailingStreak, Log }; 409 (PodmanApiError) when it has none. */
  async runHealthcheck(id: string, timeoutMs?: number): Promise<unknown> {
    const p = `/containers/${enc(id)}/healthcheck`;
    const a = await this.request('GET', p, { timeoutMs: timeoutMs ?? this.timeoutMs });
    return this.readJson('GET', p, a);
  }

  async listImages(): Promise<unknown[]> {
    return this.jsonArray('GET', '/images/json');
  }

  /** Raw removal report, or undefined when the image was already gone (404). 409 (in use) is a PodmanApiError. */
  async removeImage(id: string): Promise<unknown> {
    const p = `/images/${enc(id)}`;
    const a = await this.request('DELETE', p, { okStatus: [404] });
    if (a.status === 404) return drain(a, undefined);
    return this.readJson('DELETE', p, a);
  }

  async imageExists(ref: string): Promise<boolean> {
    const a = await this.request('GET', `/images/${enc(ref)}/exists`, { okStatus: [404] });
    return drain(a, a.status < 300);
  }

  /**
   * libpod's event stream (newline-delimited JSON), one raw event per item. The request is made on the first
   * next(); `onOpen` fires when podman answered it. Ends when podman closes the stream or the signal aborts
   * (quietly); connection loss throws PodmanUnreachableError. No body timeout: the stream may be silent for hours.
   */
  async *events(opts: EventsOptions = {}): AsyncIterable<unknown> {
    const query = new URLSearchParams({ stream: 'true' });
    if (opts.filters) query.set('filters', JSON.stringify(opts.filters));
    const p = `/events?${query}`;
    let answer: Answer;
    try {
      answer = await this.request('GET', p, { signal: opts.signal, bodyTimeoutMs: 0 });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    const decoder = new StringDecoder('utf8');
    let pending = '';
    try {
      // inside the try: whatever the callback does, the finally below frees the connection
      opts.onOpen?.();
      for await (const chunk of answer.body as AsyncIterable<Buffer>) {
        pending += decoder.write(chunk);
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) yield parseLine('GET', p, line);
        }
      }
      const rest = (pending + decoder.end()).trim();
      if (rest) yield parseLine('GET', p, rest);
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw this.translate(err, 'GET', p, 0);
    } finally {
      // the consumer stopped early (break/return): free the connection
      if (!answer.body.destroyed) answer.body.destroy();
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async json(method: Method, p: string): Promise<unknown> {
    return this.readJson(method, p, await this.request(method, p));
  }

  private async jsonArray(method: Method, p: string): Promise<unknown[]> {
    const v = await this.json(method, p);
    if (!Array.isArray(v)) throw new PodmanBadResponseError(method, API + p, 'expected a JSON array');
    return v;
  }

  private async readJson(method: Method, p: string, a: Answer): Promise<unknown> {
    const text = await a.body.text();
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new PodmanBadResponseError(method, API + p, `not JSON: ${text.slice(0, 200)}`, { cause: err });
    }
  }

  /** One request; non-2xx (except okStatus) become PodmanApiError after reading podman's error body. */
  private async request(
    method: Method,
    p: string,
    o: { okStatus?: number[]; timeoutMs?: number; bodyTimeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Answer> {
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({
        method,
        path: API + p,
        headersTimeout: timeoutMs,
        bodyTimeout: o.bodyTimeoutMs ?? timeoutMs,
        signal: o.signal,
      });
    } catch (err) {
      throw this.translate(err, method, p, timeoutMs);
    }
    const status = res.statusCode;
    if ((status >= 200 && status < 300) || o.okStatus?.includes(status)) return { status, body: res.body };
    const text = await res.body.text().catch(() => '');
    const { message, cause } = podmanErrorBody(text);
    throw new PodmanApiError(status, method, API + p, message || `HTTP ${status}`, cause);
  }

  private translate(err: unknown, method: Method, p: string, timeoutMs: number): unknown {
    const code = errCode(err);
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new PodmanTimeoutError(method, API + p, timeoutMs, { cause: err });
    }
    if (code !== undefined && UNREACHABLE_CODES.has(code)) return new PodmanUnreachableError(this.socketPath, { cause: err });
    return err;
  }

  // --- networks (a stack that left the config is brought down through its project label) ---

  /** Names of the networks docker-compose or podman-compose labelled with the project. */
  async listProjectNetworks(project: string): Promise<string[]> {
    const lists = await Promise.all(['com.docker.compose.project', 'io.podman.compose.project'].map((label) =>
      this.jsonArray('GET', `/networks/json?${new URLSearchParams({ filters: JSON.stringify({ label: [`${label}=${project}`] }) })}`)));
    const names = lists.flat().map((n) => (typeof n === 'object' && n !== null && 'name' in n && typeof n.name === 'string' ? n.name : ''));
    return [...new Set(names.filter(Boolean))];
  }

  /** true when removed; false when it was already gone (404). 409 (in use) is a PodmanApiError. */
  async removeNetwork(name: string): Promise<boolean> {
    const a = await this.request('DELETE', `/networks/${enc(name)}`, { okStatus: [404] });
    return drain(a, a.status < 300);
  }

  // --- host facts for stackctl check ---

  /** Raw GET /libpod/info; `stackctl check` reads host.databaseBackend ("sqlite" | "boltdb") from it. */
  async info(): Promise<unknown> {
    return this.json('GET', '/info');
  }
}

function parseLine(method: Method, p: string, line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new PodmanBadResponseError(method, API + p, `event line is not JSON: ${line.slice(0, 200)}`, { cause: err });
  }
}

/** libpod errors look like {"cause":"no such container","message":"no container with …","response":404} */
function podmanErrorBody(text: string): { message: string; cause?: string } {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object') {
      const message = 'message' in v && typeof v.message === 'string' ? v.message : '';
      const cause = 'cause' in v && typeof v.cause === 'string' ? v.cause : undefined;
      if (message || cause) return { message: message || cause || '', cause };
    }
  } catch {
    // not JSON: use the text itself
  }
  return { message: text.trim().slice(0, 500) };
}

async function drain<T>(a: Answer, value: T): Promise<T> {
  await a.body.dump();
  return value;
}

function errCode(err: unknown): string | undefined {
  // undici may wrap the socket error; look one level down as well
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    if ('code' in e && typeof e.code === 'string') {
      if (UNREACHABLE_CODES.has(e.code) || e.code.startsWith('UND_ERR_HEADERS') || e.code.startsWith('UND_ERR_BODY')) return e.code;
    }
  }
  return undefined;
}

const enc = encodeURIComponent;
