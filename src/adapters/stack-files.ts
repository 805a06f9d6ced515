// The files a stack names (compose files, what they include, env files), read for the reconciler and `check`.
// A missing file is an answer (null: compose will say so, or the env-file wait applies); a file that exists but
// cannot be read (permissions, a symbolic-link loop, a directory) is a FileUnreadableError naming the path and
// what to do, so the stack fails with that instead of compose's later, vaguer complaint.
import { access, readFile } from 'node:fs/promises';
import type { FilesPort } from '../supervisor/ports.js';
import { FileUnreadableError, UNREADABLE_ERRNOS } from './errors.js';

export const stackFiles: FilesPort = {
  exists: (path) => access(path).then(() => true, () => false),
  readText: async (path) => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      if (UNREADABLE_ERRNOS.includes(code)) throw new FileUnreadableError(path, code, { cause: err });
      throw err;
    }
  },
};
