// The HTTP shell: builds the fastify app (no listen; see listen.ts). Everything it knows comes in as arguments.
// On the unix socket (writable) it serves reads and writes; on the optional TCP listener the write routes do not
// exist at all, so a request for one gets a 404 saying where writes are accepted, and the listener's limits
// (timeouts, a connection cap, no bodies) come from read-only.ts.
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { UnknownStackError } from '../supervisor/api.js';
import type { StackEvents, SupervisorApi } from '../supervisor/api.js';
import {
  ERROR_RESPONSES, HealthzSchema, JobEnvelopeSchema, JobParamsSchema, JobQuerySchema, JobRequestBodySchema, UpdateRequestBodySchema,
  MAX_WAIT_MS, ReadinessSchema, StackListSchema, StackParamsSchema, StackStatusSchema,
} from './schemas.js';
import { refuseWhileClosing } from './closing.js';
import { DEFAULT_HEARTBEAT_MS, registerEvents } from './events.js';
import { registerStackActions } from './stack-actions.js';
import { registerStatusPages } from './status-page.js';
import { BadRequestError, errorBody, sendError, sendFrameworkError, writeClientError } from './errors.js';
import { READ_ONLY_LIMITS, applyReadOnlyLimits, readOnlyMaxWaitMs, readOnlyServerOptions } from './read-only.js';
import type { ReadOnlyLimits } from './read-only.js';
import { parseWaitParam, waitParamMessage } from './wait-param.js';

export interface MetricsText {
  contentType: string;
  body: string;
}

export interface AppOptions {
  supervisor: SupervisorApi;
  logger: FastifyBaseLogger;
  /** true on the unix socket; false on the read-only TCP listener */
  writable: boolean;
  metrics?: () => Promise<MetricsText>;
  /** the read-only app's timeouts and caps (tests make them small); READ_ONLY_LIMITS by default */
  readOnlyLimits?: Partial<ReadOnlyLimits>;
  /** stack status changes for GET /v1/events; absent → that route answers 404 */
  events?: StackEvents;
  /** how often an event stream gets a heartbeat comment; 15 s by default (less on a read-only listener whose idle timeout is shorter) */
  eventsHeartbeatMs?: number;
  /** the status pages' clock (tests) */
  now?: () => number;
}

const errors = ERROR_RESPONSES;
/** the only methods the read-only app has routes for (fastify adds a HEAD for each GET) */
const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

export function buildApp(opts: AppOptions): FastifyInstance {
  const { supervisor, writable } = opts;
  const limits: ReadOnlyLimits = { ...READ_ONLY_LIMITS, ...opts.readOnlyLimits };
  const maxWaitMs = writable ? MAX_WAIT_MS : readOnlyMaxWaitMs(limits);
  // No per-request log lines: stackctl long-polls jobs, and the log is for decisions (writes are logged below).
  const app = Fastify({
    ...(writable ? {} : readOnlyServerOptions(limits)),
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // its 503 body is not the API's error shape; refuseWhileClosing answers instead
    return503OnClosing: false,
    // the router's and Node's own refusals, in the API's error shape too (stackctl reads no other)
    frameworkErrors: (err, req, reply) => { sendFrameworkError(err, req, reply); },
    clientErrorHandler: (err, socket) => { writeClientError(err, socket, app.server, app.log); },
  });
  // Read-only means no route but reads can exist on this app: a write route registered outside the
  // `if (writable)` below (a new route, a plugin) fails the build instead of being served to the network.
  if (!writable) {
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const writes = methods.filter((m) => !READ_METHODS.has(m.toUpperCase()));
      if (writes.length > 0) throw new Error(`read-only app: refusing to register ${writes.join(', ')} ${route.url}; write routes belong on the unix socket's app only`);
    });
  }
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((err: unknown, req, reply) => sendError(err, req, reply));
  const closing = refuseWhileClosing(app);
  if (!writable) applyReadOnlyLimits(app, limits);
  app.setNotFoundHandler((req, reply) => {
    const isWrite = !READ_METHODS.has(req.method);
    const hint = !writable && isWrite ? ': this listener is read-only; writes are accepted only on the unix socket' : '';
    return reply.code(404).send(errorBody('not-found', `no route ${req.method} ${req.url.split('?')[0]}${hint}`));
  });

  registerStatusPages(app, supervisor, opts.now);
  registerEvents(app, {
    supervisor,
    events: opts.events,
    // on the read-only listener a silent connection is closed after connectionTimeoutMs
    heartbeatMs: opts.eventsHeartbeatMs ?? (writable ? DEFAULT_HEARTBEAT_MS : Math.min(DEFAULT_HEARTBEAT_MS, Math.floor(limits.connectionTimeoutMs / 2))),
  });

  r.get('/healthz', { schema: { response: { 200: HealthzSchema } } }, () => ({ ok: true as const }));

  r.get('/readyz', { schema: { response: { 200: ReadinessSchema, 503: ReadinessSchema, ...errors } } },
    async (req, reply) => {
      try {
        const readiness = await supervisor.readiness();
        return reply.code(readiness.ready ? 200 : 503).send(readiness);
      } catch (err) {
        req.log.error({ err }, 'readiness check failed');
        return reply.code(503).send({ ready: false, podman: { reachable: false, error: 'readiness check failed; see the stackd log' } });
      }
    });

  r.get('/v1/stacks', { schema: { response: { 200: StackListSchema, ...errors } } },
    () => ({ stacks: supervisor.listStacks() }));

  r.get('/v1/stacks/:name', { schema: { params: StackParamsSchema, response: { 200: StackStatusSchema, ...errors } } },
    (req) => {
      const stack = supervisor.getStack(req.params.name);
      if (!stack) throw new UnknownStackError(req.params.name, supervisor.listStacks().map((s) => s.name));
      return stack;
    });

  r.get('/v1/jobs/:id', {
    schema: { params: JobParamsSchema, querystring: JobQuerySchema, response: { 200: JobEnvelopeSchema, ...errors } },
  }, async (req, reply) => {
    const requested = parseWaitParam(req.query.wait);
    if (requested === undefined) throw new BadRequestError(waitParamMessage(req.query.wait));
    const wait = Math.min(requested, maxWaitMs);
    const job = wait > 0 ? await supervisor.waitJob(req.params.id, wait) : supervisor.getJob(req.params.id);
    if (!job) return reply.code(404).send(errorBody('unknown-job', `no job with id "${req.params.id}" (jobs are kept in memory; stackd may have restarted)`));
    return { job };
  });

  r.get('/metrics', { schema: { response: { 200: Type.String(), ...errors } } }, async (_req, reply) => {
    if (!opts.metrics) return reply.code(404).send(errorBody('not-found', 'metrics are not enabled in this stackd'));
    const { contentType, body } = await opts.metrics();
    return reply.type(contentType).send(body);
  });

  if (writable) {
    registerStackActions(app, supervisor, closing);
    for (const kind of ['check', 'gc'] as const) {
      r.post(`/v1/${kind}`, {
        schema: { body: JobRequestBodySchema, response: { 202: JobEnvelopeSchema, ...errors } },
        // the body is optional: `curl -X POST .../v1/gc` sends none
        preValidation: async (req) => { req.body ??= {}; },
      }, async (req, reply) => {
        const { stack } = req.body;
        const job = supervisor.startJob(kind, stack);
        req.log.info({ stack, kind, job: job.id }, 'job requested');
        return reply.code(202).send({ job });
      });
    }
    r.post('/v1/update', {
      schema: { body: UpdateRequestBodySchema, response: { 202: JobEnvelopeSchema, ...errors } },
      preValidation: async (req) => { req.body ??= {}; },
    }, async (req, reply) => {
      const { stack, dryRun } = req.body;
      const job = supervisor.startJob('update', stack, { dryRun: dryRun ?? false });
      req.log.info({ stack, kind: 'update', dryRun: dryRun ?? false, job: job.id }, 'job requested');
      return reply.code(202).send({ job });
    });
  }
  return app;
}
