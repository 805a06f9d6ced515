// stackFiles against the real file system: missing is an answer (null), unreadable is an error naming the path
// and what to do. (EACCES is not reproducible as root, which CI is; ELOOP and EISDIR are.)
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackFiles } from '../../../src/adapters/stack-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-files-'));
  await writeFile(join(dir, 'ok.yml'), 'services: {}\n');
  await mkdir(join(dir, 'a-dir'));
  await symlink(join(dir, 'loop-b'), join(dir, 'loop-a'));
  await symlink(join(dir, 'loop-a'), join(dir, 'loop-b'));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('stackFiles.readText', () => {
  it('reads a file; a missing file (or a path through a file) is null', async () => {
    expect(await stackFiles.readText(join(dir, 'ok.yml'))).toBe('services: {}\n');
    expect(await stackFiles.readText(join(dir, 'nope.yml'))).toBeNull();
    expect(await stackFiles.readText(join(dir, 'ok.yml', 'below'))).toBeNull();
  });

  it.each([
    ['loop-a', /a loop of symbolic links \(ELOOP\); point the link at a real file/],
    ['a-dir', /it is a directory \(EISDIR\); name the file inside it/],
  ])('%s: a FileUnreadableError naming the path and what to do', async (name, why) => {
    const path = join(dir, name);
    await expect(stackFiles.readText(path)).rejects.toMatchObject({ code: 'STACKD_FILE_UNREADABLE', path });
    await expect(stackFiles.readText(path)).rejects.toThrow(why);
  });
});
