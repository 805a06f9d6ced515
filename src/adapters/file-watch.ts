// Notices when the content behind a path changes, including a symlink swapped to a new target (a new Nix store
// path behind a stable /etc symlink). Polls instead of using inotify: inotify watches the inode it was given and
// misses a swapped symlink; a poll of realpath + inode + mtime + size is simple and sees every form of change.
// Nix store files all have mtime 1 and may share a size, which is why the realpath and inode are part of it.
import { realpathSync, statSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { InvalidOptionError } from './errors.js';

export interface WatchFileOptions {
  /** wait this long after a change before calling onChange; changes inside the window coalesce */
  debounceMs: number;
  /** poll period; default 2 s */
  intervalMs?: number;
}

export type StopWatching = () => void;

export function watchFile(file: string, onChange: () => void, opts: WatchFileOptions): StopWatching {
  const intervalMs = opts.intervalMs ?? 2_000;
  if (!Number.isFinite(opts.debounceMs) || opts.debounceMs < 0) {
    throw new InvalidOptionError('debounceMs', 'a number of milliseconds from 0 and up', opts.debounceMs);
  }
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new InvalidOptionError('intervalMs', 'a number of milliseconds above 0', opts.intervalMs);
  }

  // the baseline is taken now, so a change right after the caller read the file is not missed
  let last = snapshotSync(file);
  let stopped = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let debounceTimer: NodeJS.Timeout | undefined;

  const fire = () => {
    debounceTimer = undefined;
    if (!stopped) onChange();
  };
  const poll = async () => {
    const now = await snapshot(file);
    if (stopped) return;
    if (now !== last) {
      last = now;
      if (debounceTimer) clearTimeout(debounceTimer);
      debounceTimer = setTimeout(fire, opts.debounceMs);
      debounceTimer.unref();
    }
    schedule();
  };
  // setTimeout after each poll rather than setInterval: a slow filesystem never stacks up polls
  const schedule = () => {
    pollTimer = setTimeout(() => void poll(), intervalMs);
    pollTimer.unref();
  };
  schedule();

  return () => {
    stopped = true;
    if (pollTimer) clearTimeout(pollTimer);
    if (debounceTimer) clearTimeout(debounceTimer);
  };
}

// A missing or unreadable file is a state of its own: disappearing and coming back are both changes.
async function snapshot(file: string): Promise<string> {
  try {
    const real = await realpath(file);
    const st = await stat(real, { bigint: true });
    return `${real}\0${st.dev}:${st.ino}\0${st.mtimeNs}\0${st.size}`;
  } catch (err) {
    return `missing\0${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

function snapshotSync(file: string): string {
  try {
    const real = realpathSync(file);
    const st = statSync(real, { bigint: true });
    return `${real}\0${st.dev}:${st.ino}\0${st.mtimeNs}\0${st.size}`;
  } catch (err) {
    return `missing\0${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}
