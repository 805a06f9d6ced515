// The state file on a real filesystem: round trip, replace by rename (never in place), permissions, an old
// format upgraded, and a corrupt or truncated file that is reported and left alone.
import { open, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadState, saveState } from '../../../src/adapters/state-file.js';
import { StateFileCorruptError } from '../../../src/adapters/errors.js';
import type { StackRecord } from '../../../src/core/persisted-state.js';

let dir: string;
const sameName = (s: string) => s;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-state-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const state = (entries: [string, StackRecord][]) => new Map(entries);

describe('state file', () => {
  it('a missing file is an empty state (first start)', async () => {
    expect((await loadState(join(dir, 'nope', 'state.json'), sameName)).state.size).toBe(0);
  });

  it('round-trips, creating the directory 0700 and the file 0600', async () => {
    const file = join(dir, 'state', 'stackd', 'state.json');
    const s = state([['immich', { desired: 'running', project: 'immich' }], ['paperless', { desired: 'removed', project: 'paper' }]]);
    await saveState(file, s);
    expect((await loadState(file, sameName)).state).toEqual(s);
    expect((await stat(join(dir, 'state', 'stackd'))).mode & 0o777).toBe(0o700);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 2, stacks: { paperless: { desired: 'removed', project: 'paper' } } });
  });

  it('replaces by rename: a reader of the old file keeps the old content whole, and no temp file is left', async () => {
    const file = join(dir, 'state.json');
    await saveState(file, state([['a', { desired: 'running', project: 'a' }]]));
    const before = (await stat(file)).ino;
    const reader = await open(file, 'r');
    try {
      await saveState(file, state([['a', { desired: 'stopped', project: 'a' }]]));
      // the old inode is untouched: written in place, a crash mid-write could have left half a file
      expect(JSON.parse(await reader.readFile('utf8'))).toMatchObject({ stacks: { a: { desired: 'running' } } });
    } finally {
      await reader.close();
    }
    expect((await stat(file)).ino).not.toBe(before);
    expect((await loadState(file, sameName)).state.get('a')?.desired).toBe('stopped');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('a format-1 file is read and upgraded; projects come from the caller', async () => {
    const file = join(dir, 'state.json');
    await writeFile(file, JSON.stringify({ version: 1, desired: { a: 'stopped', b: 'running' } }));
    const loaded = await loadState(file, (s) => (s === 'a' ? 'alpha' : s));
    expect(loaded.upgradedFrom).toBe(1);
    expect(loaded.state).toEqual(state([['a', { desired: 'stopped', project: 'alpha' }], ['b', { desired: 'running', project: 'b' }]]));
  });

  it.each([
    ['truncated', '{"version":2,"stacks":{"a":{"desired":"runn'],
    ['empty', ''],
  ])('a %s file throws StateFileCorruptError naming the file and what to do, and is left in place', async (_what, text) => {
    const file = join(dir, 'state.json');
    await writeFile(file, text);
    const err = await loadState(file, sameName).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateFileCorruptError);
    expect(err).toMatchObject({ code: 'STACKD_STATE_FILE_CORRUPT', file });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('left in place');
    expect((err as Error).message).toContain('restart stackd');
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('a stack named like an Object.prototype key is an ordinary name', async () => {
    const file = join(dir, 'state.json');
    const s = state([['constructor', { desired: 'stopped', project: 'constructor' }], ['__proto__', { desired: 'removed', project: 'p' }]]);
    await saveState(file, s);
    const back = (await loadState(file, sameName)).state;
    expect(back.get('constructor')?.desired).toBe('stopped');
    expect(back.get('__proto__')?.desired).toBe('removed');
    expect(back.get('toString')).toBeUndefined();
  });
});

describe('update state file', () => {
  it('missing → empty; round-trips; a truncated file is refused and left in place', async () => {
    const { loadUpdateState, saveUpdateState } = await import('../../../src/adapters/state-file.js');
    const file = join(dir, 'updates.json');
    expect(await loadUpdateState(file)).toEqual({ badDigests: [], inProgress: [] });
    const s = { badDigests: [{ reference: 'x.io/a:1', digest: 'sha256:1', stack: 's', service: 'web', at: 't', reason: 'unhealthy' }], inProgress: [] };
    await saveUpdateState(file, s);
    expect(await loadUpdateState(file)).toEqual(s);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await writeFile(file, '{"version":1,"badDigests":[');
    await expect(loadUpdateState(file)).rejects.toMatchObject({ code: 'STACKD_STATE_FILE_CORRUPT', file });
    expect(await readFile(file, 'utf8')).toBe('{"version":1,"badDigests":[');
  });
});
