// watchFile on a real filesystem, including the Nix case: a stable symlink swapped to a new store path whose
// file has the same size and the same (epoch + 1 s) mtime as the old one.
import { mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchFile } from '../../../src/adapters/file-watch.js';
import type { StopWatching } from '../../../src/adapters/file-watch.js';

let dir: string;
let stops: StopWatching[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-watch-'));
  stops = [];
});

afterEach(async () => {
  for (const stop of stops) stop();
  await rm(dir, { recursive: true, force: true });
});

/** resolves on the next onChange call */
function watch(path: string): { next: () => Promise<void>; count: () => number } {
  let calls = 0;
  let waiter: (() => void) | undefined;
  stops.push(watchFile(path, () => { calls++; waiter?.(); waiter = undefined; }, { debounceMs: 10, intervalMs: 20 }));
  return { next: () => new Promise<void>((r) => { waiter = r; }), count: () => calls };
}

async function nixFile(name: string, content: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  await utimes(p, 1, 1);
  return p;
}

describe('watchFile', () => {
  it('notices a symlink swapped to a target with the same size and mtime', async () => {
    const a = await nixFile('aaaa-stackd.yaml', 'stacks: [a]\n');
    const b = await nixFile('bbbb-stackd.yaml', 'stacks: [b]\n');
    const link = join(dir, 'stackd.yaml');
    await symlink(a, link);
    const w = watch(link);
    const changed = w.next();
    // atomic swap, as nixos-rebuild does: new link beside, rename over
    await symlink(b, `${link}.new`);
    await rename(`${link}.new`, link);
    await changed;
    expect(w.count()).toBe(1);
  });

  it('notices an in-place edit of a plain file', async () => {
    const file = join(dir, 'stackd.yaml');
    await writeFile(file, 'a: 1\n');
    const w = watch(file);
    const changed = w.next();
    await writeFile(file, 'a: 22\n');
    await changed;
  });

  it('notices the file disappearing and coming back', async () => {
    const file = join(dir, 'stackd.yaml');
    await writeFile(file, 'a: 1\n');
    const w = watch(file);
    let changed = w.next();
    await rm(file);
    await changed;
    changed = w.next();
    await writeFile(file, 'a: 1\n');
    await changed;
  });

  it('stops calling after stop()', async () => {
    const file = join(dir, 'stackd.yaml');
    await writeFile(file, 'a: 1\n');
    let calls = 0;
    const stop = watchFile(file, () => { calls++; }, { debounceMs: 0, intervalMs: 10 });
    stop();
    await writeFile(file, 'a: 333\n');
    // several poll periods pass with nothing called: stop() cleared the timers
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(0);
  });

  it('validates its options', () => {
    expect(() => watchFile(join(dir, 'x'), () => undefined, { debounceMs: -1 })).toThrow(/`debounceMs`/);
  });
});
