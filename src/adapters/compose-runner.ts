// Runs `podman compose` (docker-compose v2 behind it) for one stack. Builds argv, spawns through the process
// runner, returns what happened. Exit code and stderr are the verdict (DESIGN.md "Shape"); judging them is the
// caller's job, so a failing compose run resolves, it does not throw. Volumes are never removed (no `-v`).
import path from 'node:path';
import { InvalidOptionError } from './errors.js';
import { buildChildEnv, runProcess } from './process-runner.js';
import type { ProcessResult } from './process-runner.js';
import { summarizeComposeError } from '../core/compose-errors.js';

export interface ComposeSpec {
  project: string;
  /** absolute paths, in order; each becomes -f */
  composeFiles: string[];
  /** each becomes --env-file, in order */
  envFiles: string[];
  timeoutMs: number;
  /** default: the directory of the first compose file (compose resolves relative paths from there) */
  cwd?: string;
  signal?: AbortSignal;
}

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

export interface ComposeProvider {
  ok: boolean;
  /** "docker-compose" | "podman-compose" | "unknown" ("" when none was found) */
  provider: string;
  version: string;
  /** one line for logs: "docker-compose 2.26.1-4", or what failed and how to fix it */
  detail: string;
  /** what `<command> version` printed */
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
  run?: typeof runProcess;
}

const VERSION_TIMEOUT_MS = 30_000;

export class ComposeRunner {
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
    this.env = buildChildEnv(opts.parentEnv, opts.podmanSocket === null ? {} : { podmanSocket: opts.podmanSocket });
    this.run = opts.run ?? runProcess;
  }

  up(spec: ComposeSpec): Promise<ComposeResult> {
    return this.exec(spec, ['up', '-d', '--remove-orphans']);
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
   * The provider check at start: what `<command> version` finds. Never throws: a missing provider (or podman)
   * is reported as `ok: false` with a `detail` that says what happened and how to fix it.
   */
  async version(): Promise<ComposeProvider> {
    const argv = [...this.command, 'version'];
    let r: ProcessResult;
    try {
      r = await this.run({ argv, env: this.env, timeoutMs: VERSION_TIMEOUT_MS });
    } catch (err) {
      return noProvider(argv, err instanceof Error ? err.message : String(err), '');
    }
    if (r.exitCode !== 0) {
      const why = r.timedOut ? `no answer within ${VERSION_TIMEOUT_MS} ms` : summarizeComposeError(r.stderr) || `exit ${r.exitCode ?? r.signal}`;
      return noProvider(argv, why, r.stdout + r.stderr);
    }
    const raw = r.stdout.trim();
    const found = identifyProvider(raw);
    return { ok: true, ...found, raw, detail: found.provider === 'unknown' ? raw : `${found.provider} ${found.version}` };
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

// "Docker Compose version 2.26.1-4" (docker-compose v2); "podman-compose version 1.3.0" (+ podman's version)
function identifyProvider(raw: string): { provider: string; version: string } {
  const docker = /Docker Compose version v?(\S+)/i.exec(raw);
  if (docker) return { provider: 'docker-compose', version: docker[1] ?? '' };
  const podman = /podman-compose version:?\s*v?(\S+)/i.exec(raw);
  if (podman) return { provider: 'podman-compose', version: podman[1] ?? '' };
  return { provider: 'unknown', version: '' };
}

function noProvider(argv: string[], why: string, raw: string): ComposeProvider {
  return {
    ok: false, provider: '', version: '', raw,
    detail: `\`${argv.join(' ')}\` found no working compose provider: ${why}; install docker-compose v2 (podman ` +
      'looks in /usr/libexec/docker/cli-plugins and the PATH, or set compose_providers in containers.conf)',
  };
}
