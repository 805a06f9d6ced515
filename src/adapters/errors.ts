// Errors the adapters throw. One base class with a stable `code` (what scripts, logs and the HTTP layer match
// on; never parse the message) and `cause` chaining (the low-level error stays attached for `{ err }` logs).
// Modelled on undici's errors: small subclasses, each code fixed by its class.

import { InvalidOptionError, StackdError } from '../core/errors.js';

export { InvalidOptionError, StackdError };

/** The podman API socket is missing, refuses connections, or dropped the connection. */
export class PodmanUnreachableError extends StackdError {
  constructor(readonly socketPath: string, options?: { cause?: unknown }) {
    const why = errnoCode(options?.cause);
    super(
      'STACKD_PODMAN_UNREACHABLE',
      `cannot reach the podman API at ${socketPath}${why ? ` (${why})` : ''}; ` +
        'is the rootless podman socket running? Fix: systemctl --user enable --now podman.socket',
      options,
    );
  }
}

/** Podman answered, with a non-2xx status. `podmanMessage` is podman's own `message` (or the body). */
export class PodmanApiError extends StackdError {
  constructor(
    readonly statusCode: number,
    readonly method: string,
    readonly path: string,
    readonly podmanMessage: string,
    readonly podmanCause?: string,
  ) {
    super('STACKD_PODMAN_API', `podman API ${method} ${path} answered ${statusCode}: ${podmanMessage}`);
  }
}

/** Podman did not answer (headers or the next body chunk) within the request timeout. */
export class PodmanTimeoutError extends StackdError {
  constructor(readonly method: string, readonly path: string, readonly timeoutMs: number, options?: { cause?: unknown }) {
    super('STACKD_PODMAN_TIMEOUT', `podman API ${method} ${path} did not answer within ${timeoutMs} ms`, options);
  }
}

/** Podman answered 2xx with a body that is not what the libpod API promises (e.g. not JSON). */
export class PodmanBadResponseError extends StackdError {
  constructor(readonly method: string, readonly path: string, detail: string, options?: { cause?: unknown }) {
    super('STACKD_PODMAN_BAD_RESPONSE', `podman API ${method} ${path} sent an unreadable answer: ${detail}`, options);
  }
}

/** A child process ran past its timeout; its process group was killed. */
export class ProcessTimeoutError extends StackdError {
  constructor(readonly argv: string[], readonly timeoutMs: number, readonly stderrTail: string) {
    super('STACKD_PROCESS_TIMEOUT', `\`${argv.join(' ')}\` did not finish within ${timeoutMs} ms and was killed`);
  }
}

/** A child process could not be started at all (executable missing, not executable, bad cwd). */
export class ProcessSpawnError extends StackdError {
  constructor(readonly argv: string[], readonly cwd: string | undefined, options?: { cause?: unknown }) {
    const why = errnoCode(options?.cause);
    super(
      'STACKD_PROCESS_SPAWN',
      `cannot start \`${argv[0] ?? ''}\`${cwd ? ` in ${cwd}` : ''}${why ? ` (${why})` : ''}; ` +
        'check that it is installed and on the PATH given to stackd',
      options,
    );
  }
}

/** A child process whose output is only meaningful on success (systemctl list/show) exited non-zero. */
export class ProcessExitError extends StackdError {
  constructor(readonly argv: string[], readonly exitCode: number | null, readonly stderrTail: string) {
    super('STACKD_PROCESS_EXIT', `\`${argv.join(' ')}\` exited with ${exitCode ?? 'a signal'}: ${lastLine(stderrTail)}`);
  }
}

/** The desired-state file exists but cannot be read as one. It is left in place for the owner to inspect. */
export class StateFileCorruptError extends StackdError {
  constructor(readonly file: string, detail: string, options?: { cause?: unknown }) {
    super(
      'STACKD_STATE_FILE_CORRUPT',
      `desired-state file ${file} is corrupt (${detail}); it was left in place. ` +
        'Fix or delete it (deleting makes every stack fall back to its default desired state), then restart stackd',
      options,
    );
  }
}

/**
 * A file a stack names exists but cannot be read for a reason the owner must fix (permissions, a symbolic-link
 * loop, a directory where a file belongs). Missing files are not errors (they are inputs too: content null).
 */
export class FileUnreadableError extends StackdError {
  constructor(readonly path: string, readonly errno: string, options?: { cause?: unknown }) {
    super('STACKD_FILE_UNREADABLE', `cannot read ${path}: ${UNREADABLE_WHY[errno] ?? errno}`, options);
  }
}

const UNREADABLE_WHY: Record<string, string> = {
  EACCES: 'permission denied (EACCES); stackd and compose run as this user and must be able to read it: fix its owner or mode, or the mode of a directory on its path',
  EPERM: 'operation not permitted (EPERM); stackd and compose run as this user and must be able to read it: fix its owner or mode',
  ELOOP: 'a loop of symbolic links (ELOOP); point the link at a real file',
  EISDIR: 'it is a directory (EISDIR); name the file inside it',
  ENAMETOOLONG: 'the path is too long (ENAMETOOLONG); use a shorter path',
};

/** The errno codes FileUnreadableError explains; any other read error is unexpected and propagates as it is. */
export const UNREADABLE_ERRNOS: readonly string[] = Object.keys(UNREADABLE_WHY);

function errnoCode(cause: unknown): string | undefined {
  if (cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string') return cause.code;
  return undefined;
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '(no stderr)';
}

/** What went wrong talking to a registry; `code` is STACKD_REGISTRY_<KIND> (see RegistryPort in ports.ts). */
export type RegistryErrorKind = 'unreachable' | 'auth' | 'not-found' | 'rate-limited' | 'protocol' | 'config';

/**
 * A registry could not answer a manifest question. The message names the registry and the reference, what was
 * expected and what to do; it never holds a credential or a token. `retryAfterMs` comes with 429 (from
 * Retry-After, when the registry sent one); `retryAtMs` (epoch ms) with a 429 whose wait the client holds to:
 * the time before which it does not ask that registry again (the message leaves saying so to the caller);
 * `status` is the HTTP status when there was an answer.
 *   unreachable  — connection refused or reset, DNS, TLS, timeouts, 5xx: try again later
 *   auth         — 401/403 after authenticating, or the token service refused the credentials
 *   not-found    — 404: no such repository or tag
 *   rate-limited — 429
 *   protocol     — an answer stackd cannot use (no challenge it speaks, bad JSON, a digest that does not match)
 *   config       — the user's own files: an unreadable auth file or registries.conf, a credential helper that fails
 */
export class RegistryError extends StackdError {
  readonly retryAfterMs?: number;
  readonly retryAtMs?: number;
  readonly status?: number;

  constructor(
    readonly registry: string,
    readonly kind: RegistryErrorKind,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number; retryAtMs?: number; status?: number },
  ) {
    super(`STACKD_REGISTRY_${kind.toUpperCase().replace('-', '_')}`, message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options?.retryAtMs !== undefined) this.retryAtMs = options.retryAtMs;
    if (options?.status !== undefined) this.status = options.status;
  }
}
