// stackctl's side of the HTTP API: requests over the daemon's unix socket with node's own http client (undici
// cost a quarter of a second to load, on every run), answers checked by the guards in answers.ts (the same shapes
// the daemon serializes with) and cleaned of terminal controls once decoded (core/terminal-text.ts).
import type { ClientRequest } from 'node:http';
import type { StackStatus } from '../core/model.js';
import type { Job, StackAction } from '../supervisor/api.js';
import { isErrorBody, isJobEnvelope, isStackList, isStackStatus } from './answers.js';
import type { Guard } from './answers.js';
import { AnswerTimeoutError, ApiError, DaemonUnreachableError } from './errors.js';
import { stripControls, stripControlsDeep } from '../core/terminal-text.js';

export { AnswerTimeoutError, ApiError, DaemonUnreachableError };

// Not `import { request } from 'node:http'`: an ESM import of a built-in evaluates all its exports for the
// namespace, and node:http's lazy WebSocket/CloseEvent/MessageEvent getters load node's bundled undici with
// crypto, tls, http2 and zlib: ~25 ms of a ~50 ms run. getBuiltinModule hands over the CommonJS exports as they are.
const { request } = process.getBuiltinModule('node:http');
const { connect } = process.getBuiltinModule('node:net');

const CONNECT_ERRORS = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK', 'ECONNRESET', 'EPERM']);

/**
 * How long stackd may keep stackctl waiting for (the rest of) an answer before stackctl gives up on it. Long-polls
 * last at most 60 s server-side; this leaves room and never cuts a job off, because the CLI follows a job with many
 * short polls. (undici's header and body timeouts, which stackctl used before, were 300 s too.)
 */
export const ANSWER_TIMEOUT_MS = 300_000;

export interface StackdClientOptions {
  answerTimeoutMs?: number;
}

export class StackdClient {
  readonly #answerTimeoutMs: number;
  readonly #inFlight = new Set<ClientRequest>();

  constructor(readonly socketPath: string, options: StackdClientOptions = {}) {
    this.#answerTimeoutMs = options.answerTimeoutMs ?? ANSWER_TIMEOUT_MS;
  }

  /** Ends any request still in flight (none once a command has finished: each connection closes with its answer). */
  async close(): Promise<void> {
    for (const req of this.#inFlight) req.destroy();
    this.#inFlight.clear();
  }

  async listStacks(): Promise<StackStatus[]> {
    return (await this.#call('GET', '/v1/stacks', isStackList)).stacks;
  }

  async getStack(name: string): Promise<StackStatus> {
    return this.#call('GET', `/v1/stacks/${encodeURIComponent(name)}`, isStackStatus);
  }

  async requestAction(name: string, action: StackAction): Promise<Job> {
    return (await this.#call('POST', `/v1/stacks/${encodeURIComponent(name)}/${action}`, isJobEnvelope)).job;
  }

  async startJob(kind: 'check' | 'gc' | 'update', stack?: string, options: { dryRun?: boolean } = {}): Promise<Job> {
    const body = { ...(stack === undefined ? {} : { stack }), ...(kind === 'update' && options.dryRun ? { dryRun: true } : {}) };
    return (await this.#call('POST', `/v1/${kind}`, isJobEnvelope, body)).job;
  }

  /** Long-poll: the job once it is finished, or its current state after `waitMs`. */
  async getJob(id: string, waitMs: number): Promise<Job> {
    return (await this.#call('GET', `/v1/jobs/${encodeURIComponent(id)}?wait=${waitMs}`, isJobEnvelope)).job;
  }

  async #call<T>(method: 'GET' | 'POST', path: string, guard: Guard<T>, body?: object): Promise<T> {
    const res = await this.#send(method, path, body);
    let json: unknown;
    try {
      // after decoding, not before: JSON's "\u001b" becomes an escape only here
      json = stripControlsDeep(JSON.parse(res.text));
    } catch {
      throw new ApiError(res.status, 'bad-response', `stackd answered ${method} ${path} with HTTP ${res.status} and no JSON: ${stripControls(res.text.slice(0, 200))}`);
    }
    if (res.status >= 400) {
      if (isErrorBody(json)) throw new ApiError(res.status, json.error.code, json.error.message);
      throw new ApiError(res.status, 'bad-response', `stackd answered ${method} ${path} with HTTP ${res.status}`);
    }
    if (!guard(json)) {
      throw new ApiError(res.status, 'bad-response', `unexpected answer from stackd to ${method} ${path} (are stackctl and stackd the same version?)`);
    }
    return json;
  }

  /**
   * One request on its own connection (`Connection: close`: no idle keep-alive socket for stackd to close under a
   * later poll), the whole answer as text. Failing to connect is DaemonUnreachableError; no answer, or a stalled
   * one, for answerTimeoutMs is AnswerTimeoutError.
   */
  #send(method: 'GET' | 'POST', path: string, body: object | undefined): Promise<{ status: number; text: string }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // POST always says its length: without one node would send an empty chunked body, which fastify refuses
    const headers: Record<string, string | number> = { host: 'stackd' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST') headers['content-length'] = payload === undefined ? 0 : Buffer.byteLength(payload);
    return new Promise((resolve, reject) => {
      let answered = false;
      // no agent: the connection is ours alone and closes with the answer (the agent's bookkeeping costs start-up)
      const req = request({ method, path, headers, createConnection: () => connect(this.socketPath) });
      this.#inFlight.add(req);
      const fail = (err: Error) => {
        this.#inFlight.delete(req);
        reject(err);
      };
      req.setTimeout(this.#answerTimeoutMs, () => {
        const err = new AnswerTimeoutError(method, path, this.#answerTimeoutMs);
        fail(err); // before destroy: the aborted answer's own error must not be the one reported
        req.destroy(err);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!answered && err.code && CONNECT_ERRORS.has(err.code)) fail(new DaemonUnreachableError(this.socketPath, err.code, { cause: err }));
        else fail(err);
      });
      req.on('response', (res) => {
        answered = true;
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => { text += chunk; });
        res.on('error', fail);
        res.on('end', () => {
          this.#inFlight.delete(req);
          resolve({ status: res.statusCode ?? 0, text });
        });
      });
      req.end(payload);
    });
  }
}
