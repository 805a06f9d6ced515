// What a notifier send can fail with. Each names the notifier kind and its URL without credentials, and says
// what to do; none carries a token (the dispatcher logs these, and logs leave the host).
import { StackdError } from '../../core/errors.js';

export type NotifierKind = 'gotify' | 'ntfy' | 'webhook';

/** The token file is missing, unreadable or empty. Names the file, never its contents. */
export class NotifierTokenFileError extends StackdError {
  constructor(readonly kind: NotifierKind, readonly file: string, problem: string, options?: { cause?: unknown }) {
    super(
      'STACKD_NOTIFY_TOKEN_FILE',
      `${kind} notifier: token file ${file} ${problem}; write the token into it (one line), readable by the user stackd runs as, ` +
        `or fix tokenFile in the config`,
      options,
    );
  }
}

/** The server answered, but not with 2xx. `detail` is the start of its answer, with every secret replaced. */
export class NotifierHttpError extends StackdError {
  constructor(readonly kind: NotifierKind, readonly target: string, readonly statusCode: number, detail: string, hint: string) {
    super('STACKD_NOTIFY_HTTP', `${kind} notifier: POST ${target} answered ${statusCode}${detail ? ` (${detail})` : ''}; ${hint}`);
  }
}

/** No answer within the notifier's timeout. */
export class NotifierTimeoutError extends StackdError {
  constructor(readonly kind: NotifierKind, readonly target: string, readonly timeoutMs: number, options?: { cause?: unknown }) {
    super('STACKD_NOTIFY_TIMEOUT', `${kind} notifier: POST ${target} did not answer within ${timeoutMs} ms; is the server up and the URL right?`, options);
  }
}

/** The request did not get through at all (DNS, refused, reset, TLS). `why` is the low-level code. */
export class NotifierUnreachableError extends StackdError {
  constructor(readonly kind: NotifierKind, readonly target: string, why: string, options?: { cause?: unknown }) {
    super('STACKD_NOTIFY_UNREACHABLE', `${kind} notifier: cannot reach ${target} (${why}); is the server up and the URL right?`, options);
  }
}
