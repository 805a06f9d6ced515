// stackctl checks stackd's answers with small guards (answers.ts) instead of loading typebox. They must accept and
// reject exactly what the HTTP schemas do: each guard and Value.Check see the same fully populated answer and every
// variant of it this file derives FROM THE SCHEMA (each declared key deleted or given a wrong type, each enum value
// and a bogus one, an extra key), so a key or enum value added to a schema fails here until the guard has it too.
import { describe, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import type { TSchema } from 'typebox';
import { isErrorBody, isJobEnvelope, isStackList, isStackStatus } from '../../../src/cli/answers.js';
import type { Guard } from '../../../src/cli/answers.js';
import { ErrorBodySchema, JobEnvelopeSchema, StackListSchema, StackStatusSchema } from '../../../src/http/schemas.js';
import type { StackStatus } from '../../../src/core/model.js';
import type { Job } from '../../../src/supervisor/api.js';

/** Every optional key present, so every key the schema declares is exercised. */
const stack: StackStatus = {
  name: 'immich', project: 'immich', unit: 'immich.service', desired: 'running', phase: 'backoff',
  retryAt: '2026-02-12T21:10:00.000Z', health: 'degraded', state: 'failed',
  lastResult: { result: 'failed', reasonCode: 'compose-failed', reason: 'pull denied', startedAt: '2026-02-12T21:06:55.000Z', finishedAt: '2026-02-12T21:07:00.000Z', durationMs: 4200 },
  lastUpdate: { result: 'rolled back', finishedAt: '2026-02-12T03:00:00.000Z' },
  containers: [{ id: 'c1', name: 'immich-app-1', service: 'app', state: 'exited', health: 'unhealthy' }],
  removedFromConfig: { action: 'stop', done: false },
};
const job: Job = {
  id: 'job-1', kind: 'up', stack: 'immich', status: 'done', createdAt: '2026-02-12T21:06:55.000Z', finishedAt: '2026-02-12T21:07:00.000Z',
  result: { result: 'ok', reasonCode: 'unchanged', reason: 'skipped', startedAt: '2026-02-12T21:06:55.000Z', finishedAt: '2026-02-12T21:07:00.000Z', durationMs: 12 },
  error: 'none', output: { lines: ['a'] },
};

const CASES: [string, TSchema, Guard<unknown>, unknown][] = [
  ['StackList', StackListSchema, isStackList, { stacks: [stack] }],
  ['StackStatus', StackStatusSchema, isStackStatus, stack],
  ['JobEnvelope', JobEnvelopeSchema, isJobEnvelope, { job }],
  ['ErrorBody', ErrorBodySchema, isErrorBody, { error: { code: 'unknown-stack', message: 'no stack named "x"' } }],
];

type Path = (string | number)[];
const WRONG: unknown[] = [null, 42, -1.5, 'bogus-value', true, [], {}, ['x']];

interface JsonSchemaNode { type?: string; enum?: unknown[]; properties?: Record<string, JsonSchemaNode>; items?: JsonSchemaNode }

function at(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], value);
}

function changed(root: unknown, path: Path, change: { set: unknown } | 'delete'): unknown {
  const copy = structuredClone(root);
  const parent = at(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1] as string | number;
  if (change === 'delete') delete parent[key];
  else parent[key] = change.set;
  return copy;
}

/** The answer with one thing changed, for each thing the schema says about it; throws when the sample lacks a declared key. */
function variants(schema: JsonSchemaNode, root: unknown, path: Path = []): [string, unknown][] {
  const here = path.join('.') || '(root)';
  const out: [string, unknown][] = [];
  const set = (p: Path, v: unknown): [string, unknown] => [`${p.join('.') || '(root)'} = ${JSON.stringify(v)}`, p.length ? changed(root, p, { set: v }) : v];
  if (schema.enum) {
    for (const v of schema.enum) out.push(set(path, v));
    out.push(set(path, 'bogus-enum-value'));
  }
  if (schema.type === 'object' && schema.properties) {
    for (const [key, child] of Object.entries(schema.properties)) {
      const p = [...path, key];
      if (at(root, p) === undefined) throw new Error(`the sample answer has no ${p.join('.')}: add it so the guard is tested against it`);
      out.push([`delete ${p.join('.')}`, changed(root, p, 'delete')]);
      for (const w of WRONG) out.push(set(p, w));
      out.push(...variants(child, root, p));
    }
    out.push(set([...path, 'notInTheSchema'], 1));
  }
  if (schema.type === 'array' && schema.items) {
    if (!Array.isArray(at(root, path)) || (at(root, path) as unknown[]).length === 0) throw new Error(`the sample answer needs an item in ${here}`);
    out.push(set(path, []));
    out.push(...variants(schema.items, root, [...path, 0]));
  }
  return out;
}

describe.each(CASES)('%s: the guard agrees with the typebox schema', (_name, schema, guard, sample) => {
  it('accepts the sample', () => {
    expect(Value.Check(schema, sample)).toBe(true);
    expect(guard(sample)).toBe(true);
  });

  it('on the answer as a whole being something else', () => {
    for (const v of [...WRONG, undefined, 'text']) expect(guard(v), JSON.stringify(v)).toBe(Value.Check(schema, v));
  });

  it('on every variant derived from the schema', () => {
    const all = variants(schema as JsonSchemaNode, sample);
    expect(all.length).toBeGreaterThan(10);
    const disagree = all.filter(([, v]) => guard(v) !== Value.Check(schema, v)).map(([what]) => what);
    expect(disagree).toEqual([]);
    // both kinds occur: the variants are not all accepted, nor all rejected
    expect(all.some(([, v]) => guard(v))).toBe(true);
    expect(all.some(([, v]) => !guard(v))).toBe(true);
  });
});
