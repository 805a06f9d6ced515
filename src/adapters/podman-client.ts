// THE one client of the podman API socket (PodmanPort and ImagePort), on dockerode — the owner's choice of engine
// client, so stackd has one engine library instead of a hand-rolled HTTP client per feature. Answers are returned
// raw (`unknown`): turning them into domain types is the core's job (src/core/podman-parse.ts). Transport problems
// become PodmanUnreachableError / PodmanTimeoutError, non-2xx answers PodmanApiError with podman's message.
//
// Which endpoint each method uses, and why (podman's compat and libpod routes are separate handlers):
// - dockerode's typed calls (Docker-compatible routes) where podman runs the SAME handler with the same meaning:
//   ping, version, stop (compat `t` = libpod `timeout`; 304 when already stopped), container rm, network rm.
// - libpod routes through docker-modem's dial where the compat answer differs in shape or meaning: the
//   container list/inspect (libpod carries health in the list, ImageName, bare image ids — what the core parses),
//   the image list and removal report, image exists/inspect/pull/tag (compat tag normalizes short names to
//   docker.io), healthcheck run, info, events (compat renames `died` to `die` and buffers the stream), the network
//   list (compat inspects every container's network state per call), and logs (see containerLogs).
import path from 'node:path';
import type { ImagePort, PodmanPort } from '../supervisor/ports.js';
import { textLines } from './podman-body.js';
import { containerLogs, inspectImage, pullImage, tagImage } from './podman-images.js';
import { LIBPOD, PodmanTransport } from './podman-transport.js';
import type { Method, Opened } from './podman-transport.js';
import { InvalidOptionError, PodmanBadResponseError } from './errors.js';

export interface PodmanClientOptions {
  /** absolute path of the rootless API socket, e.g. /run/user/1000/podman/podman.sock */
  socketPath: string;
  /**
   * per request: time to the response headers and between body chunks (dockerode's typed calls, whose answers
   * are empty or one small object, get it for the whole exchange). Default 30 s.
   */
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

const DEFAULT_TIMEOUT_MS = 30_000;

export class PodmanClient implements PodmanPort, ImagePort {
  readonly socketPath: string;
  private readonly t: PodmanTransport;

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
    this.t = new PodmanTransport(opts.socketPath, timeout, connections);
  }

  /** "OK" when podman answers */
  async ping(): Promise<string> {
    const r = await this.t.call({ method: 'GET', path: '/_ping' }, (abortSignal) => this.t.docker.ping({ abortSignal }));
    // dockerode hands back the body as a Buffer when it is not JSON ("OK" is not)
    const v = 'value' in r ? r.value : undefined;
    return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }

  async version(): Promise<unknown> {
    const r = await this.t.call({ method: 'GET', path: '/version' }, (abortSignal) => this.t.docker.version({ abortSignal }));
    return jsonValue('GET', '/version', 'value' in r ? r.value : undefined);
  }

  async listContainers(opts: ListContainersOptions = {}): Promise<unknown[]> {
    const query: Record<string, string> = { all: String(opts.all ?? true) };
    if (opts.filters?.label?.length) query.filters = JSON.stringify({ label: opts.filters.label });
    return this.jsonArray(await this.t.open({ method: 'GET', path: `${LIBPOD}/containers/json`, query }));
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
    const o = await this.t.open({ method: 'GET', path: `${LIBPOD}/containers/${enc(id)}/json`, okStatus: [404] });
    if (o.status === 404) return this.t.discard(o).then(() => undefined);
    return this.t.json(o);
  }

  /** Resolves once stopped; already stopped (304) and gone (404) count as stopped. */
  async stopContainer(id: string, timeoutS: number): Promise<void> {
    if (!Number.isInteger(timeoutS) || timeoutS < 0) throw new InvalidOptionError('timeoutS', 'an integer from 0 and up', timeoutS);
    await this.t.call(
      { method: 'POST', path: `/containers/${enc(id)}/stop?t=${timeoutS}` },
      (abortSignal) => this.t.docker.getContainer(enc(id)).stop({ t: timeoutS, abortSignal }),
      // podman waits up to timeoutS before SIGKILL: the request may take that long
      { okStatus: [304, 404], timeoutMs: timeoutS * 1000 + this.t.timeoutMs },
    );
  }

  /** true when removed; false when it was already gone (404). */
  async removeContainer(id: string, opts: { force?: boolean } = { force: true }): Promise<boolean> {
    const force = opts.force ?? true;
    const r = await this.t.call(
      { method: 'DELETE', path: `/containers/${enc(id)}?force=${String(force)}` },
      (abortSignal) => this.t.docker.getContainer(enc(id)).remove({ force, abortSignal }),
      { okStatus: [404] },
    );
    return 'value' in r;
  }

  /** Runs the healthcheck now. Raw { Status, FailingStreak, Log }; 409 (PodmanApiError) when it has none. */
  async runHealthcheck(id: string, timeoutMs?: number): Promise<unknown> {
    return this.t.json(await this.t.open({ method: 'GET', path: `${LIBPOD}/containers/${enc(id)}/healthcheck`, timeoutMs }));
  }

  async listImages(): Promise<unknown[]> {
    return this.jsonArray(await this.t.open({ method: 'GET', path: `${LIBPOD}/images/json` }));
  }

  /** Raw removal report, or undefined when the image was already gone (404). 409 (in use) is a PodmanApiError. */
  async removeImage(id: string): Promise<unknown> {
    const o = await this.t.open({ method: 'DELETE', path: `${LIBPOD}/images/${enc(id)}`, okStatus: [404] });
    if (o.status === 404) return this.t.discard(o).then(() => undefined);
    return this.t.json(o);
  }

  async imageExists(ref: string): Promise<boolean> {
    const o = await this.t.open({ method: 'GET', path: `${LIBPOD}/images/${enc(ref)}/exists`, okStatus: [404] });
    await this.t.discard(o);
    return o.status < 300;
  }

  // --- images for the updater (ImagePort; src/adapters/podman-images.ts) ---

  inspectImage(nameOrId: string): Promise<unknown> {
    return inspectImage(this.t, nameOrId);
  }

  pullImage(reference: string, opts: { signal?: AbortSignal } = {}): Promise<string> {
    return pullImage(this.t, reference, opts);
  }

  tagImage(image: string, repo: string, tag: string): Promise<void> {
    return tagImage(this.t, image, repo, tag);
  }

  containerLogs(id: string, tail: number): Promise<string> {
    return containerLogs(this.t, id, tail);
  }

  /**
   * libpod's event stream (newline-delimited JSON), one raw event per item. The request is made on the first
   * next(); `onOpen` fires when podman answered it. Ends when podman closes the stream or the signal aborts
   * (quietly); connection loss throws PodmanUnreachableError. No body timeout: the stream may be silent for hours.
   */
  async *events(opts: EventsOptions = {}): AsyncIterable<unknown> {
    const query: Record<string, string> = { stream: 'true' };
    if (opts.filters) query.filters = JSON.stringify(opts.filters);
    let o: Opened;
    try {
      o = await this.t.open({ method: 'GET', path: `${LIBPOD}/events`, query, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    try {
      // inside the try: whatever the callback does, the finally below frees the connection
      opts.onOpen?.();
      for await (const line of textLines(o.body)) yield parseLine(o, line);
      this.t.assertComplete(o);
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw this.t.translate(err, o.life, o.where, 0);
    } finally {
      // the consumer stopped early (break/return), or the stream ended: free the connection
      o.life.end();
      if (!o.body.destroyed) o.body.destroy();
    }
  }

  /** Waits for requests under way (an events stream included: stop its consumer first), then frees the sockets. */
  async close(): Promise<void> {
    await this.t.close();
  }

  // --- networks (a stack that left the config is brought down through its project label) ---

  /** Names of the networks docker-compose or podman-compose labelled with the project. */
  async listProjectNetworks(project: string): Promise<string[]> {
    const lists = await Promise.all(['com.docker.compose.project', 'io.podman.compose.project'].map(async (label) =>
      this.jsonArray(await this.t.open({
        method: 'GET', path: `${LIBPOD}/networks/json`, query: { filters: JSON.stringify({ label: [`${label}=${project}`] }) },
      }))));
    const names = lists.flat().map((n) => (typeof n === 'object' && n !== null && 'name' in n && typeof n.name === 'string' ? n.name : ''));
    return [...new Set(names.filter(Boolean))];
  }

  /** true when removed; false when it was already gone (404). A network in use is a PodmanApiError. */
  async removeNetwork(name: string): Promise<boolean> {
    const r = await this.t.call(
      { method: 'DELETE', path: `/networks/${enc(name)}` },
      (abortSignal) => this.t.docker.getNetwork(enc(name)).remove({ abortSignal }),
      { okStatus: [404] },
    );
    return 'value' in r;
  }

  // --- host facts for stackctl check ---

  /** Raw GET /libpod/info; `stackctl check` reads host.databaseBackend ("sqlite" | "boltdb") from it. */
  async info(): Promise<unknown> {
    return this.t.json(await this.t.open({ method: 'GET', path: `${LIBPOD}/info` }));
  }

  private async jsonArray(o: Opened): Promise<unknown[]> {
    const v = await this.t.json(o);
    if (!Array.isArray(v)) throw new PodmanBadResponseError(o.where.method, o.where.path, 'expected a JSON array');
    return v;
  }
}

function parseLine(o: Opened, line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new PodmanBadResponseError(o.where.method, o.where.path, `event line is not JSON: ${line.slice(0, 200)}`, { cause: err });
  }
}

/** dockerode parses a JSON answer, and hands back the raw Buffer when it could not. */
function jsonValue(method: Method, p: string, v: unknown): unknown {
  if (Buffer.isBuffer(v)) throw new PodmanBadResponseError(method, p, `not JSON: ${v.toString('utf8').slice(0, 200)}`);
  return v;
}

const enc = encodeURIComponent;
