// GET / and GET /stacks/:name: the status pages (rendered by page/render.ts), on the unix socket and on the
// read-only TCP listener alike. Each answer carries the pages' Content-Security-Policy and is never cached.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SupervisorApi } from '../supervisor/api.js';
import { UnknownStackError } from '../supervisor/api.js';
import { PAGE_CSP } from './page/assets.js';
import { renderIndexPage, renderNotFoundPage, renderStackPage } from './page/render.js';

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(body);
}

export function registerStatusPages(app: FastifyInstance, supervisor: SupervisorApi, now: () => number = Date.now): void {
  app.get('/', async (_req, reply) => html(reply, 200, renderIndexPage(supervisor.listStacks(), { nowMs: now() })));

  app.get<{ Params: { name: string } }>('/stacks/:name', async (req, reply) => {
    const stack = supervisor.getStack(req.params.name);
    if (!stack) {
      const known = supervisor.listStacks().map((s) => s.name);
      return html(reply, 404, renderNotFoundPage(new UnknownStackError(req.params.name, known).message));
    }
    return html(reply, 200, renderStackPage(stack, { nowMs: now() }));
  });
}
