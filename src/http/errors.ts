// Every error the HTTP API answers with, in its one shape {error:{code,message}}: stackctl and scripts match on
// `code` (never on the message) and show `message`, so each message says what was wrong and what to do.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StackdError } from '../core/errors.js';
import type { ErrorBody, ErrorCode } from './schemas.js';

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * stackd's own errors (StackdError, matched on their stable `code`) that are answers, not bugs: the status and API
 * code each becomes, with the error's message passed through.
 */
const ANSWERS: Readonly<Record<string, { status: number; code: ErrorCode }>> = {
  STACKD_UNKNOWN_STACK: { status: 404, code: 'unknown-stack' },
  // SIGTERM arrived: the request would be saved but never carried out. 503: nothing is wrong with the request,
  // it can be repeated once stackd has restarted.
  STACKD_SHUTTING_DOWN: { status: 503, code: 'shutting-down' },
};

/** The app's error handler: known errors keep their status and message; anything else is a logged 500. */
export function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = err instanceof StackdError ? ANSWERS[err.code] : undefined;
  if (answer) {
    if (answer.code === 'shutting-down') {
      req.log.info({ method: req.method, url: req.url }, 'request refused: stackd is shutting down');
      // the connection is of no more use to the client either: let it go instead of holding the drain up
      void reply.header('connection', 'close');
    }
    return reply.code(answer.status).send(errorBody(answer.code, (err as StackdError).message));
  }
  const e = toHttpError(err);
  if (e.validation) return reply.code(400).send(errorBody('bad-request', validationMessage(e, req)));
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply.code(status).send(errorBody(status === 404 ? 'not-found' : 'bad-request', e.message));
  }
  req.log.error({ err, method: req.method, url: req.url }, 'request failed');
  return reply.code(500).send(errorBody('internal', `internal error in stackd (request ${req.id}); the details are in the stackd log`));
}

interface HttpErrorLike {
  message: string;
  statusCode?: number;
  validation?: { instancePath?: string; keyword?: string; params?: Record<string, unknown> }[];
  validationContext?: string;
}

function toHttpError(err: unknown): HttpErrorLike {
  if (!(err instanceof Error)) return { message: String(err) };
  const { statusCode, validation, validationContext } = err as Error & Partial<HttpErrorLike>;
  return { message: err.message, statusCode: typeof statusCode === 'number' ? statusCode : undefined, validation, validationContext };
}

/** Says what was expected and what arrived, instead of the validator's schema-speak where it can. */
function validationMessage(e: HttpErrorLike, req: FastifyRequest): string {
  const where = e.validationContext ?? 'request';
  const items = e.validation ?? [];
  const nameField = items.map((v) => v.instancePath).find((p) => p === '/name' || p === '/stack');
  if (nameField && (where === 'params' || where === 'body')) {
    const source: unknown = where === 'params' ? req.params : req.body;
    const value = source && typeof source === 'object' ? (source as Record<string, unknown>)[nameField.slice(1)] : undefined;
    return `invalid stack name ${JSON.stringify(value)}: expected 1 to 63 characters from a-z, 0-9, "_" and "-", starting with a letter or digit`;
  }
  const extra = items.find((v) => v.keyword === 'additionalProperties')?.params?.additionalProperties;
  if (Array.isArray(extra)) return `${where} has unexpected field(s): ${extra.map((f) => JSON.stringify(f)).join(', ')}`;
  return e.message;
}
