#!/usr/bin/env node
// stackctl: the human and script front end over stackd's unix socket. `main` is the whole program; the last
// lines run it when this file is the entry point, so tests call `main` in-process.
// Start-up matters (every stack unit runs `stackctl up NAME` at boot): this file loads only what every command
// needs. The HTTP client, each command and the offline check are imported when that command runs, and nothing
// here may import undici, typebox, yaml, ajv or src/http at run time (test/contract/cli/startup-imports.test.ts).
// Node's built-ins come from process.getBuiltinModule, not `import`: an ESM import of a built-in builds its
// namespace from every export, running lazy getters (node:http's WebSocket loads node's bundled undici, crypto,
// tls, http2 and zlib: ~25 ms); see client.ts.
import type { StackdClient } from './client.js';
import { UsageError } from './context.js';
import type { Ctx, Output } from './context.js';
import { ApiError, DaemonUnreachableError } from './errors.js';
import { EXIT } from './exit-codes.js';
import type { ActionOptions } from './stack-action.js';
import { stripControls } from '../core/terminal-text.js';

const { realpathSync } = process.getBuiltinModule('node:fs');
const { pathToFileURL } = process.getBuiltinModule('node:url');
const { parseArgs } = process.getBuiltinModule('node:util');

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
  fix [NAME…] [--write] [--qualify-images] [--config PATH]
                                     mechanical fixes of the compose files (PODMAN_SYSTEMD_UNIT label,
                                     obsolete version:, with --qualify-images short image names): a diff;
                                     --write applies it. Reads the config like check --offline (no daemon)
  import [--from-podman] [DIR…]      print a draft config from the compose labels of podman's containers
                                     and/or directories holding a compose file (guesses marked)
  gc                                 remove orphaned healthcheck timers
  units [--dir DIR] [--dry-run] [--config PATH] [--daemon-unit NAME] [--curl PATH]
                                     write one systemd user unit per configured stack and the update
                                     timer (default dir ~/.config/systemd/user), remove those it wrote
                                     for stacks no longer configured, and say what changed; from the
                                     config file, without stackd. The stack units ask stackd with curl
                                     (--curl, default: curl on PATH; without it they run stackctl).
                                     --socket goes into the units
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
        dir: { type: 'string' },
        'daemon-unit': { type: 'string' },
        curl: { type: 'string' },
        write: { type: 'boolean', default: false },
        'qualify-images': { type: 'boolean', default: false },
        'from-podman': { type: 'boolean', default: false },
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
  if (first === 'units') {
    if (rest.length > 0) return usageError(io, `"units" takes no arguments, got "${rest.join(' ')}"`);
    if (values.offline) return usageError(io, '--offline applies only to "check"');
    const { units } = await import('./units.js');
    return units({ env: io.env, uid: io.uid, cwd: process.cwd(), stdout: io.stdout, stderr: io.stderr }, {
      dryRun: values['dry-run'], json: values.json,
      ...(values.dir !== undefined ? { dir: values.dir } : {}),
      ...(values.config !== undefined ? { config: values.config } : {}),
      ...(values.socket !== undefined ? { socket: values.socket } : {}),
      ...(values['daemon-unit'] !== undefined ? { daemonUnit: values['daemon-unit'] } : {}),
      ...(values.curl !== undefined ? { curl: values.curl } : {}),
    });
  }
  if (values.dir !== undefined || values['daemon-unit'] !== undefined || values.curl !== undefined) {
    return usageError(io, '--dir, --daemon-unit and --curl apply only to "units"');
  }
  if (first === 'fix') {
    if (values.json) return usageError(io, '--json does not apply to "fix"');
    const { fix } = await import('./fix.js');
    return fix({ env: io.env, uid: io.uid, cwd: process.cwd(), stdout: io.stdout, stderr: io.stderr },
      { ...(values.config !== undefined ? { config: values.config } : {}), stacks: rest, write: values.write, qualifyImages: values['qualify-images'] });
  }
  if (first === 'import') {
    if (!values['from-podman'] && rest.length === 0) return usageError(io, '"import" needs --from-podman or at least one DIR');
    const { importConfig } = await import('./import.js');
    return importConfig({ env: io.env, uid: io.uid, cwd: process.cwd(), stdout: io.stdout, stderr: io.stderr }, { fromPodman: values['from-podman'], dirs: rest });
  }
  if (values['from-podman']) return usageError(io, '--from-podman applies only to "import"');
  if (values.write || values['qualify-images']) return usageError(io, '--write and --qualify-images apply only to "fix"');
  if (values.offline || values.config !== undefined) {
    if (first !== 'check') return usageError(io, '--offline and --config apply only to "check", "fix" and "units"');
    if (!values.offline) return usageError(io, '--config needs --offline (online, the daemon\'s own config is used)');
    if (rest.length > 1) return usageError(io, `"check" takes at most one stack name, got ${rest.length}`);
    const { offlineCheck } = await import('./offline-check.js');
    return offlineCheck({ env: io.env, uid: io.uid, cwd: process.cwd(), stdout: io.stdout, stderr: io.stderr },
      { ...(values.config !== undefined ? { config: values.config } : {}), ...(rest[0] ? { stack: rest[0] } : {}), json: values.json });
  }
  const socketPath = values.socket ?? defaultSocketPath(io.env, io.uid);
  let client: StackdClient | undefined;
  try {
    const [command, ...args] = positionals;
    const opts: ActionOptions = { noBlock: values['no-block'], healthy: values.healthy, timeout: values.timeout };
    if (command !== 'update' && values['dry-run']) throw new UsageError('--dry-run applies only to "update" and "units"');
    if (command !== 'up' && (opts.noBlock || opts.healthy)) throw new UsageError('--no-block and --healthy apply only to "up"');
    if (command !== 'up' && command !== 'stop' && command !== 'down' && opts.timeout !== undefined) {
      throw new UsageError('--timeout applies only to "up", "stop" and "down"');
    }
    let run: (ctx: Ctx) => Promise<number>;
    switch (command) {
      case 'status': {
        const name = optionalName(command, args);
        run = async (ctx) => (await import('./status.js')).status(ctx, name);
        break;
      }
      case 'up': case 'stop': case 'down': {
        const name = requiredName(command, args);
        run = async (ctx) => (await import('./stack-action.js')).stackAction(ctx, command, name, opts);
        break;
      }
      case 'check': {
        const name = optionalName(command, args);
        run = async (ctx) => (await import('./job.js')).job(ctx, 'check', name);
        break;
      }
      case 'gc':
        noArgs(command, args);
        run = async (ctx) => (await import('./job.js')).job(ctx, 'gc', undefined);
        break;
      case 'update': {
        const name = optionalName(command, args);
        run = async (ctx) => (await import('./job.js')).job(ctx, 'update', name, { dryRun: values['dry-run'] });
        break;
      }
      case undefined: throw new UsageError('missing command');
      default: throw new UsageError(`unknown command "${command}"`);
    }
    client = new (await import('./client.js')).StackdClient(socketPath);
    return await run({
      io, client, json: values.json, now: io.now ?? Date.now,
      sleep: io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    });
  } catch (err) {
    return reportError(io, err);
  } finally {
    await client?.close().catch(() => undefined);
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
