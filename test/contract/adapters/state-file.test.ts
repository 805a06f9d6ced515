// The desired-state file on a real filesystem: round trip, replace by rename (never in place), permissions,
// and a corrupt file that is reported and left alone.
import { open, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDesiredState, saveDesiredState } from '../../../src/adapters/state-file.js';
import { StateFileCorruptError } from '../../../src/adapters/errors.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-state-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('state file', () => {
  it('a missing file is an empty state (first start)', async () => {
    expect(await loadDesiredState(join(dir, 'nope', 'desired.json'))).toEqual({});
  });

  it('round-trips, creating the directory 0700 and the file 0600', async () => {
    const file = join(dir, 'state', 'stackd', 'desired.json');
    await saveDesiredState(file, { immich: 'running', paperless: 'stopped' });
    expect(await loadDesiredState(file)).toEqual({ immich: 'running', paperless: 'stopped' });
    expect((await stat(join(dir, 'state', 'stackd'))).mode & 0o777).toBe(0o700);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, desired: { immich: 'running', paperless: 'stopped' } });
  });

  it('replaces by rename: a reader of the old file keeps the old content whole, and no temp file is left', async () => {
    const file = join(dir, 'desired.json');
    await saveDesiredState(file, { a: 'running' });
    const before = (await stat(file)).ino;
    const reader = await open(file, 'r');
    try {
      await saveDesiredState(file, { a: 'stopped', b: 'running' });
      // the old inode is untouched: written in place, a crash mid-write could have left half a file
      expect(JSON.parse(await reader.readFile('utf8'))).toEqual({ version: 1, desired: { a: 'running' } });
    } finally {
      await reader.close();
    }
    expect((await stat(file)).ino).not.toBe(before);
    expect(await loadDesiredState(file)).toEqual({ a: 'stopped', b: 'running' });
    expect(await readdir(dir)).toEqual(['desired.json']);
  });

  it('a corrupt file throws StateFileCorruptError naming the file, and is left in place', async () => {
    const file = join(dir, 'desired.json');
    await writeFile(file, '{"version":1,"desired":{"a":"runn');
    const err = await loadDesiredState(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateFileCorruptError);
    expect(err).toMatchObject({ code: 'STACKD_STATE_FILE_CORRUPT', file });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('left in place');
    expect(await readFile(file, 'utf8')).toBe('{"version":1,"desired":{"a":"runn');
  });

  it('valid JSON with a wrong shape or value is corrupt too', async () => {
    const file = join(dir, 'desired.json');
    await writeFile(file, JSON.stringify({ a: 'running' }));
    await expect(loadDesiredState(file)).rejects.toBeInstanceOf(StateFileCorruptError);
    await writeFile(file, JSON.stringify({ version: 1, desired: { a: 'paused' } }));
    await expect(loadDesiredState(file)).rejects.toThrow(/"a".*"paused"/);
  });
});
