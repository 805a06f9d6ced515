// GET /v1/events: Server-Sent Events of stack status changes, for the status page and for scripts.
//   event: stack   data: the stack's status, the same JSON as GET /v1/stacks/:name
//   event: gone    data: {"name": …}, a stack no longer listed at all
// On connect, one `stack` event per stack (the state to apply changes to), then one per change; a comment line
// (": heartbeat") every heartbeatMs keeps proxies and the read-only listener's idle timeout from closing the stream.
// A stream ends when its client goes (its subscription with it) and when the app closes: an open stream must
// never hold stackd's shutdown up, so preClose ends them all before the server waits for its connections.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { StackEvent, StackEvents, SupervisorApi } from '../supervisor/api.js';
import { errorBody } from './errors.js';

export interface EventsOptions {
  supervisor: Pick<SupervisorApi, 'listStacks'>;
  events: StackEvents | undefined;
  heartbeatMs: number;
}

/** A client that reads slower than this much is behind is dropped (it may reconnect and start afresh). */
const MAX_BUFFERED_BYTES = 1 << 20;

export const DEFAULT_HEARTBEAT_MS = 15_000;

export function eventFrame(event: StackEvent): string {
  const data = event.kind === 'stack' ? JSON.stringify(event.stack) : JSON.stringify({ name: event.name });
  // JSON.stringify never emits a raw newline, so one data: line holds it
  return `event: ${event.kind}\ndata: ${data}\n\n`;
}

export function registerEvents(app: FastifyInstance, opts: EventsOptions): void {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const res of open) res.end();
    done();
  });

  app.get('/v1/events', async (req, reply) => {
    const { events } = opts;
    if (!events) return reply.code(404).send(errorBody('not-found', 'events are not enabled in this stackd'));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // the stream ends only when stackd closes it: the connection is not reused after that
      connection: 'close',
    });
    const write = (text: string): void => {
      if (res.writableEnded || res.destroyed) return;
      res.write(text);
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        req.log.warn({ buffered: res.writableLength }, 'event stream client is not reading; dropping it');
        res.destroy();
      }
    };
    open.add(res);
    const unsubscribe = events.subscribe((event) => write(eventFrame(event)));
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), opts.heartbeatMs);
    heartbeat.unref();
    res.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(res);
    });
    write('retry: 3000\n\n');
    for (const stack of opts.supervisor.listStacks()) write(eventFrame({ kind: 'stack', stack }));
    return reply;
  });
}
