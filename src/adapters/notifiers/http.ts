// The one POST every notifier makes: bounded in time, the answer read and released, failures turned into
// errors that name the notifier and its URL and never a secret.
import { errorCode, InvalidOptionError } from '../../core/errors.js';
import { clip, oneLine } from '../../core/notify/text.js';
import { NotifierHttpError, NotifierTimeoutError, NotifierUnreachableError, type NotifierKind } from './errors.js';

export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;

/** The timeoutMs option of a notifier: default 10 s. */
export function validTimeout(timeoutMs: number | undefined): number {
  const t = timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
  if (!Number.isFinite(t) || t <= 0) throw new InvalidOptionError('timeoutMs', 'a number of milliseconds above 0', timeoutMs);
  return t;
}

export interface PostSpec {
  kind: NotifierKind;
  /** the URL to request (no user:password in it) */
  url: string;
  /** the URL as it may be printed */
  target: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** values to replace by *** in anything quoted from the answer (tokens, passwords, header values) */
  secrets: readonly string[];
  /** what to check when the server refuses the credentials (401/403) */
  authHint: string;
}

/** Resolves on 2xx; throws NotifierHttpError / NotifierTimeoutError / NotifierUnreachableError otherwise. */
export async function post(spec: PostSpec): Promise<void> {
  // undici is imported on the first notification, not at start: an idle daemon that sends nothing does not keep
  // its modules in memory (bench/README.md "Idle footprint"); after that the import is the cached module
  const { request } = await import('undici');
  // One deadline for everything (connect, headers, body): headersTimeout alone does not bound the connect.
  const signal = AbortSignal.timeout(spec.timeoutMs);
  let statusCode: number;
  let answer: string;
  try {
    const res = await request(spec.url, {
      method: 'POST',
      headers: spec.headers,
      body: spec.body,
      signal,
      headersTimeout: spec.timeoutMs,
      bodyTimeout: spec.timeoutMs,
    });
    statusCode = res.statusCode;
    if (statusCode >= 200 && statusCode < 300) {
      // Delivered: the server said so. A body that then stalls must not turn into a retry (a second message).
      await res.body.dump().catch(() => undefined);
      return;
    }
    answer = await readStart(res.body, 4096);
  } catch (err) {
    if (signal.aborted || isTimeout(err)) throw new NotifierTimeoutError(spec.kind, spec.target, spec.timeoutMs, { cause: err });
    throw new NotifierUnreachableError(spec.kind, spec.target, lowLevelCode(err), { cause: err });
  }
  throw new NotifierHttpError(spec.kind, spec.target, statusCode, clip(scrub(oneLine(answer), spec.secrets), 200), hintFor(statusCode, spec.authHint));
}

/** The first `max` bytes of an error answer (what the server says is in its first lines; an HTML page may be huge). */
async function readStart(body: AsyncIterable<Buffer> & { destroy(): unknown }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= max) break;
    }
  } catch {
    // a stalled or broken body: what came so far is all there is
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

function hintFor(status: number, authHint: string): string {
  if (status === 401 || status === 403) return authHint;
  if (status === 404 || status === 405) return 'check the URL in the config';
  if (status === 413) return 'the server refused the message as too large';
  if (status === 429) return 'the server is rate limiting stackd; later messages may get through';
  if (status >= 300 && status < 400) return 'the server redirects; put the final URL (https?) in the config';
  if (status >= 500) return 'the server failed; check its logs';
  return 'check the URL and the notifier settings in the config';
}

/** Every secret (of 4 characters or more: shorter ones would garble ordinary text) replaced by ***. */
function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}

function isTimeout(err: unknown): boolean {
  const code = errorCode(err);
  const name = err instanceof Error ? err.name : '';
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || name === 'TimeoutError';
}

/** ECONNREFUSED, ENOTFOUND, … from the error or its cause; undici wraps the socket's error. */
function lowLevelCode(err: unknown): string {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = errorCode(e);
    if (code) return code;
  }
  return err instanceof Error ? err.name : 'unknown error';
}
