// `stackctl check --offline [--config PATH] [NAME]`: the file half of `check`, without a daemon, podman
// socket or systemd — for the CI of the owner's host configuration. Reads the stackd config, resolves each
// stack's compose model with compose itself (`config` needs no daemon) and reports label-invariant
// violations (with the lines to add) and the file warnings. Exit 1 on a violation, 2 on a bad config.
import { ComposeRunner } from '../adapters/compose-runner.js';
import { runProcess } from '../adapters/process-runner.js';
import { stackFiles } from '../adapters/stack-files.js';
import type { Config } from '../core/config-types.js';
import type { ComposePort } from '../supervisor/ports.js';
import { Checker } from '../supervisor/checker.js';
import { readConfigFile } from './read-config.js';

export interface OfflineCheckIo {
  env: Record<string, string | undefined>;
  uid: number;
  cwd: string;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const notAsked = () => Promise.reject(new Error('offline check: podman and systemd are not asked'));

/** The config as `check --offline` (and `fix`) read it; a number is the exit code after the message was printed. */
export async function readOfflineConfig(io: OfflineCheckIo, configPath: string | undefined): Promise<Config | number> {
  const read = await readConfigFile(io, configPath);
  return read ? read.config : 2;
}

/** The file half of the checker: compose `config` only, podman and systemd never asked (also `stackctl fix`). */
export function offlineChecker(config: Config, io: Pick<OfflineCheckIo, 'env'>, compose?: Pick<ComposePort, 'config'>): Checker {
  // no socket: the podman wrapper then resolves `config` locally instead of pinging a service first
  const runner = compose ?? new ComposeRunner({ command: config.podman.composeCommand, podmanSocket: null, parentEnv: io.env, run: runProcess });
  return new Checker({
    compose: runner,
    podman: { listProjectContainers: notAsked, inspectContainer: notAsked, info: notAsked },
    systemctl: { isEnabled: notAsked },
    files: stackFiles,
    findOrphanUnits: notAsked,
    config: () => config,
    now: Date.now,
    offline: true,
  });
}

export async function offlineCheck(io: OfflineCheckIo, opts: { config?: string; stack?: string; json: boolean }): Promise<number> {
  const config = await readOfflineConfig(io, opts.config);
  if (typeof config === 'number') return config;
  const checker = offlineChecker(config, io);
  let result;
  try {
    result = await checker.run(opts.stack);
  } catch (err) {
    io.stderr.write(`stackctl: ${err instanceof Error ? err.message : String(err)}\n`);
    return 4;
  }
  if (opts.json) io.stdout.write(`${JSON.stringify(result.output, null, 2)}\n`);
  else io.stdout.write(`${result.output.lines.join('\n')}\n`);
  return result.ok ? 0 : 1;
}
