#!/usr/bin/env node
// stackctl: the human and script front end over stackd's unix socket. `main` is the whole program; the last
// lines run it when this file is the entry point, so tests call `main` in-process.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiError, DaemonUnreachableError, StackdClient } from './client.js';
import { renderJobOutput, renderStackDetail, renderStatusTable, renderVerdict } from './render.js';
import { checkDuration } from '../core/duration.js';
import { offlineCheck } from './offline-check.js';
import { stripControls } from './terminal-text.js';
import type { Job, StackAction } from '../supervisor/api.js';

/**
 * The exit codes scripts and systemd see. `unreachable` means "stackd is not there to do it": nothing answers on
 * the socket, or stackd answered 503 shutting-down (it is stopping and takes no new work). Both have the same
 * remedy, wait for stackd to (re)start and ask again, so they share a code; the message says which it was.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, unknownStack: 4 } as const;

export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  env: Record<string, string | undefined>;
  uid: number;
  stdout: Output;
  stderr: Output;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** How long one long-poll for a job may wait on the daemon; the CLI polls again until the job is finished. */
export const JOB_POLL_MS = 30_000;
/** How often `up --healthy` looks at the stack's health. */
export const HEALTH_POLL_MS = 2_000;
const DEFAULT_HEALTHY_TIMEOUT = '5m';

const USAGE = `Usage: stackctl [--socket PATH] [--json] COMMAND

Commands:
  status [NAME]                      all stacks as a table, or one stack with its containers
  up NAME [--no-block] [--healthy] [--timeout DUR]
                                     desired running; waits for the verdict of the reconcile
                                     (--healthy: then until the stack is healthy, default 5m)
  stop NAME                          desired stopped; compose stop
  down NAME                          desired removed; compose down (containers removed, volumes kept)
  check [NAME]                       preflight only, changes nothing
  check --offline [--config PATH] [NAME]
                                     the compose files only, without stackd or podman (for CI):
                                     label invariant and file warnings; exit 1 on a violation
  gc                                 remove orphaned healthcheck timers

Options:
  --socket PATH   stackd's API socket (env STACKD_SOCKET; default $XDG_RUNTIME_DIR/stackd/stackd.sock)
  --json          print the raw JSON answer
  -h, --help      this text

Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 stackd unreachable or shutting down,
            4 unknown stack
`;

class UsageError extends Error {}

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
    if (command !== 'up' && (opts.noBlock || opts.healthy || opts.timeout !== undefined)) {
      throw new UsageError('--no-block, --healthy and --timeout apply only to "up"');
    }
    switch (command) {
      case 'status': return await status(ctx, optionalName(command, args));
      case 'up': case 'stop': case 'down': return await stackAction(ctx, command, requiredName(command, args), opts);
      case 'check': return await job(ctx, 'check', optionalName(command, args));
      case 'gc': noArgs(command, args); return await job(ctx, 'gc', undefined);
      case undefined: throw new UsageError('missing command');
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    return reportError(io, err);
  } finally {
    await client.close().catch(() => undefined);
  }
}

interface Ctx {
  io: CliIo;
  client: StackdClient;
  json: boolean;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

interface ActionOptions {
  noBlock: boolean;
  healthy: boolean;
  timeout: string | undefined;
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

function printJson(ctx: Ctx, value: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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

async function stackAction(ctx: Ctx, action: StackAction, name: string, opts: ActionOptions): Promise<number> {
  const timeout = checkDuration(opts.timeout ?? DEFAULT_HEALTHY_TIMEOUT, { allowZero: false });
  if (!timeout.ok) throw new UsageError(`--timeout: got ${JSON.stringify(opts.timeout)}; ${timeout.expected}`);
  const timeoutMs = timeout.ms;
  if (opts.timeout !== undefined && !opts.healthy) throw new UsageError('--timeout applies only with --healthy');
  if (opts.noBlock && opts.healthy) throw new UsageError('--no-block and --healthy exclude each other');
  const queued = await ctx.client.requestAction(name, action);
  if (opts.noBlock) {
    if (ctx.json) printJson(ctx, queued);
    else ctx.io.stdout.write(`${action} ${name}: queued (job ${queued.id})\n`);
    return EXIT.ok;
  }
  const done = await follow(ctx, queued);
  if (ctx.json) printJson(ctx, done);
  if (!succeeded(done)) {
    ctx.io.stderr.write(`stackctl: ${renderVerdict(done)}\n`);
    return EXIT.failed;
  }
  if (!ctx.json) ctx.io.stdout.write(`${renderVerdict(done)}\n`);
  return opts.healthy ? awaitHealthy(ctx, name, timeoutMs) : EXIT.ok;
}

async function job(ctx: Ctx, kind: 'check' | 'gc', stack: string | undefined): Promise<number> {
  const done = await follow(ctx, await ctx.client.startJob(kind, stack));
  if (ctx.json) printJson(ctx, done);
  else ctx.io.stdout.write(renderJobOutput(done.output));
  if (!succeeded(done)) {
    ctx.io.stderr.write(`stackctl: ${renderVerdict(done)}\n`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

function succeeded(job: Job): boolean {
  return job.status === 'done' && job.result?.result !== 'failed';
}

/** Long-polls until the job is finished: no client-side deadline, a slow compose run is simply waited for. */
async function follow(ctx: Ctx, job: Job): Promise<Job> {
  let current = job;
  while (current.status === 'queued' || current.status === 'running') {
    current = await ctx.client.getJob(current.id, JOB_POLL_MS);
  }
  return current;
}

async function awaitHealthy(ctx: Ctx, name: string, timeoutMs: number): Promise<number> {
  const deadline = ctx.now() + timeoutMs;
  for (;;) {
    const stack = await ctx.client.getStack(name);
    if (stack.health === 'healthy') {
      if (!ctx.json) ctx.io.stdout.write(`${name}: healthy\n`);
      return EXIT.ok;
    }
    if (stack.state === 'failed' || stack.health === 'down') {
      ctx.io.stderr.write(`stackctl: ${name} did not become healthy: state ${stack.state}, health ${stack.health}\n`);
      return EXIT.failed;
    }
    if (ctx.now() >= deadline) {
      ctx.io.stderr.write(`stackctl: ${name} not healthy after ${formatTimeout(timeoutMs)}: state ${stack.state}, health ${stack.health}\n`);
      return EXIT.failed;
    }
    await ctx.sleep(Math.min(HEALTH_POLL_MS, Math.max(0, deadline - ctx.now())));
  }
}

function formatTimeout(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
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
