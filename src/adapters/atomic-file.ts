// Crash-safe small files (stackd's state): write a temp file in the same directory, fsync it, rename it over
// the old one, fsync the directory. A reader sees the old file or the new one, never half of either; a full
// disk fails the write and leaves the old file as it was.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** The file's text, or undefined when it (or a directory on its path) does not exist. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** mode/owner: what the new file gets (default 0600, the writer's owner); `stackctl fix` keeps the old file's. */
export async function writeAtomic(file: string, text: string, keep: { mode?: number; uid?: number; gid?: number } = {}): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      if (keep.mode !== undefined) await fh.chmod(keep.mode);
      if (keep.uid !== undefined && keep.gid !== undefined && process.getuid?.() === 0) await fh.chown(keep.uid, keep.gid);
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
