// How the persisted per-stack records change (pure): a request sets a stack's level, a new config adds stacks
// and marks those that left it, and a stack that left is forgotten once its leftovers are dealt with.
import type { DesiredState, RemovedStackAction } from './model.js';
import type { PersistedState, StackRecord } from './persisted-state.js';

export interface ConfiguredStack {
  name: string;
  project: string;
}

export interface ConfigChange {
  state: Map<string, StackRecord>;
  /** stacks that just left the config (their removedStacks action is pending, unless `keep`) */
  left: string[];
  /** stacks that were marked as left and are configured again */
  returned: string[];
}

/**
 * Every configured stack gets a record (a new one wants `running`); a record whose stack is no longer
 * configured is marked `unconfigured` with the action removedStacks names (`keep` is done at once).
 */
export function applyConfigToRecords(state: PersistedState, stacks: readonly ConfiguredStack[], action: RemovedStackAction, nowIso: string): ConfigChange {
  const next = new Map<string, StackRecord>();
  const returned: string[] = [];
  const left: string[] = [];
  const configured = new Set(stacks.map((s) => s.name));
  for (const s of stacks) {
    const rec = state.get(s.name);
    if (rec?.unconfigured) returned.push(s.name);
    next.set(s.name, { desired: rec?.desired ?? 'running', project: s.project });
  }
  for (const [name, rec] of state) {
    if (configured.has(name)) continue;
    if (rec.unconfigured) {
      next.set(name, rec);
      continue;
    }
    left.push(name);
    next.set(name, { ...rec, unconfigured: { since: nowIso, action, done: action === 'keep' } });
  }
  return { state: next, left, returned };
}

export function withDesired(state: PersistedState, name: string, desired: DesiredState, project: string): Map<string, StackRecord> {
  const next = new Map(state);
  const rec = state.get(name);
  next.set(name, { ...rec, desired, project });
  return next;
}

/** The removedStacks action is done: `down` leaves nothing to remember; `stop`/`keep` leave containers behind. */
export function markRetired(state: PersistedState, name: string): Map<string, StackRecord> {
  const next = new Map(state);
  const rec = state.get(name);
  if (!rec?.unconfigured) return next;
  if (rec.unconfigured.action === 'down') next.delete(name);
  else next.set(name, { ...rec, unconfigured: { ...rec.unconfigured, done: true } });
  return next;
}

/** A stack that left the config and has no container left is forgotten. */
export function forgetUnconfigured(state: PersistedState, name: string): Map<string, StackRecord> {
  const next = new Map(state);
  if (state.get(name)?.unconfigured) next.delete(name);
  return next;
}

/** Records of stacks that left the config, with their project (for status, check, prune and resync). */
export function unconfiguredRecords(state: PersistedState): { name: string; record: StackRecord & { unconfigured: NonNullable<StackRecord['unconfigured']> } }[] {
  const out: { name: string; record: StackRecord & { unconfigured: NonNullable<StackRecord['unconfigured']> } }[] = [];
  for (const [name, record] of state) {
    const u = record.unconfigured;
    if (u) out.push({ name, record: { ...record, unconfigured: u } });
  }
  return out;
}
