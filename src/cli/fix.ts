// `stackctl fix [NAME…] [--write] [--qualify-images] [--config PATH]`: the mechanical fixes of what
// `check --offline` finds in the compose files (a missing or wrong PODMAN_SYSTEMD_UNIT label, the obsolete
// top-level `version:`, opt-in short image names). Reads the config and resolves the stacks exactly like
// `check --offline`, so it needs no daemon. Without --write it prints a unified diff and touches nothing; with
// --write each file is replaced atomically (mode and owner kept), unless it changed since it was read or it is
// a symlink into a read-only store (Nix): then the diff is printed with a note.
import { access, constants, lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { writeAtomic } from '../adapters/atomic-file.js';
import { planComposeFix, type FixWants } from '../core/fix-plan.js';
import { unifiedDiff } from '../core/unified-diff.js';
import type { ComposePort } from '../supervisor/ports.js';
import { offlineChecker, readOfflineConfig, type OfflineCheckIo } from './offline-check.js';

export interface FixOptions {
  config?: string;
  stacks: string[];
  write: boolean;
  qualifyImages: boolean;
}

/** Seams for tests: the compose `config` runner, and a hook between reading a file and writing it. */
export interface FixDeps {
  compose?: Pick<ComposePort, 'config'>;
  beforeWrite?: (file: string) => Promise<void>;
}

export async function fix(io: OfflineCheckIo, opts: FixOptions, deps: FixDeps = {}): Promise<number> {
  const config = await readOfflineConfig(io, opts.config);
  if (typeof config === 'number') return config;
  const checker = offlineChecker(config, io, deps.compose);
  const names = opts.stacks.length > 0 ? opts.stacks : [undefined];
  // per file, what to change; a file shared by stacks collects the wants of all of them
  type Wants = FixWants & { labels: { service: string; unit: string }[] };
  const wants = new Map<string, Wants>();
  const want = (file: string): Wants => {
    let w = wants.get(file);
    if (!w) wants.set(file, (w = { labels: [], removeVersion: true, qualifyImages: opts.qualifyImages }));
    return w;
  };
  let failed = false;
  for (const name of names) {
    let result;
    try {
      result = await checker.run(name);
    } catch (err) {
      io.stderr.write(`stackctl: ${err instanceof Error ? err.message : String(err)}\n`);
      return 4;
    }
    for (const s of result.output.stacks) {
      const stack = config.stacks.find((c) => c.name === s.stack);
      if (s.error !== undefined) {
        io.stderr.write(`stackctl fix: stack "${s.stack}": ${s.error}; nothing fixed in it\n`);
        failed = true;
        continue;
      }
      for (const f of stack?.compose ?? []) want(f);
      for (const v of s.violations) {
        const file = await definingFile(v.files, v.service);
        want(file).labels.push({ service: v.service, unit: v.expected });
      }
    }
  }
  let changed = 0;
  for (const [file, w] of wants) {
    const outcome = await fixFile(io, file, w, opts.write, deps);
    if (outcome === 'failed') failed = true;
    if (outcome === 'changed') changed++;
  }
  if (changed === 0 && !failed) io.stdout.write('stackctl fix: nothing to fix\n');
  else if (!opts.write && changed > 0) io.stdout.write(`stackctl fix: ${changed} file(s) would change; run again with --write to apply\n`);
  return failed ? 1 : 0;
}

async function fixFile(io: OfflineCheckIo, file: string, w: FixWants, write: boolean, deps: FixDeps): Promise<'changed' | 'same' | 'failed'> {
  let text: string;
  let before;
  try {
    before = await stat(file);
    text = await readFile(file, 'utf8');
  } catch (err) {
    io.stderr.write(`stackctl fix: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})\n`);
    return 'failed';
  }
  const plan = planComposeFix(text, w);
  for (const m of plan.manual) io.stderr.write(`stackctl fix: ${file}: ${m}\n`);
  if (plan.text === text) return plan.manual.length > 0 ? 'failed' : 'same';
  io.stdout.write(unifiedDiff(file, text, plan.text));
  for (const c of plan.changes) io.stdout.write(`  ${c.detail}\n`);
  if (!write) return plan.manual.length > 0 ? 'failed' : 'changed';

  const target = await realpath(file);
  const link = (await lstat(file)).isSymbolicLink();
  if (link && !(await writable(path.dirname(target)))) {
    io.stderr.write(`stackctl fix: ${file} is a symlink into a read-only location (${target}), e.g. the Nix store: not written. ` +
      'The change above belongs in the host configuration that generates this file.\n');
    return 'failed';
  }
  await deps.beforeWrite?.(file);
  // refuse a file that changed since it was read: someone else's edit would be lost
  const now = await readFile(target, 'utf8').catch(() => null);
  const after = await stat(target).catch(() => null);
  if (now !== text || after === null || after.mtimeMs !== before.mtimeMs) {
    io.stderr.write(`stackctl fix: ${file} changed since it was read; not written. Run stackctl fix again.\n`);
    return 'failed';
  }
  await writeAtomic(target, plan.text, { mode: before.mode & 0o7777, uid: before.uid, gid: before.gid });
  io.stdout.write(`stackctl fix: wrote ${file}\n`);
  return plan.manual.length > 0 ? 'failed' : 'changed';
}

/** The first file that defines the service (compose merges them; a label added there applies). */
async function definingFile(files: readonly string[], service: string): Promise<string> {
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch(() => '');
    const doc = parseDocument(text);
    if (doc.hasIn(['services', service])) return f;
  }
  return files[0] ?? '';
}

/** Nix store paths are on a read-only mount with no write bits (0555): either counts, also for root. */
async function writable(dir: string): Promise<boolean> {
  const ok = await access(dir, constants.W_OK).then(() => true, () => false);
  return ok && ((await stat(dir)).mode & 0o222) !== 0;
}
