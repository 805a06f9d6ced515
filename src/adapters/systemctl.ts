// `systemctl --user` through the process runner, argv only. Returns raw text (parsing the unit list is the
// core's parseListUnits) or plain outcomes; deciding what a failed stop means is the caller's job.
import { InvalidOptionError, ProcessExitError, ProcessTimeoutError } from './errors.js';
import { buildChildEnv, runProcess } from './process-runner.js';
import type { ProcessResult } from './process-runner.js';

export interface SystemctlOptions {
  /** stackd's environment; only the allow-list reaches systemctl (it finds the user bus via XDG_RUNTIME_DIR) */
  parentEnv: Record<string, string | undefined>;
  /** default ['systemctl'] */
  command?: string[];
  /** default 30 s */
  timeoutMs?: number;
  run?: typeof runProcess;
}

export interface SystemctlOutcome {
  ok: boolean;
  exitCode: number | null;
  stderr: string;
}

export interface UnitFileState {
  /** what is-enabled printed: enabled, disabled, static, masked, not-found, …; '' when it printed nothing */
  state: string;
  exitCode: number | null;
  stderr: string;
}

export class Systemctl {
  private readonly command: string[];
  private readonly env: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly run: typeof runProcess;

  constructor(opts: SystemctlOptions) {
    const command = opts.command ?? ['systemctl'];
    if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string' && c !== '')) {
      throw new InvalidOptionError('command', 'a non-empty array of non-empty strings', command);
    }
    this.command = [...command];
    this.env = buildChildEnv(opts.parentEnv);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.run = opts.run ?? runProcess;
  }

  /** Raw `list-units` text, one unit per line; `patterns` narrows it (e.g. ['*.timer']). */
  async listUnits(patterns: string[] = []): Promise<string> {
    const r = await this.mustSucceed(['--user', 'list-units', '--all', '--plain', '--no-legend', '--full', ...patternArgs(patterns)]);
    return r.stdout;
  }

  /**
   * Epoch ms since each unit became active, for the "is this orphan old enough to remove" check. Uses
   * ActiveEnterTimestamp: for a healthcheck timer that is its creation time and stays put, while
   * StateChangeTimestamp moves on every tick (waiting → running → waiting; seen in the lab). Falls back to
   * StateChangeTimestamp for units that never became active (a failed one-shot service). `--timestamp=unix`
   * (systemd >= 251) gives `@<seconds>` regardless of locale and time zone. Units systemd does not know are
   * left out of the result.
   */
  async unitActiveEnterTimestamps(units: string[]): Promise<Record<string, number>> {
    if (units.length === 0) return {};
    const r = await this.mustSucceed([
      '--user', 'show', '--timestamp=unix', '-p', 'Id', '-p', 'ActiveEnterTimestamp', '-p', 'StateChangeTimestamp', '--', ...units,
    ]);
    return parseShowTimestamps(r.stdout);
  }

  async stop(units: string[]): Promise<SystemctlOutcome> {
    if (units.length === 0) return { ok: true, exitCode: 0, stderr: '' };
    return outcome(await this.exec(['--user', 'stop', '--', ...units]));
  }

  /** Without units: every failed user unit. */
  async resetFailed(units: string[] = []): Promise<SystemctlOutcome> {
    return outcome(await this.exec(['--user', 'reset-failed', ...(units.length ? ['--', ...units] : [])]));
  }

  /** The exit code is part of the answer (non-zero for disabled/not-found), so this never throws on it. */
  async isEnabled(unit: string, scope: 'user' | 'system'): Promise<UnitFileState> {
    if (scope !== 'user' && scope !== 'system') throw new InvalidOptionError('scope', '"user" or "system"', scope);
    const r = await this.exec([`--${scope}`, 'is-enabled', '--', unit]);
    return { state: r.stdout.trim(), exitCode: r.exitCode, stderr: r.stderr };
  }

  private async exec(args: string[]): Promise<ProcessResult> {
    const argv = [...this.command, ...args];
    const r = await this.run({ argv, env: this.env, timeoutMs: this.timeoutMs });
    if (r.timedOut) throw new ProcessTimeoutError(argv, this.timeoutMs, r.stderr);
    return r;
  }

  private async mustSucceed(args: string[]): Promise<ProcessResult> {
    const r = await this.exec(args);
    if (r.exitCode !== 0) throw new ProcessExitError([...this.command, ...args], r.exitCode, r.stderr);
    return r;
  }
}

/** `systemctl show` output: blocks of Key=Value separated by blank lines, properties in systemd's own order. */
export function parseShowTimestamps(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const block of text.split(/\n\s*\n/)) {
    const props = new Map<string, string>();
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
    const id = props.get('Id');
    if (!id) continue;
    const ms = unixTimestampMs(props.get('ActiveEnterTimestamp')) ?? unixTimestampMs(props.get('StateChangeTimestamp'));
    if (ms !== undefined) out[id] = ms;
  }
  return out;
}

function unixTimestampMs(v: string | undefined): number | undefined {
  const m = v ? /^@(\d+)$/.exec(v) : null;
  if (!m) return undefined;
  const s = Number(m[1]);
  return s > 0 ? s * 1000 : undefined;
}

function patternArgs(patterns: string[]): string[] {
  return patterns.length ? ['--', ...patterns] : [];
}

function outcome(r: ProcessResult): SystemctlOutcome {
  return { ok: r.exitCode === 0, exitCode: r.exitCode, stderr: r.stderr };
}
