// The errors stackctl's client throws, apart from the client itself: the entry point matches on them for every
// command (exit codes), and must not load node:http to do so (`--help` and usage errors load no client).
import { StackdError } from '../core/errors.js';

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

/** stackd took the request but sent no answer (or stopped sending one) for this long: exit 1, like any failure. */
export class AnswerTimeoutError extends StackdError {
  constructor(readonly method: string, readonly path: string, readonly timeoutMs: number) {
    super('STACKCTL_ANSWER_TIMEOUT', `stackd did not answer ${method} ${path} within ${timeoutMs / 1000}s`);
  }
}
