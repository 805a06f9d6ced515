// The persisted desired state (running/stopped per stack), so a stack the owner stopped stays stopped across
// restarts. Written crash-safely: temp file in the same directory, fsync, rename over, fsync the directory.
//
// A corrupt file is NOT replaced or renamed: loadDesiredState throws StateFileCorruptError and leaves it in
// place. Silently starting from {} would bring back stacks the owner deliberately stopped; what to do about it
// (refuse to start, or start with defaults and alert) is the composition root's decision, not this adapter's.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { DesiredState } from '../core/model.js';
import { StateFileCorruptError } from './errors.js';

const FORMAT_VERSION = 1;

export type DesiredStateMap = Record<string, DesiredState>;

/** Missing file → {} (first start). Throws StateFileCorruptError for anything unreadable as a state file. */
export async function loadDesiredState(file: string): Promise<DesiredStateMap> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StateFileCorruptError(file, 'not valid JSON', { cause: err });
  }
  if (!isRecord(parsed) || parsed.version !== FORMAT_VERSION || !isRecord(parsed.desired)) {
    throw new StateFileCorruptError(file, `expected {"version":${FORMAT_VERSION},"desired":{…}}`);
  }
  const out = new Map<string, DesiredState>();
  for (const [stack, value] of Object.entries(parsed.desired)) {
    if (value !== 'running' && value !== 'stopped') {
      throw new StateFileCorruptError(file, `stack "${stack}" has desired state ${JSON.stringify(value)}, expected "running" or "stopped"`);
    }
    out.set(stack, value);
  }
  // fromEntries defines own properties, so a key like "__proto__" cannot touch the prototype
  return Object.fromEntries(out);
}

export async function saveDesiredState(file: string, state: DesiredStateMap): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const body = `${JSON.stringify({ version: FORMAT_VERSION, desired: sortKeys(state) }, null, 2)}\n`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(body, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sortKeys(state: DesiredStateMap): DesiredStateMap {
  return Object.fromEntries(Object.entries(state).sort(([a], [b]) => a.localeCompare(b)));
}
