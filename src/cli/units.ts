// `stackctl units [--dir DIR] [--dry-run] [--config PATH] [--daemon-unit NAME] [--curl PATH]`: writes one thin
// systemd user unit per configured stack and the update timer, from the config file (stackd need not run). The
// core renders and plans (src/core/systemd-units.ts); this reads the directory and applies the plan. Units it did
// not write for this config are never overwritten or removed. The stack units call stackd with curl (found on
// PATH now, its absolute path written in) so a rebuild starts no node process per stack; without curl they run
// stackctl, and stderr says how to get the curl units.
import { constants } from 'node:fs';
import { access, lstat, readdir, readFile, readlink, stat, unlink } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { writeAtomic } from '../adapters/atomic-file.js';
import { planUnitChanges, renderUnitChanges, renderUnits } from '../core/systemd-units.js';
import { DEFAULT_TIMEOUT_MS } from './deadline.js';
import { readConfigFile } from './read-config.js';

export interface UnitsIo {
  env: Record<string, string | undefined>;
  uid: number;
  cwd: string;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export interface UnitsOptions {
  dir?: string;
  dryRun: boolean;
  config?: string;
  /** the stack units call stackctl with this --socket (the one `units` was given) */
  socket?: string;
  daemonUnit?: string;
  json: boolean;
  /** the absolute argv that runs stackctl; default: how this stackctl was started */
  stackctl?: string[];
  /** the curl the stack units run (--curl); default: `curl` on PATH */
  curl?: string;
}

/** `stackctl stop` in a unit waits this long for the verdict of a stop (the shipped example's --timeout 5m). */
const STOP_TIMEOUT_MS = 5 * 60_000;

export async function units(io: UnitsIo, opts: UnitsOptions): Promise<number> {
  const read = await readConfigFile(io, opts.config);
  if (!read) return 2;
  const dir = resolve(io.cwd, opts.dir ?? defaultUnitDir(io.env));
  const daemonUnit = opts.daemonUnit ?? 'stackd.service';
  if (!/^[A-Za-z0-9:_.\\@-]+\.service$/.test(daemonUnit)) {
    io.stderr.write(`stackctl: --daemon-unit: got ${JSON.stringify(daemonUnit)}; expected a service name like stackd.service\n`);
    return 2;
  }
  let curl: string | undefined;
  if (opts.curl !== undefined) {
    curl = resolve(io.cwd, opts.curl);
    if (!(await isExecutableFile(curl))) {
      io.stderr.write(`stackctl: --curl: ${curl} is not an executable file; expected the path of curl (e.g. /usr/bin/curl)\n`);
      return 2;
    }
  } else {
    curl = await findOnPath('curl', io.env.PATH);
    if (curl === undefined) {
      io.stderr.write('stackctl: no curl on PATH, so the stack units run stackctl (a node process per stack at every start); install curl or pass --curl PATH, then run stackctl units again\n');
    }
  }
  const desired = renderUnits(read.config.stacks, {
    stackctl: opts.stackctl ?? thisStackctl(), daemonUnit, configPath: resolve(io.cwd, read.path),
    upTimeoutMs: DEFAULT_TIMEOUT_MS, stopTimeoutMs: STOP_TIMEOUT_MS,
    ...(opts.socket !== undefined ? { socket: resolve(io.cwd, opts.socket) } : {}),
    ...(curl !== undefined ? { curl } : {}),
  });
  const changes = planUnitChanges(desired, await readUnitDir(dir), resolve(io.cwd, read.path));
  if (!opts.dryRun) {
    for (const c of changes) {
      if (c.action === 'create' || c.action === 'update') await writeAtomic(join(dir, c.name), c.text);
      else if (c.action === 'remove') await removeUnit(dir, c.name);
    }
  }
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ dir, dryRun: opts.dryRun, changes: changes.map((c) => ({ action: c.action, name: c.name })) }, null, 2)}\n`);
  } else {
    for (const line of renderUnitChanges(changes, { dir, dryRun: opts.dryRun })) io.stdout.write(`${line}\n`);
  }
  return changes.some((c) => c.action === 'conflict') ? 1 : 0;
}

function defaultUnitDir(env: Record<string, string | undefined>): string {
  const config = env.XDG_CONFIG_HOME || join(env.HOME ?? '', '.config');
  return join(config, 'systemd/user');
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first executable `name` in PATH's absolute directories, as PATH spells it (a link such as NixOS's
 * /run/current-system/sw/bin/curl is kept, so the unit follows an upgrade); relative entries are skipped (a unit
 * has no working directory of ours).
 */
async function findOnPath(name: string, path: string | undefined): Promise<string | undefined> {
  for (const dir of (path ?? '').split(':')) {
    if (!isAbsolute(dir)) continue;
    if (await isExecutableFile(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * How this stackctl was started: the `stackctl` link on PATH (npm's bin) as it is, so an upgrade in place keeps
 * the units right; otherwise node and the script, both absolute (a .js file is not executable by itself).
 */
function thisStackctl(): string[] {
  const script = process.argv[1] ?? '';
  if (basename(script) === 'stackctl' && isAbsolute(script)) return [script];
  return [process.execPath, resolve(script)];
}

/** The unit files a directory holds (.service and .timer), name → text; a missing directory holds none. */
async function readUnitDir(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const name of names.sort()) {
    if (!/\.(service|timer)$/.test(name)) continue;
    const st = await lstat(join(dir, name));
    if (!st.isFile()) continue; // a symlink is someone else's (or systemd's) doing
    out.set(name, await readFile(join(dir, name), 'utf8'));
  }
  return out;
}

/** Removes a generated unit and the enablement links `systemctl --user enable` made for it in this directory. */
async function removeUnit(dir: string, name: string): Promise<void> {
  await unlink(join(dir, name));
  for (const wants of ['default.target.wants', 'timers.target.wants']) {
    const link = join(dir, wants, name);
    const target = await readlink(link).catch(() => undefined);
    if (target !== undefined && resolve(join(dir, wants), target) === join(dir, name)) await unlink(link);
  }
}
