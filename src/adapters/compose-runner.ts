// Runs `podman compose` (docker-compose v2 behind it) for one stack. Builds argv, spawns through the process
// runner, returns what happened. Exit code and stderr are the verdict (DESIGN.md "Shape"); judging them is the
// caller's job, so a failing compose run resolves, it does not throw. Volumes are never removed (no `-v`).
import path from 'node:path';
import { InvalidOptionError } from './errors.js';
import { buildChildEnv, runProcess } from './process-runner.js';
import type { ProcessResult } from './process-runner.js';
import { judgeComposeProvider } from '../core/compose-provider.js';
import type { ComposeProviderVerdict, ComposeVersionRun } from '../core/compose-provider.js';
import type { ComposePort, ComposeSpec } from '../supervisor/ports.js';

export type { ComposeSpec };

export interface ComposeResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  argv: string[];
}

/** The provider verdict (src/core/compose-provider.ts) plus what `<command> version` printed, for the log. */
export interface ComposeProvider extends ComposeProviderVerdict {
  /** stdout when it exited 0, else stdout and stderr */
  raw: string;
}

export interface ComposeRunnerOptions {
  /** default ['podman', 'compose'] */
  command?: string[];
  /**
   * The rootless API socket compose (and the podman wrapper) talk to. null: none — for `config` without a
   * podman service (stackctl check --offline); with CONTAINER_HOST set, the wrapper would ping it first.
   */
  podmanSocket: string | null;
  /** stackd's environment; only the allow-list reaches compose */
  parentEnv: Record<string, string | undefined>;
  /**
   * The child environment, already built (buildChildEnv): stackd builds it once and hands the same object to
   * the reconciler's fingerprint, so what compose sees and what the fingerprint covers cannot differ.
   */
  env?: Readonly<Record<string, string>>;
  run?: typeof runProcess;
}

const VERSION_TIMEOUT_MS = 30_000;

export class ComposeRunner implements ComposePort {
  private readonly command: string[];
  private readonly env: Record<string, string>;
  private readonly run: typeof runProcess;

  constructor(opts: ComposeRunnerOptions) {
    const command = opts.command ?? ['podman', 'compose'];
    if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string' && c !== '')) {
      throw new InvalidOptionError('command', 'a non-empty array of non-empty strings', command);
    }
    if (opts.podmanSocket !== null && (typeof opts.podmanSocket !== 'string' || !path.isAbsolute(opts.podmanSocket))) {
      throw new InvalidOptionError('podmanSocket', 'an absolute path (or null for none)', opts.podmanSocket);
    }
    this.command = [...command];
    this.env = opts.env ? { ...opts.env } : buildChildEnv(opts.parentEnv, opts.podmanSocket === null ? {} : { podmanSocket: opts.podmanSocket });
    this.run = opts.run ?? runProcess;
  }

  up(spec: ComposeSpec): Promise<ComposeResult> {
    return this.exec(spec, ['up', '-d', '--remove-orphans', ...(spec.pullNever ? ['--pull', 'never'] : [])]);
  }

  stop(spec: ComposeSpec): Promise<ComposeResult> {
    return this.exec(spec, ['stop']);
  }

  /** removes containers and networks, keeps volumes */
  down(spec: ComposeSpec): Promise<ComposeResult> {
    return this.exec(spec, ['down', '--remove-orphans']);
  }

  /** The normalized model (`config --format json`), interpolated with the env files: stdout is the JSON text. */
  config(spec: ComposeSpec): Promise<ComposeResult> {
    return this.exec(spec, ['config', '--format', 'json']);
  }

  /**
   * The provider check at start: which compose provider `<command> version` runs, judged by the core (ok only for
   * docker-compose v2). Never throws: podman or a provider missing is a verdict with ok false and a detail that
   * says what was found and how to fix it.
   */
  async version(): Promise<ComposeProvider> {
    const argv = [...this.command, 'version'];
    const facts: Pick<ComposeVersionRun, 'argv' | 'providerEnv' | 'containersConf'> = {
      argv, providerEnv: this.env.PODMAN_COMPOSE_PROVIDER, containersConf: this.env.CONTAINERS_CONF,
    };
    let r: ProcessResult;
    try {
      // podman names the provider's path on stderr only when its warning logs are on: here they are, so the
      // verdict can say which executable ran (every other compose run keeps them off)
      r = await this.run({ argv, env: { ...this.env, PODMAN_COMPOSE_WARNING_LOGS: 'true' }, timeoutMs: VERSION_TIMEOUT_MS });
    } catch (err) {
      const spawnError = err instanceof Error ? err.message : String(err);
      return { ...judgeComposeProvider({ ...facts, exitCode: null, stdout: '', stderr: '', spawnError }), raw: '' };
    }
    const verdict = judgeComposeProvider({
      ...facts, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut, timeoutMs: VERSION_TIMEOUT_MS,
    });
    return { ...verdict, raw: (r.exitCode === 0 ? r.stdout : r.stdout + r.stderr).trim() };
  }

  argv(spec: ComposeSpec, verb: string[]): string[] {
    return [
      ...this.command,
      '-p', spec.project,
      ...spec.composeFiles.flatMap((f) => ['-f', f]),
      ...spec.envFiles.flatMap((e) => ['--env-file', e]),
      ...verb,
    ];
  }

  private async exec(spec: ComposeSpec, verb: string[]): Promise<ComposeResult> {
    const first = spec.composeFiles[0];
    if (first === undefined) throw new InvalidOptionError('composeFiles', 'at least one compose file', spec.composeFiles);
    if (!spec.project) throw new InvalidOptionError('project', 'a compose project name', spec.project);
    const argv = this.argv(spec, verb);
    const r = await this.run({
      argv,
      env: this.env,
      cwd: spec.cwd ?? path.dirname(first),
      timeoutMs: spec.timeoutMs,
      signal: spec.signal,
    });
    return {
      ok: r.exitCode === 0 && !r.timedOut && !r.aborted,
      exitCode: r.exitCode,
      signal: r.signal,
      stdout: r.stdout,
      stderr: r.stderr,
      timedOut: r.timedOut,
      aborted: r.aborted,
      durationMs: r.durationMs,
      argv,
    };
  }
}
