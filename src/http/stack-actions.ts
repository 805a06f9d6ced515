// POST /v1/stacks/:name/{up,stop,down}: sets the stack's level and queues its reconcile. Without `wait` the answer
// is 202 with the queued job at once (stackctl follows it by id). With `?wait=MS` the one request holds until the
// job is finished or the wait has passed, so a stack unit can run a single curl instead of a node process:
//   200  finished and succeeded (core/verdict.ts `succeeded`, the rule stackctl exits 0 by)
//   502  finished and failed
//   504  the wait passed with the job still queued or running; stackd carries on with it
// `Accept: text/plain` turns these three into one line of text (the verdict stackctl prints; for 504 where to
// follow it); otherwise the body is {job}. Errors keep the API's JSON error shape.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { StackdError } from '../core/errors.js';
import type { Job } from '../core/job.js';
import { isPending, noVerdictText, oneLine, renderVerdict, succeeded } from '../core/verdict.js';
import type { StackAction, SupervisorApi } from '../supervisor/api.js';
import { prefersText } from './accept.js';
import { BadRequestError } from './errors.js';
import { ERROR_RESPONSES, JobEnvelopeSchema, JobOrVerdictLine, JobQuerySchema, MAX_ACTION_WAIT_MS, StackParamsSchema } from './schemas.js';
import { parseWaitParam, waitParamMessage } from './wait-param.js';

const STACK_ACTIONS: readonly StackAction[] = ['up', 'stop', 'down'];

/** stackd began to close while the request waited: the job will not run in this process. */
export class StoppedBeforeVerdictError extends StackdError {
  constructor(action: StackAction, stack: string) {
    // the code of ShuttingDownError: the same 503 shutting-down answer, with what becomes of the request
    super('STACKD_SHUTTING_DOWN', `stackd is shutting down before the ${action} of ${stack} ran to its end; the desired state is saved and stackd carries it out when it starts again`);
  }
}

/** Which answer a finished wait gets. */
function statusOf(job: Job): 200 | 502 | 504 {
  if (isPending(job)) return 504;
  return succeeded(job) ? 200 : 502;
}

export function registerStackActions(app: FastifyInstance, supervisor: SupervisorApi, closing: AbortSignal): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  for (const action of STACK_ACTIONS) {
    r.post(`/v1/stacks/:name/${action}`, {
      schema: {
        params: StackParamsSchema,
        querystring: JobQuerySchema,
        response: { 202: JobEnvelopeSchema, 200: JobOrVerdictLine, 502: JobOrVerdictLine, 504: JobOrVerdictLine, ...ERROR_RESPONSES },
      },
    }, async (req, reply) => {
      const { name } = req.params;
      const wait = parseWaitParam(req.query.wait, MAX_ACTION_WAIT_MS);
      if (wait === undefined) throw new BadRequestError(waitParamMessage(req.query.wait, MAX_ACTION_WAIT_MS));
      const queued = await supervisor.request(name, action);
      req.log.info({ stack: name, action, job: queued.id, ...(wait > 0 ? { waitMs: wait } : {}) }, 'stack action requested');
      if (wait === 0) return reply.code(202).send({ job: queued });

      // The wait ends early when the client goes away (no waiter is left for an hour) or stackd closes its API.
      const gone = new AbortController();
      const onClose = () => gone.abort();
      reply.raw.once('close', onClose);
      const job = await supervisor.waitJob(queued.id, wait, AbortSignal.any([gone.signal, closing])).finally(() => reply.raw.off('close', onClose)) ?? queued;
      if (isPending(job) && closing.aborted) throw new StoppedBeforeVerdictError(action, name);
      const status = statusOf(job);
      if (!prefersText(req.headers.accept)) return reply.code(status).send({ job });
      const text = status === 504 ? noVerdictText(action, name, wait) : renderVerdict(job);
      return reply.code(status).type('text/plain; charset=utf-8').send(oneLine(text));
    });
  }
}
