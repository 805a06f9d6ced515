// The optional TCP listener faces the network: read-only, but reachable by more than this user. Slow or idle
// clients must not hold its connections, it holds only so many, and it takes no request bodies (no read route
// needs one, and refusing them before they are read means nothing is buffered for a stranger).
// The unix socket (0600, this user only) keeps Node's defaults: stackctl long-polls there.
import type { ServerOptions } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './errors.js';

export interface ReadOnlyLimits {
  /** the whole request must have arrived by then, headers included; Node answers 408 and closes */
  requestTimeoutMs: number;
  /** no traffic either way for this long closes the connection (this bounds a silent handler too) */
  connectionTimeoutMs: number;
  /** an idle keep-alive connection is closed after this */
  keepAliveTimeoutMs: number;
  /** connections past this many are closed as soon as they are accepted */
  maxConnections: number;
  /** how often Node looks for requests past requestTimeoutMs; its default (30 s) would let one run 40 s */
  checkIntervalMs: number;
}

export const READ_ONLY_LIMITS: Readonly<ReadOnlyLimits> = {
  requestTimeoutMs: 10_000,
  connectionTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 64,
  checkIntervalMs: 1_000,
};

/** fastify's constructor options for the read-only app (they must be set when the server is created). */
export function readOnlyServerOptions(limits: ReadOnlyLimits): {
  requestTimeout: number; connectionTimeout: number; keepAliveTimeout: number; http: ServerOptions;
} {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // headersTimeout defaults to 60 s, which would outlast requestTimeout
    http: { headersTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs },
  };
}

/**
 * The longest a long-poll (GET /v1/jobs/:id?wait=) waits on this listener: a waiting handler sends nothing, so it
 * must answer well before connectionTimeoutMs closes the silent connection. Clients poll again either way.
 */
export function readOnlyMaxWaitMs(limits: ReadOnlyLimits): number {
  return Math.floor(limits.connectionTimeoutMs / 2);
}

/** The connection cap and the refusal of bodies; call on the read-only app before it listens. */
export function applyReadOnlyLimits(app: FastifyInstance, limits: ReadOnlyLimits): void {
  app.server.maxConnections = limits.maxConnections;
  app.addHook('onRequest', async (req, reply) => {
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || Number(length) === 0)) return undefined;
    const what = chunked ? 'a chunked body' : `${length} bytes`;
    // Connection: close, so the unread body is never parsed as a next request
    void reply.code(413).header('connection', 'close').send(errorBody('bad-request',
      `this listener is read-only and takes no request body (got ${what}); send reads without one, and writes to stackd's unix socket`));
    return reply;
  });
}
