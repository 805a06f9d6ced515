// stackctl's side of the HTTP API: requests over the daemon's unix socket, answers checked against the same
// schemas the daemon serializes with, and cleaned of terminal controls once decoded (terminal-text.ts).
import { StackdError } from '../core/errors.js';
import { Client } from 'undici';
import { Value } from 'typebox/value';
import type { TSchema, Static } from 'typebox';
import { ErrorBodySchema, JobEnvelopeSchema, StackListSchema, StackStatusSchema } from '../http/schemas.js';
import type { StackStatus } from '../core/model.js';
import type { Job, StackAction } from '../supervisor/api.js';
import { stripControls, stripControlsDeep } from './terminal-text.js';

/** Nothing accepts connections on the socket (no daemon, stale file, wrong path, no permission). */
export class DaemonUnreachableError extends StackdError {
  constructor(readonly socketPath: string, readonly reason: string, options?: ErrorOptions) {
    super('STACKCTL_DAEMON_UNREACHABLE', `cannot reach stackd at ${socketPath} (${reason})`, options);
  }
}

/** The daemon answered with an error body: `apiCode` is its stable code (unknown-stack, bad-request, ...). */
export class ApiError extends StackdError {
  constructor(readonly status: number, readonly apiCode: string, message: string) {
    super('STACKCTL_API_ERROR', message);
  }
}

const CONNECT_ERRORS = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK', 'ECONNRESET', 'EPERM']);

export class StackdClient {
  readonly #client: Client;

  constructor(readonly socketPath: string) {
    // Long-polls last at most 60 s server-side; the defaults (300 s) leave room and never cut a job off,
    // because the CLI follows a job with many short polls.
    this.#client = new Client('http://stackd', { socketPath });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  async listStacks(): Promise<StackStatus[]> {
    return (await this.#call('GET', '/v1/stacks', StackListSchema)).stacks;
  }

  async getStack(name: string): Promise<StackStatus> {
    return this.#call('GET', `/v1/stacks/${encodeURIComponent(name)}`, StackStatusSchema);
  }

  async requestAction(name: string, action: StackAction): Promise<Job> {
    return (await this.#call('POST', `/v1/stacks/${encodeURIComponent(name)}/${action}`, JobEnvelopeSchema)).job;
  }

  async startJob(kind: 'check' | 'gc' | 'update', stack?: string, options: { dryRun?: boolean } = {}): Promise<Job> {
    const body = { ...(stack === undefined ? {} : { stack }), ...(kind === 'update' && options.dryRun ? { dryRun: true } : {}) };
    return (await this.#call('POST', `/v1/${kind}`, JobEnvelopeSchema, body)).job;
  }

  /** Long-poll: the job once it is finished, or its current state after `waitMs`. */
  async getJob(id: string, waitMs: number): Promise<Job> {
    return (await this.#call('GET', `/v1/jobs/${encodeURIComponent(id)}?wait=${waitMs}`, JobEnvelopeSchema)).job;
  }

  async #call<S extends TSchema>(method: 'GET' | 'POST', path: string, schema: S, body?: object): Promise<Static<S>> {
    let res;
    try {
      res = await this.#client.request({
        method,
        path,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code && CONNECT_ERRORS.has(code)) throw new DaemonUnreachableError(this.socketPath, code, { cause: err });
      throw err;
    }
    const text = await res.body.text();
    let json: unknown;
    try {
      // after decoding, not before: JSON's "\u001b" becomes an escape only here
      json = stripControlsDeep(JSON.parse(text));
    } catch {
      throw new ApiError(res.statusCode, 'bad-response', `stackd answered ${method} ${path} with HTTP ${res.statusCode} and no JSON: ${stripControls(text.slice(0, 200))}`);
    }
    if (res.statusCode >= 400) {
      if (Value.Check(ErrorBodySchema, json)) throw new ApiError(res.statusCode, json.error.code, json.error.message);
      throw new ApiError(res.statusCode, 'bad-response', `stackd answered ${method} ${path} with HTTP ${res.statusCode}`);
    }
    if (!Value.Check(schema, json)) {
      throw new ApiError(res.statusCode, 'bad-response', `unexpected answer from stackd to ${method} ${path} (are stackctl and stackd the same version?)`);
    }
    return json;
  }
}
