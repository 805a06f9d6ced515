#!/usr/bin/env node
// stackctl: the human and script front end over stackd's unix socket. `main` is the whole program; the last
// lines run it when this file is the entry point, so tests call `main` in-process.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiError, DaemonUnreachableError, StackdClient } from './client.js';
import { UsageError, printJson } from './context.js';
import type { Ctx, Output } from './context.js';
import { EXIT } from './exit-codes.js';
import { follow, succeeded } from './follow.js';
import { offlineCheck } from './offline-check.js';
import { renderJobOutput, renderStackDetail, renderStatusTable, renderVerdict } from './render.js';
import { stackAction } from './stack-action.js';
import type { ActionOptions } from './stack-action.js';
import { stripControls } from './terminal-text.js';

export { EXIT };
export type { Output };

export interface CliIo {
  env: Record<string, string | undefined>;
  uid: number;
  stdout: Output;
  stderr: Output;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const USAGE = `Usage: stackctl [--socket PATH] [--json] COMMAND

Commands:
  status [NAME]                      all stacks as a table, or one stack with its containers
  up NAME [--no-block] [--healthy] [--timeout DUR]
                                     desired running; waits for the verdict of the reconcile
                                     (--healthy: then until the stack is healthy)
  stop NAME [--timeout DUR]          desired stopped; compose stop
  down NAME [--timeout DUR]          desired removed; compose down (containers removed, volumes kept)
  check [NAME]                       preflight only, changes nothing
  check --offline [--config PATH] [NAME]
                                     the compose files only, without stackd or podman (for CI):
                                     label invariant and file warnings; exit 1 on a violation
  gc                                 remove orphaned healthcheck timers
  update [NAME] [--dry-run]          registry updates of the services labelled io.containers.autoupdate:
                                     check, pull by digest, recreate, health gate, roll back; a table in
                                     podman auto-update's columns; exit 1 when any row failed or rolled
                                     back. --dry-run only asks the registries (nothing pulled or changed)

Options:
  --socket PATH   stackd's API socket (env STACKD_SOCKET; default $XDG_RUNTIME_DIR/stackd/stackd.sock)
  --json          print the raw JSON answer
  --timeout DUR   how long up/stop/down wait for the verdict (and up --healthy for health): 30s, 5m,
                  1h, or seconds (900); default 15m; 0 waits for ever. Past it stackctl says what is
                  still running and exits 5; stackd carries on with the request
  -h, --help      this text

Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 stackd unreachable or shutting down,
            4 unknown stack, 5 --timeout passed (stackd carries on with the request)
`;

export function defaultSocketPath(env: Record<string, string | undefined>, uid: number): string {
  if (env.STACKD_SOCKET) return env.STACKD_SOCKET;
  return `${env.XDG_RUNTIME_DIR || `/run/user/${uid}`}/stackd/stackd.sock`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        socket: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        'no-block': { type: 'boolean', default: false },
        healthy: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        offline: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        config: { type: 'string' },
      },
    });
  } catch (err) {
    return usageError(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  const [first, ...rest] = positionals;
  if (values.offline || values.config !== undefined) {
    if (first !== 'check') return usageError(io, '--offline and --config apply only to "check"');
    if (!values.offline) return usageError(io, '--config needs --offline (online, the daemon\'s own config is used)');
    if (rest.length > 1) return usageError(io, `"check" takes at most one stack name, got ${rest.length}`);
    return offlineCheck({ env: io.env, uid: io.uid, cwd: process.cwd(), stdout: io.stdout, stderr: io.stderr },
      { ...(values.config !== undefined ? { config: values.config } : {}), ...(rest[0] ? { stack: rest[0] } : {}), json: values.json });
  }
  const socketPath = values.socket ?? defaultSocketPath(io.env, io.uid);
  const client = new StackdClient(socketPath);
  const ctx: Ctx = {
    io, client, json: values.json, now: io.now ?? Date.now,
    sleep: io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
  try {
    const [command, ...args] = positionals;
    const opts: ActionOptions = { noBlock: values['no-block'], healthy: values.healthy, timeout: values.timeout };
    if (command !== 'update' && values['dry-run']) throw new UsageError('--dry-run applies only to "update"');
    if (command !== 'up' && (opts.noBlock || opts.healthy)) throw new UsageError('--no-block and --healthy apply only to "up"');
    if (command !== 'up' && command !== 'stop' && command !== 'down' && opts.timeout !== undefined) {
      throw new UsageError('--timeout applies only to "up", "stop" and "down"');
    }
    switch (command) {
      case 'status': return await status(ctx, optionalName(command, args));
      case 'up': case 'stop': case 'down': return await stackAction(ctx, command, requiredName(command, args), opts);
      case 'check': return await job(ctx, 'check', optionalName(command, args));
      case 'gc': noArgs(command, args); return await job(ctx, 'gc', undefined);
      case 'update': return await job(ctx, 'update', optionalName(command, args), { dryRun: values['dry-run'] });
      case undefined: throw new UsageError('missing command');
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    return reportError(io, err);
  } finally {
    await client.close().catch(() => undefined);
  }
}

function requiredName(command: string, args: string[]): string {
  if (args.length !== 1 || !args[0]) throw new UsageError(`"${command}" takes exactly one stack name, got ${args.length}`);
  return args[0];
}

function optionalName(command: string, args: string[]): string | undefined {
  if (args.length > 1) throw new UsageError(`"${command}" takes at most one stack name, got ${args.length}`);
  return args[0];
}

function noArgs(command: string, args: string[]): void {
  if (args.length > 0) throw new UsageError(`"${command}" takes no arguments, got "${args.join(' ')}"`);
}

async function status(ctx: Ctx, name: string | undefined): Promise<number> {
  const { stdout } = ctx.io;
  if (name === undefined) {
    const stacks = await ctx.client.listStacks();
    if (ctx.json) printJson(ctx, { stacks });
    else stdout.write(renderStatusTable(stacks, { nowMs: ctx.now(), columns: stdout.isTTY ? stdout.columns : undefined }));
  } else {
    const stack = await ctx.client.getStack(name);
    if (ctx.json) printJson(ctx, stack);
    else stdout.write(renderStackDetail(stack, ctx.now()));
  }
  return EXIT.ok;
}

/** check, gc and update: followed to the end without a deadline (a health gate may take minutes). */
async function job(ctx: Ctx, kind: 'check' | 'gc' | 'update', stack: string | undefined, options: { dryRun?: boolean } = {}): Promise<number> {
  const done = await follow(ctx, await ctx.client.startJob(kind, stack, options));
  if (ctx.json) printJson(ctx, done);
  else ctx.io.stdout.write(renderJobOutput(done.output));
  if (!succeeded(done)) {
    ctx.io.stderr.write(`stackctl: ${renderVerdict(done)}\n`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

function usageError(io: CliIo, message: string): number {
  io.stderr.write(`stackctl: ${message}\nRun "stackctl --help" for usage.\n`);
  return EXIT.usage;
}

function reportError(io: CliIo, err: unknown): number {
  if (err instanceof UsageError) return usageError(io, err.message);
  if (err instanceof DaemonUnreachableError) {
    io.stderr.write(`stackctl: ${err.message}. Is it running? Start it with: systemctl --user start stackd.socket stackd.service   (or: stackd --config <path>)\n`);
    return EXIT.unreachable;
  }
  if (err instanceof ApiError) {
    // the client cleaned it already; messages are printed as the renderer prints, without terminal controls
    io.stderr.write(`stackctl: ${stripControls(err.message)}\n`);
    if (err.apiCode === 'unknown-stack') return EXIT.unknownStack;
    if (err.apiCode === 'shutting-down') return EXIT.unreachable;
    if (err.apiCode === 'bad-request') return EXIT.usage;
    return EXIT.failed;
  }
  io.stderr.write(`stackctl: ${stripControls(err instanceof Error ? err.message : String(err))}\n`);
  return EXIT.failed;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.stdout.on('error', () => undefined); // `stackctl status | head`: EPIPE is not an error
  main(process.argv.slice(2), {
    env: process.env, uid: process.getuid?.() ?? 0, stdout: process.stdout, stderr: process.stderr,
  }).then((code) => { process.exitCode = code; });
}
