// THE one place stackd spawns processes (STYLE.md "For stackd"). argv only (no shell), an explicit
// environment (never stackd's own), stdin closed, bounded output, and a timeout that kills the whole process
// group: docker-compose and podman fork helpers, and killing only the leader would leave them running.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { InvalidOptionError, ProcessSpawnError } from './errors.js';

export interface RunProcessOptions {
  argv: string[];
  /** the child's whole environment; build it with buildChildEnv */
  env: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** per stream; the tail is kept (errors come last). Default 1 MiB. */
  maxOutputBytes?: number;
  /** time between SIGTERM and SIGKILL to the group. Default 5 s. */
  killGraceMs?: number;
  /** aborting kills the process group like a timeout does */
  signal?: AbortSignal;
  /**
   * Written to the child's stdin, which is then closed (a docker-credential helper reads the server URL
   * there). Without it stdin is closed from the start, as before.
   */
  input?: string;
}

export interface ProcessResult {
  exitCode: number | null;
  /** the signal that ended the process, e.g. "SIGTERM" */
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
const DEFAULT_KILL_GRACE_MS = 5_000;

export function runProcess(opts: RunProcessOptions): Promise<ProcessResult> {
  validate(opts);
  const maxBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const [file, ...args] = opts.argv as [string, ...string[]];
  const started = performance.now();

  return new Promise<ProcessResult>((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve(emptyResult({ aborted: true }));
      return;
    }
    const common = {
      cwd: opts.cwd,
      env: opts.env,
      shell: false,
      // own process group, so a timeout can signal every descendant with kill(-pid)
      detached: true,
    };
    // stdin is a pipe only when there is input to write; otherwise closed (/dev/null) as always
    const child: ChildProcessByStdio<Writable | null, Readable, Readable> = opts.input === undefined
      ? spawn(file, args, { ...common, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(file, args, { ...common, stdio: ['pipe', 'pipe', 'pipe'] });
    if (opts.input !== undefined && child.stdin) {
      // a child that exits without reading its stdin makes the write fail with EPIPE: its exit code tells
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
    const stdout = new TailBuffer(maxBytes);
    const stderr = new TailBuffer(maxBytes);
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));

    let settled = false;
    let timedOut = false;
    let aborted = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is already gone
      }
    };
    const terminate = () => {
      killGroup('SIGTERM');
      graceTimer ??= setTimeout(() => killGroup('SIGKILL'), graceMs);
    };
    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, opts.timeoutMs);
    const onAbort = () => {
      aborted = true;
      terminate();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const cleanup = () => {
      settled = true;
      clearTimeout(timeoutTimer);
      if (graceTimer) clearTimeout(graceTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };

    child.once('error', (err) => {
      if (settled) return;
      // 'error' without a pid means the spawn itself failed (ENOENT, EACCES, bad cwd)
      if (child.pid === undefined) {
        cleanup();
        reject(new ProcessSpawnError(opts.argv, opts.cwd, { cause: err }));
      }
    });
    // 'close' (not 'exit') waits for the pipes, so the output is complete
    child.once('close', (code, sig) => {
      if (settled) return;
      // we signalled the group: make sure no member that ignored SIGTERM outlives the leader
      if (timedOut || aborted) killGroup('SIGKILL');
      cleanup();
      resolve({
        exitCode: code,
        signal: sig,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncatedBytes > 0,
        stderrTruncated: stderr.truncatedBytes > 0,
        timedOut,
        aborted,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

/**
 * The child environment: an allow-list of the parent's variables (DESIGN.md "Shape") plus the podman socket.
 * docker-compose reads DOCKER_HOST, the podman CLI reads CONTAINER_HOST; both point at the configured socket.
 */
export function buildChildEnv(
  parentEnv: Record<string, string | undefined>,
  extra: { podmanSocket?: string } = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parentEnv)) {
    if (value === undefined) continue;
    if (ALLOWED.has(key) || key.startsWith('PODMAN_')) env[key] = value;
  }
  env.PODMAN_IGNORE_CGROUPSV1_WARNING = '1';
  env.PODMAN_COMPOSE_WARNING_LOGS = 'false';
  if (extra.podmanSocket !== undefined) {
    env.CONTAINER_HOST = `unix://${extra.podmanSocket}`;
    env.DOCKER_HOST = `unix://${extra.podmanSocket}`;
  }
  return env;
}

// LANG/LC_ALL: passed so tools print the way the owner's shell does; the parsed outputs are locale-free.
// CONTAINERS_CONF(_OVERRIDE): which containers.conf podman reads, and so which compose provider `podman compose`
// runs (compose_providers); PODMAN_COMPOSE_PROVIDER, which overrides it, passes with the PODMAN_ prefix. Without
// them stackd's compose would pick a provider other than the one its own provider check judged.
const ALLOWED = new Set(['PATH', 'HOME', 'XDG_RUNTIME_DIR', 'LANG', 'LC_ALL', 'CONTAINERS_CONF', 'CONTAINERS_CONF_OVERRIDE']);

/** Keeps the last `max` bytes of a stream: compose prints its errors at the end. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncatedBytes = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.max && this.chunks.length > 0) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.max;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.truncatedBytes += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.truncatedBytes += excess;
      }
    }
  }

  text(): string {
    let buf = Buffer.concat(this.chunks);
    if (this.truncatedBytes === 0) return buf.toString('utf8');
    // skip UTF-8 continuation bytes so the cut does not start mid-character
    let start = 0;
    while (start < buf.length && ((buf[start] as number) & 0xc0) === 0x80) start++;
    buf = buf.subarray(start);
    return `[stackd: ${this.truncatedBytes + start} earlier bytes truncated]\n${buf.toString('utf8')}`;
  }
}

function emptyResult(flags: { aborted: boolean }): ProcessResult {
  return {
    exitCode: null, signal: null, stdout: '', stderr: '', stdoutTruncated: false, stderrTruncated: false,
    timedOut: false, aborted: flags.aborted, durationMs: 0,
  };
}

function validate(opts: RunProcessOptions): void {
  if (!Array.isArray(opts.argv) || opts.argv.length === 0 || !opts.argv.every((a) => typeof a === 'string') || opts.argv[0] === '') {
    throw new InvalidOptionError('argv', 'a non-empty array of strings', opts.argv);
  }
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new InvalidOptionError('timeoutMs', 'a number of milliseconds above 0', opts.timeoutMs);
  }
  if (opts.maxOutputBytes !== undefined && (!Number.isInteger(opts.maxOutputBytes) || opts.maxOutputBytes < 1)) {
    throw new InvalidOptionError('maxOutputBytes', 'an integer from 1 and up', opts.maxOutputBytes);
  }
}
