// The persisted state file (format and upgrade: src/core/persisted-state.ts), written crash-safely
// (atomic-file.ts).
//
// A corrupt or truncated file is NOT replaced or renamed: loadState throws StateFileCorruptError and leaves it in
// place. Silently starting from nothing would bring back stacks the owner deliberately stopped or removed.
import { parseStateText, serializeState, type PersistedState, type StackRecord } from '../core/persisted-state.js';
import { EMPTY_UPDATE_STATE, parseUpdateState, serializeUpdateState, type UpdateState } from '../core/update/update-state.js';
import { readIfExists, writeAtomic } from './atomic-file.js';
import { StateFileCorruptError } from './errors.js';

export interface LoadedState {
  state: Map<string, StackRecord>;
  /** the file's format version when it was older (it is rewritten in the current format at the next save) */
  upgradedFrom?: number;
}

/** Missing file → empty state (first start). Throws StateFileCorruptError for anything unreadable as a state file. */
export async function loadState(file: string, projectOf: (stack: string) => string): Promise<LoadedState> {
  const text = await readIfExists(file);
  if (text === undefined) return { state: new Map() };
  const parsed = parseStateText(text, projectOf);
  if (!parsed.ok) throw new StateFileCorruptError(file, parsed.problem);
  return parsed.upgradedFrom === undefined ? { state: parsed.state } : { state: parsed.state, upgradedFrom: parsed.upgradedFrom };
}

export async function saveState(file: string, state: PersistedState): Promise<void> {
  await writeAtomic(file, serializeState(state));
}

/** The updater's memory (bad digests, apply progress) beside the state file; corrupt → refused, as above. */
export async function loadUpdateState(file: string): Promise<UpdateState> {
  const text = await readIfExists(file);
  if (text === undefined) return EMPTY_UPDATE_STATE;
  const parsed = parseUpdateState(text);
  if (!parsed.ok) throw new StateFileCorruptError(file, parsed.problem);
  return parsed.state;
}

export async function saveUpdateState(file: string, state: UpdateState): Promise<void> {
  await writeAtomic(file, serializeUpdateState(state));
}
