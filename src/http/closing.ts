// Requests that still arrive while the app closes (SIGTERM; busy keep-alive connections stay open until their
// answer is out) are refused in the API's error shape. fastify's own refusal (return503OnClosing) writes a body
// of its own that stackctl cannot read, so buildApp turns it off and this hook does the same job.
// The returned signal aborts when the close begins: a request that waits for a job (POST ...?wait=, up to an
// hour) would otherwise keep its connection busy, and the close (and so stackd's stop) would wait for it.
import type { FastifyInstance } from 'fastify';
import { ShuttingDownError } from '../supervisor/api.js';
import { errorBody } from './errors.js';

export function refuseWhileClosing(app: FastifyInstance): AbortSignal {
  let closing = false;
  const closed = new AbortController();
  app.addHook('preClose', (done) => {
    closing = true;
    closed.abort();
    done();
  });
  app.addHook('onRequest', async (_req, reply) => {
    if (!closing) return undefined;
    // Connection: close, so the client does not send its next request into a server that is going away
    void reply.code(503).header('connection', 'close').send(errorBody('shutting-down', new ShuttingDownError().message));
    return reply; // fastify's "answered early" signal: no further hooks, no handler
  });
  return closed.signal;
}
