// The persisted state file (format and upgrade: src/core/persisted-state.ts). Written crash-safely: temp file
// in the same directory, fsync, rename over, fsync the directory.
//
// A corrupt or truncated file is NOT replaced or renamed: loadState throws StateFileCorruptError and leaves it in
// place. Silently starting from nothing would bring back stacks the owner deliberately stopped or removed.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parseStateText, serializeState, type PersistedState, type StackRecord } from '../core/persisted-state.js';
import { StateFileCorruptError } from './errors.js';

export interface LoadedState {
  state: Map<string, StackRecord>;
  /** the file's format version when it was older (it is rewritten in the current format at the next save) */
  upgradedFrom?: number;
}

/** Missing file → empty state (first start). Throws StateFileCorruptError for anything unreadable as a state file. */
export async function loadState(file: string, projectOf: (stack: string) => string): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: new Map() };
    throw err;
  }
  const parsed = parseStateText(text, projectOf);
  if (!parsed.ok) throw new StateFileCorruptError(file, parsed.problem);
  return parsed.upgradedFrom === undefined ? { state: parsed.state } : { state: parsed.state, upgradedFrom: parsed.upgradedFrom };
}

export async function saveState(file: string, state: PersistedState): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(serializeState(state), 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    // a full disk or a read-only directory: the old file is untouched, the temp file is not left behind
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // the rename is durable only once the directory entry is on disk
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
