// Every error the HTTP API answers with, in its one shape {error:{code,message}}: stackctl and scripts match on
// `code` (never on the message) and show `message`, so each message says what was wrong and what to do.
import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { StackdError } from '../core/errors.js';
import type { ErrorBody, ErrorCode } from './schemas.js';
import { maxWaitOf, waitParamMessage } from './wait-param.js';

/** A request the HTTP layer itself refuses (a bad query parameter); the message says what was expected. */
export class BadRequestError extends StackdError {
  constructor(message: string) {
    super('STACKD_BAD_REQUEST', message);
  }
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * stackd's own errors (StackdError, matched on their stable `code`) that are answers, not bugs: the status and API
 * code each becomes, with the error's message passed through.
 */
const ANSWERS: Readonly<Record<string, { status: number; code: ErrorCode }>> = {
  STACKD_BAD_REQUEST: { status: 400, code: 'bad-request' },
  STACKD_UNKNOWN_STACK: { status: 404, code: 'unknown-stack' },
  // SIGTERM arrived: the request would be saved but never carried out. 503: nothing is wrong with the request,
  // it can be repeated once stackd has restarted.
  STACKD_SHUTTING_DOWN: { status: 503, code: 'shutting-down' },
};

/** The app's error handler: known errors keep their status and message; anything else is a logged 500. */
export function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = err instanceof StackdError ? own(ANSWERS, err.code) : undefined;
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
    const message = (e.code === undefined ? undefined : own(fastifyMessages, e.code)?.(req)) ?? e.message;
    return reply.code(status).send(errorBody(status === 404 ? 'not-found' : 'bad-request', message));
  }
  req.log.error({ err, method: req.method, url: req.url }, 'request failed');
  return reply.code(500).send(errorBody('internal', `internal error in stackd (request ${req.id}); the details are in the stackd log`));
}

/** A table entry by an error's code; only the table's own keys ("constructor" is not an error code). */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Our words for fastify's 4xx errors whose own message says less than it could (by fastify's error code). */
const fastifyMessages: Readonly<Record<string, (req: FastifyRequest) => string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (req) => `request body larger than ${req.routeOptions.bodyLimit} bytes; this API takes at most {"stack":"NAME"}`,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (req) => `unsupported content-type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/json, or no body`,
};

/** Shortens a URL for a message: the limits being reported are about URLs far too long to quote. */
function quoteUrl(url: string): string {
  return JSON.stringify(url.length > 60 ? `${url.slice(0, 59)}…` : url);
}

/**
 * fastify's router refusals (its `frameworkErrors` option): a path segment longer than maxParamLength (414) and
 * a URL whose %-escapes do not decode (400). Without this they are written with fastify's own body.
 */
export function sendFrameworkError(err: Error & { code?: string }, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.code(414).send(errorBody('bad-request',
      `URL too long: a path segment of ${quoteUrl(req.url)} is longer than 100 characters; stack names have at most 63`));
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    return reply.code(400).send(errorBody('bad-request', `the URL ${quoteUrl(req.url)} is not valid: a %-escape is broken`));
  }
  return sendError(err, req, reply);
}

/**
 * Node's HTTP parser refusals (fastify's `clientErrorHandler`): there is no request and no reply object, so the
 * answer is written to the socket as Node itself would, with the API's body, and the connection is closed.
 */
export function writeClientError(err: Error & { code?: string }, socket: Socket, server: Server, log: FastifyBaseLogger): void {
  // a reset or an already closed socket: nobody is left to answer
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let message = `malformed HTTP request (${err.code ?? err.message}); stackd speaks HTTP/1.1 on this socket`;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    const ms = server.requestTimeout > 0 ? Math.min(server.requestTimeout, server.headersTimeout) : server.headersTimeout;
    message = `the request did not arrive in full within ${ms / 1000} s; send it at once`;
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    message = `request line and headers larger than ${Math.round(maxHeaderSize / 1024)} KiB; no stackd request needs that much`;
  }
  log.debug({ err }, 'refused a malformed or slow HTTP request');
  if (socket.writable) {
    const body = JSON.stringify(errorBody('bad-request', message));
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

interface HttpErrorLike {
  message: string;
  code?: string;
  statusCode?: number;
  validation?: { instancePath?: string; keyword?: string; params?: Record<string, unknown> }[];
  validationContext?: string;
}

function toHttpError(err: unknown): HttpErrorLike {
  if (!(err instanceof Error)) return { message: String(err) };
  const { code, statusCode, validation, validationContext } = err as Error & Partial<HttpErrorLike>;
  return {
    message: err.message, code: typeof code === 'string' ? code : undefined,
    statusCode: typeof statusCode === 'number' ? statusCode : undefined, validation, validationContext,
  };
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
  // e.g. ?wait=1&wait=2 (an array); single values are checked by parseWaitParam
  if (where === 'querystring' && items.some((v) => v.instancePath === '/wait')) {
    const query: unknown = req.query;
    return waitParamMessage(query && typeof query === 'object' ? (query as Record<string, unknown>).wait : undefined, maxWaitOf(req.method));
  }
  const extra = items.find((v) => v.keyword === 'additionalProperties')?.params?.additionalProperties;
  if (Array.isArray(extra)) return `${where} has unexpected field(s): ${extra.map((f) => JSON.stringify(f)).join(', ')}`;
  return e.message;
}
