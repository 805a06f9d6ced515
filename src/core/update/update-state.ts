// What the updater keeps across restarts (pure format; the adapter writes it crash-safely like the state
// file): the bad digests it must never try again, and the progress of an apply that was running — so a
// stackd killed after the pull, the re-tag or `up` resumes or rolls back at start.
import { parseJsonObject } from '../json-text.js';
import type { ApplyProgress, ApplyStep, BadDigest } from './types.js';

export const UPDATE_STATE_VERSION = 1;

export interface UpdateState {
  badDigests: BadDigest[];
  /** at most one apply per stack is in flight */
  inProgress: ApplyProgress[];
}

export const EMPTY_UPDATE_STATE: UpdateState = { badDigests: [], inProgress: [] };

const STEPS: readonly ApplyStep[] = ['pinned', 'pulled', 'retagged', 'up', 'gated', 'rolling-back'];

export function parseUpdateState(text: string): { ok: true; state: UpdateState } | { ok: false; problem: string } {
  const json = parseJsonObject(text);
  if (!json.ok) return json;
  const raw = json.value;
  if (raw['version'] !== UPDATE_STATE_VERSION) return { ok: false, problem: `expected {"version":${UPDATE_STATE_VERSION},…}` };
  const bad = raw['badDigests'];
  const prog = raw['inProgress'];
  if (!Array.isArray(bad) || !bad.every(isBadDigest)) return { ok: false, problem: '"badDigests" must be a list of {reference, digest, stack, service, at, reason}' };
  if (!Array.isArray(prog) || !prog.every(isProgress)) return { ok: false, problem: '"inProgress" must be a list of apply progress records' };
  return { ok: true, state: { badDigests: bad, inProgress: prog } };
}

export function serializeUpdateState(s: UpdateState): string {
  return `${JSON.stringify({ version: UPDATE_STATE_VERSION, ...s }, null, 2)}\n`;
}

export function findBadDigest(s: UpdateState, reference: string, digest: string): BadDigest | undefined {
  return s.badDigests.find((b) => b.reference === reference && b.digest === digest);
}

export function withBadDigest(s: UpdateState, b: BadDigest): UpdateState {
  if (findBadDigest(s, b.reference, b.digest)) return s;
  // a reference keeps only its newest bad digests (the registry moved on from older ones long ago)
  const same = s.badDigests.filter((x) => x.reference === b.reference);
  const others = s.badDigests.filter((x) => x.reference !== b.reference);
  return { ...s, badDigests: [...others, ...same.slice(-9), b] };
}

export function withProgress(s: UpdateState, p: ApplyProgress): UpdateState {
  return { ...s, inProgress: [...s.inProgress.filter((x) => x.stack !== p.stack), p] };
}

export function withoutProgress(s: UpdateState, stack: string): UpdateState {
  return { ...s, inProgress: s.inProgress.filter((x) => x.stack !== stack) };
}

function isBadDigest(v: unknown): v is BadDigest {
  return isRecord(v) && ['reference', 'digest', 'stack', 'service', 'at', 'reason'].every((k) => typeof v[k] === 'string');
}

function isProgress(v: unknown): v is ApplyProgress {
  if (!isRecord(v) || typeof v['stack'] !== 'string' || typeof v['startedAt'] !== 'string') return false;
  if (!STEPS.includes(v['step'] as ApplyStep) || !Array.isArray(v['services'])) return false;
  return v['services'].every((x) => isRecord(x) && ['service', 'reference', 'previousImageId', 'pinTag', 'targetDigest'].every((k) => typeof x[k] === 'string'));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
