// One TypeBox schema per shape the HTTP API sends or accepts. fastify validates and serializes with them; the
// compile-time checks at the bottom keep them equal to the domain types in core/model.ts and supervisor/api.ts.
import Type from 'typebox';
import type { Static } from 'typebox';
import { REASON_CODES } from '../core/reason-codes.js';
import { STACK_NAME_PATTERN } from '../core/stack-name.js';
import { LAST_UPDATE_RESULTS, type ContainerView, type ReconcileResult, type StackStatus } from '../core/model.js';
import type { Job, Readiness } from '../supervisor/api.js';

/** Stack names reach argv, unit names and metric labels; the config validates them with the same pattern. */
export const StackNameSchema = Type.String({ pattern: STACK_NAME_PATTERN.source });

export const DesiredStateSchema = Type.Enum(['running', 'stopped', 'removed']);
export const PhaseSchema = Type.Enum(['idle', 'queued', 'reconciling', 'updating', 'backoff']);
export const StackHealthSchema = Type.Enum(['healthy', 'progressing', 'degraded', 'down', 'unknown']);
export const StackStateSchema = Type.Enum(['pending', 'converged', 'progressing', 'degraded', 'failed', 'stopped', 'removed']);
export const ResultKindSchema = Type.Enum(['ok', 'failed', 'skipped']);
// derived from the one list in core/reason-codes.ts
export const ReasonCodeSchema = Type.Enum(REASON_CODES);
export const ContainerHealthSchema = Type.Enum(['healthy', 'unhealthy', 'starting', 'none', 'stopped', 'reset']);

export const ReconcileResultSchema = Type.Object({
  result: ResultKindSchema,
  reasonCode: Type.Optional(ReasonCodeSchema),
  reason: Type.Optional(Type.String()),
  startedAt: Type.String(),
  finishedAt: Type.String(),
  durationMs: Type.Number(),
});

export const ContainerViewSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  service: Type.String(),
  state: Type.String(),
  health: ContainerHealthSchema,
});

export const StackStatusSchema = Type.Object({
  name: Type.String(),
  project: Type.String(),
  unit: Type.String(),
  desired: DesiredStateSchema,
  phase: PhaseSchema,
  retryAt: Type.Optional(Type.String()),
  health: StackHealthSchema,
  state: StackStateSchema,
  lastResult: Type.Optional(ReconcileResultSchema),
  lastUpdate: Type.Optional(Type.Object({
    result: Type.Enum(LAST_UPDATE_RESULTS),
    finishedAt: Type.String(),
  })),
  containers: Type.Array(ContainerViewSchema),
  removedFromConfig: Type.Optional(Type.Object({ action: Type.Enum(['stop', 'down', 'keep']), done: Type.Boolean() })),
});

export const StackListSchema = Type.Object({ stacks: Type.Array(StackStatusSchema) });

export const JobKindSchema = Type.Enum(['up', 'stop', 'down', 'check', 'gc', 'update']);
export const JobStatusSchema = Type.Enum(['queued', 'running', 'done', 'failed']);

export const JobSchema = Type.Object({
  id: Type.String(),
  kind: JobKindSchema,
  stack: Type.Optional(Type.String()),
  status: JobStatusSchema,
  createdAt: Type.String(),
  finishedAt: Type.Optional(Type.String()),
  result: Type.Optional(ReconcileResultSchema),
  error: Type.Optional(Type.String()),
  output: Type.Optional(Type.Unknown()),
});

export const JobEnvelopeSchema = Type.Object({ job: JobSchema });

/**
 * A waiting stack action's answer (200, 502, 504): {job}, or with `Accept: text/plain` one newline-terminated
 * line (core/verdict.ts words it). stackctl reads only the JSON one (answers.ts isJobEnvelope).
 */
export const JobOrVerdictLine = {
  content: {
    'application/json': { schema: JobEnvelopeSchema },
    'text/plain': { schema: Type.String() },
  },
};

export const ReadinessSchema = Type.Object({
  ready: Type.Boolean(),
  podman: Type.Object({
    reachable: Type.Boolean(),
    version: Type.Optional(Type.String()),
    error: Type.Optional(Type.String()),
  }),
  compose: Type.Optional(Type.Object({ ok: Type.Boolean(), provider: Type.String(), detail: Type.String() })),
  stateLoaded: Type.Optional(Type.Boolean()),
});

export const HealthzSchema = Type.Object({ ok: Type.Literal(true) });

/** Stable error codes of the HTTP API; stackctl maps them to exit codes. */
export const ErrorCodeSchema = Type.Enum([
  'bad-request', 'unknown-stack', 'unknown-job', 'not-found', 'shutting-down', 'internal',
]);

export const ErrorBodySchema = Type.Object({
  error: Type.Object({ code: ErrorCodeSchema, message: Type.String() }),
});

/** every route's error answers: the API's one error shape */
export const ERROR_RESPONSES = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema };

export const StackParamsSchema = Type.Object({ name: StackNameSchema });
export const JobParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
/** GET /v1/jobs/:id?wait=: one long-poll; the client polls again */
export const MAX_WAIT_MS = 60_000;
/** POST /v1/stacks/:name/{up,stop,down}?wait=: the whole reconcile (core/job.ts) */
export { MAX_ACTION_WAIT_MS } from '../core/job.js';
/** `wait` stays a string here: wait-param.ts accepts plain digits only (no coercion of "1.5", "0x10", "1e3", ""). */
export const JobQuerySchema = Type.Object({ wait: Type.Optional(Type.String()) });
/** POST /v1/check and /v1/gc (the app treats a missing body as `{}`). */
export const JobRequestBodySchema = Type.Object({ stack: Type.Optional(StackNameSchema) }, { additionalProperties: false });
/** POST /v1/update: one stack or all; dryRun asks the registries only. */
export const UpdateRequestBodySchema = Type.Object(
  { stack: Type.Optional(StackNameSchema), dryRun: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export type ErrorCode = Static<typeof ErrorCodeSchema>;
export type ErrorBody = Static<typeof ErrorBodySchema>;

// Compile-time: each schema's static type equals its domain type, in both directions.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _stackStatus: Same<Static<typeof StackStatusSchema>, StackStatus> = true;
const _reconcileResult: Same<Static<typeof ReconcileResultSchema>, ReconcileResult> = true;
const _containerView: Same<Static<typeof ContainerViewSchema>, ContainerView> = true;
const _job: Same<Static<typeof JobSchema>, Job> = true;
const _readiness: Same<Static<typeof ReadinessSchema>, Readiness> = true;
export const schemaTypeChecks = [_stackStatus, _reconcileResult, _containerView, _job, _readiness] as const;
