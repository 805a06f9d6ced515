// The state stackd keeps across its own restarts, as plain data, and its file format (pure: the adapter in
// src/adapters/state-file.ts only reads and writes bytes).
//
// Per stack: the level the owner asked for (running | stopped | removed) and the compose project stackd
// manages for it, so that a stack which later leaves the config can still be found by its project label.
// A stack no longer in the config carries `unconfigured`: when it left, what removedStacks does with its
// containers, and whether that is done.
//
// Format history: 1 = {"version":1,"desired":{name: running|stopped}} (no projects, no `removed`);
//                 2 = {"version":2,"stacks":{name: {desired, project, unconfigured?}}}.
import { parseJsonObject } from './json-text.js';
import type { DesiredState, RemovedStackAction } from './model.js';

export const STATE_FORMAT_VERSION = 2;

export interface Unconfigured {
  /** RFC 3339: when a config without the stack was applied */
  since: string;
  action: RemovedStackAction;
  /** the action has been carried out (containers stopped/removed, or keep) */
  done: boolean;
}

export interface StackRecord {
  desired: DesiredState;
  project: string;
  unconfigured?: Unconfigured;
}

/** Keyed by stack name. A Map, so a stack named `constructor` or `__proto__` is just a name. */
export type PersistedState = ReadonlyMap<string, StackRecord>;

export type ParsedState = { ok: true; state: Map<string, StackRecord>; upgradedFrom?: number } | { ok: false; problem: string };

const DESIRED: readonly DesiredState[] = ['running', 'stopped', 'removed'];
const ACTIONS: readonly RemovedStackAction[] = ['stop', 'down', 'keep'];

/**
 * Reads a state file's text. `projectOf` names the project of a stack from a format-1 file, which did not
 * record projects (the config's project when the stack is configured, else its name).
 * Any text that is not a complete state file (empty, truncated, wrong shape) is refused with what was expected.
 */
export function parseStateText(text: string, projectOf: (stack: string) => string): ParsedState {
  const json = parseJsonObject(text);
  if (!json.ok) return json;
  const raw = json.value;
  if (raw['version'] === 1) return upgradeV1(raw, projectOf);
  if (raw['version'] !== STATE_FORMAT_VERSION) {
    return { ok: false, problem: `"version" is ${JSON.stringify(raw['version'])}; this stackd reads versions 1 and ${STATE_FORMAT_VERSION} (was it written by a newer stackd?)` };
  }
  const stacks = raw['stacks'];
  if (!isRecord(stacks)) return { ok: false, problem: 'expected "stacks" to be an object of stack name → record' };
  const state = new Map<string, StackRecord>();
  for (const [name, rec] of Object.entries(stacks)) {
    const parsed = parseRecord(name, rec);
    if (typeof parsed === 'string') return { ok: false, problem: parsed };
    state.set(name, parsed);
  }
  return { ok: true, state };
}

export function serializeState(state: PersistedState): string {
  const stacks: Record<string, StackRecord> = {};
  for (const name of [...state.keys()].sort()) {
    const rec = state.get(name);
    // defineProperty-like assignment through Object.fromEntries semantics is not needed: JSON.stringify of a
    // plain object with a "__proto__" own key is fine once the key is an own property
    if (rec) Object.defineProperty(stacks, name, { value: rec, enumerable: true, writable: true, configurable: true });
  }
  return `${JSON.stringify({ version: STATE_FORMAT_VERSION, stacks }, null, 2)}\n`;
}

/** Two states that would serialize the same (so saving the second changes nothing on disk). */
export function sameState(a: PersistedState, b: PersistedState): boolean {
  return serializeState(a) === serializeState(b);
}

function upgradeV1(raw: Record<string, unknown>, projectOf: (stack: string) => string): ParsedState {
  const desired = raw['desired'];
  if (!isRecord(desired)) return { ok: false, problem: 'version 1: expected "desired" to be an object of stack name → "running" | "stopped"' };
  const state = new Map<string, StackRecord>();
  for (const [name, value] of Object.entries(desired)) {
    if (value !== 'running' && value !== 'stopped') {
      return { ok: false, problem: `version 1: stack "${name}" has desired state ${JSON.stringify(value)}, expected "running" or "stopped"` };
    }
    state.set(name, { desired: value, project: projectOf(name) });
  }
  return { ok: true, state, upgradedFrom: 1 };
}

function parseRecord(name: string, rec: unknown): StackRecord | string {
  const at = `stack "${name}"`;
  if (!isRecord(rec)) return `${at}: expected an object with "desired" and "project"`;
  const { desired, project, unconfigured } = rec;
  if (!DESIRED.includes(desired as DesiredState)) return `${at}: "desired" is ${JSON.stringify(desired)}, expected one of ${DESIRED.join(', ')}`;
  if (typeof project !== 'string' || project === '') return `${at}: "project" is ${JSON.stringify(project)}, expected a compose project name`;
  const out: StackRecord = { desired: desired as DesiredState, project };
  if (unconfigured !== undefined) {
    if (!isRecord(unconfigured)) return `${at}: "unconfigured" must be an object`;
    const { since, action, done } = unconfigured;
    if (typeof since !== 'string' || !ACTIONS.includes(action as RemovedStackAction) || typeof done !== 'boolean') {
      return `${at}: "unconfigured" expected {since: string, action: ${ACTIONS.join('|')}, done: boolean}, got ${JSON.stringify(unconfigured)}`;
    }
    out.unconfigured = { since, action: action as RemovedStackAction, done };
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
