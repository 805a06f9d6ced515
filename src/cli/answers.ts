// The shapes stackctl accepts from stackd, as small type guards instead of the TypeBox schemas in
// src/http/schemas.ts: loading typebox took a quarter of a second of every stackctl run. They check what the
// schemas check (required and optional keys, types, enum values; extra keys are allowed, as in Type.Object) and
// nothing more. Two things keep them equal to the schemas: below, each guard's type must equal the domain type
// the schema is compile-checked against (a new key, or a new enum value, fails tsc here); and
// test/unit/cli/answers.test.ts feeds the guards and typebox's Value.Check the same good and broken answers.
import { REASON_CODES } from '../core/reason-codes.js';
import { LAST_UPDATE_RESULTS, type ContainerView, type ReconcileResult, type StackStatus } from '../core/model.js';
import type { ErrorCode } from '../http/schemas.js';
import type { Job } from '../supervisor/api.js';

export type Guard<T> = (value: unknown) => value is T;

const isString: Guard<string> = (v): v is string => typeof v === 'string';
const isNumber: Guard<number> = (v): v is number => typeof v === 'number';
const isBoolean: Guard<boolean> = (v): v is boolean => typeof v === 'boolean';
const isUnknown: Guard<unknown> = (_v): _v is unknown => true;

function oneOf<const T extends readonly string[]>(values: T): Guard<T[number]> {
  const allowed = new Set<unknown>(values);
  return (v): v is T[number] => allowed.has(v);
}

function arrayOf<T>(item: Guard<T>): Guard<T[]> {
  return (v): v is T[] => Array.isArray(v) && v.every(item);
}

type Guards<T> = { [K in keyof T]: Guard<T[K]> };

/** A plain object (not null, not an array) with every `required` key and, when present, each `optional` key right. */
function object<R extends object, O extends object = object>(required: Guards<R>, optional?: Guards<O>): Guard<R & Partial<O>> {
  const req = Object.entries(required) as [string, Guard<unknown>][];
  const opt = Object.entries(optional ?? {}) as [string, Guard<unknown>][];
  return (v): v is R & Partial<O> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    return req.every(([k, g]) => Object.hasOwn(o, k) && g(o[k])) && opt.every(([k, g]) => !Object.hasOwn(o, k) || g(o[k]));
  };
}

export const isReconcileResult = object(
  { result: oneOf(['ok', 'failed', 'skipped']), startedAt: isString, finishedAt: isString, durationMs: isNumber },
  { reasonCode: oneOf(REASON_CODES), reason: isString },
);

export const isContainerView = object({
  id: isString, name: isString, service: isString, state: isString,
  health: oneOf(['healthy', 'unhealthy', 'starting', 'none', 'stopped', 'reset']),
});

export const isStackStatus = object(
  {
    name: isString, project: isString, unit: isString,
    desired: oneOf(['running', 'stopped', 'removed']),
    phase: oneOf(['idle', 'queued', 'reconciling', 'updating', 'backoff']),
    health: oneOf(['healthy', 'progressing', 'degraded', 'down', 'unknown']),
    state: oneOf(['pending', 'converged', 'progressing', 'degraded', 'failed', 'stopped', 'removed']),
    containers: arrayOf(isContainerView),
  },
  {
    retryAt: isString,
    lastResult: isReconcileResult,
    lastUpdate: object({ result: oneOf(LAST_UPDATE_RESULTS), finishedAt: isString }),
    removedFromConfig: object({ action: oneOf(['stop', 'down', 'keep']), done: isBoolean }),
  },
);

export const isStackList = object({ stacks: arrayOf(isStackStatus) });

export const isJob = object(
  {
    id: isString,
    kind: oneOf(['up', 'stop', 'down', 'check', 'gc', 'update']),
    status: oneOf(['queued', 'running', 'done', 'failed']),
    createdAt: isString,
  },
  { stack: isString, finishedAt: isString, result: isReconcileResult, error: isString, output: isUnknown },
);

export const isJobEnvelope = object({ job: isJob });

export const isErrorBody = object({
  error: object({
    code: oneOf(['bad-request', 'unknown-stack', 'unknown-job', 'not-found', 'shutting-down', 'internal']),
    message: isString,
  }),
});

// Compile-time: each guard accepts exactly the domain type (both directions), as schemas.ts checks its schemas.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Guarded<G> = G extends Guard<infer T> ? T : never;
const _reconcileResult: Same<Guarded<typeof isReconcileResult>, ReconcileResult> = true;
const _containerView: Same<Guarded<typeof isContainerView>, ContainerView> = true;
const _stackStatus: Same<Guarded<typeof isStackStatus>, StackStatus> = true;
const _stackList: Same<Guarded<typeof isStackList>, { stacks: StackStatus[] }> = true;
const _job: Same<Guarded<typeof isJob>, Job> = true;
const _errorCode: Same<Guarded<typeof isErrorBody>['error']['code'], ErrorCode> = true;
export const guardTypeChecks = [_reconcileResult, _containerView, _stackStatus, _stackList, _job, _errorCode] as const;
