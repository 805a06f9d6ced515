// The system-test harness: runs the REAL daemon and CLI (built into dist/) as the unprivileged lab user,
// against its rootless podman socket, inside the systemd user manager's cgroup subtree
// (test/lab/run-system-tests.sh puts us there). Nothing here imitates podman.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer as createNetServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MAIN = join(ROOT, 'dist/main.js');
export const STACKCTL = join(ROOT, 'dist/cli/stackctl.js');
export const RUNTIME_DIR = process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${process.getuid?.()}`;
export const PODMAN_SOCKET = join(RUNTIME_DIR, 'podman/podman.sock');
export const BASE_IMAGE = 'localhost/busybox:lab';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(argv: string[], opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error('empty argv');
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // the command may exit without reading its input
      child.stdin.end(opts.input);
    }
  });
}

export async function podman(...args: string[]): Promise<RunResult> {
  return run(['podman', ...args], { env: { PODMAN_IGNORE_CGROUPSV1_WARNING: '1' } });
}

/** podman, asserting success; returns stdout */
export async function podmanOk(...args: string[]): Promise<string> {
  const r = await podman(...args);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export interface ContainerFacts {
  id: string;
  name: string;
  state: string;
  health: string;
  startedAt: string;
  labels: Record<string, string>;
}

/** Containers of a compose project, straight from podman (not from stackd). */
export async function projectContainers(project: string): Promise<ContainerFacts[]> {
  const out = await podmanOk('ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', 'json');
  const list = JSON.parse(out || '[]') as { Id: string; Names: string[]; State: string; Status: string; StartedAt: number; Labels: Record<string, string> | null }[];
  return list.map((c) => ({
    id: c.Id, name: c.Names[0] ?? '', state: c.State, health: c.Status, startedAt: String(c.StartedAt), labels: c.Labels ?? {},
  }));
}

export async function removeProject(project: string): Promise<void> {
  for (const label of ['com.docker.compose.project', 'io.podman.compose.project']) {
    const ids = (await podmanOk('ps', '-aq', '--filter', `label=${label}=${project}`)).split('\n').filter(Boolean);
    if (ids.length) await podman('rm', '-f', '-t', '0', ...ids);
  }
  const nets = (await podmanOk('network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`)).split('\n').filter(Boolean);
  if (nets.length) await podman('network', 'rm', '-f', ...nets);
}

/** A scratch folder for one test file: compose files, env files, config, sockets, state. */
export async function scratch(name: string): Promise<string> {
  const base = join(process.env['HOME'] ?? tmpdir(), 'stackd-system-tests');
  await mkdir(base, { recursive: true });
  return mkdtemp(join(base, `${name}-`));
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    await mkdir(resolve(p, '..'), { recursive: true });
    await writeFile(p, text);
  }
}

export interface StackStatusJson {
  name: string;
  desired: string;
  phase: string;
  state: string;
  health: string;
  lastResult?: { result: string; reasonCode?: string; reason?: string };
  containers: { id: string; name: string; service: string; state: string; health: string }[];
}

export class Daemon {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  logs = '';
  readonly socket: string;

  constructor(readonly dir: string, readonly configPath: string) {
    this.socket = join(dir, 'api.sock');
  }

  async start(extraEnv: Record<string, string> = {}): Promise<void> {
    this.logs = '';
    const child = spawn(process.execPath, [MAIN, '--config', this.configPath], {
      env: { ...process.env, STACKD_LOG_LEVEL: 'debug', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => { this.logs += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { this.logs += d.toString(); });
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`stackd exited early (${child.exitCode}):\n${this.logs}`);
      const r = await request('http://stackd/healthz', { dispatcher: new Agent({ connect: { socketPath: this.socket } }) }).catch(() => undefined);
      if (!r) return false;
      await r.body.dump();
      return r.statusCode === 200;
    }, 30_000, 'stackd to answer /healthz', () => this.logs.slice(-3000));
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    return this.exited ?? null;
  }

  /** SIGKILL (a crash: nothing of stackd's shutdown runs) and wait for the exit. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** the daemon's process id while it runs (for /proc/<pid>/status) */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null;
  }

  ctl(...args: string[]): Promise<RunResult> {
    return run([process.execPath, STACKCTL, '--socket', this.socket, ...args]);
  }

  async status(): Promise<StackStatusJson[]> {
    const r = await this.ctl('status', '--json');
    if (r.code !== 0) throw new Error(`stackctl status failed (${r.code}): ${r.stderr}`);
    return (JSON.parse(r.stdout) as { stacks: StackStatusJson[] }).stacks;
  }

  async stack(name: string): Promise<StackStatusJson> {
    const s = (await this.status()).find((x) => x.name === name);
    if (!s) throw new Error(`stack ${name} not in status`);
    return s;
  }

  /** Wait until the stack satisfies pred (state progress is asynchronous); returns the last status. */
  async waitStack(name: string, pred: (s: StackStatusJson) => boolean, what: string, timeoutMs = 120_000): Promise<StackStatusJson> {
    let last: StackStatusJson | undefined;
    await waitFor(async () => {
      last = await this.stack(name);
      return pred(last);
    }, timeoutMs, `${name}: ${what}`, () => JSON.stringify(last, null, 1));
    return last as StackStatusJson;
  }
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\nlast seen: ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function cleanup(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Config YAML for a test: its own API socket and state file inside dir, so tests never share a daemon. */
export function configYaml(dir: string, stacksYaml: string, opts: { composeCommand?: string; extra?: string } = {}): string {
  const extra = opts.extra ?? '';
  return `podman:
  socket: ${PODMAN_SOCKET}
${opts.composeCommand ? `  composeCommand: [${opts.composeCommand}]\n` : ''}api:
  socket: ${join(dir, 'api.sock')}
stateFile: ${join(dir, 'state.json')}
queue:
  concurrency: auto
  retryBase: 60s
defaults:
  envWait: 2s
  healthWindow: 2m
${extra}
stacks:
${stacksYaml}`;
}

// --- issue 3 helpers (failure-modes.test.ts): systemd user units, inspect, metrics ---------------------

export function systemctlUser(...args: string[]): Promise<RunResult> {
  return run(['systemctl', '--user', ...args]);
}

/**
 * The lab has no journald: a drop-in sends a unit's stdout and stderr (what `journalctl --user -u UNIT` shows on a
 * host) to `file`, appended in order; the unit's own file stays as it is. Remove `<unitDir>/<unit>.d` afterwards.
 */
export async function captureUnitOutput(unitDir: string, unit: string, file: string): Promise<void> {
  await mkdir(join(unitDir, `${unit}.d`), { recursive: true });
  await writeFile(join(unitDir, `${unit}.d`, 'output.conf'), `[Service]\nStandardOutput=append:${file}\nStandardError=append:${file}\n`);
}

/** The lines a unit printed so far into its captureUnitOutput file (none when it printed nothing). */
export async function unitOutput(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '');
}

/** Names of every unit the user manager knows (loaded, any state). */
export async function userUnitNames(): Promise<string[]> {
  const r = await systemctlUser('list-units', '--all', '--plain', '--no-legend', '--full');
  if (r.code !== 0) throw new Error(`systemctl --user list-units failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

/** Epoch ms the unit became active (systemd's second resolution), or undefined. */
export async function unitActiveSinceMs(unit: string): Promise<number | undefined> {
  const r = await systemctlUser('show', '--timestamp=unix', '-p', 'ActiveEnterTimestamp', '--value', '--', unit);
  const m = /^@(\d+)/.exec(r.stdout.trim());
  return m ? Number(m[1]) * 1000 : undefined;
}

export function randomHex(chars: number): string {
  let s = '';
  while (s.length < chars) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

export interface InspectFacts {
  Id: string;
  Name: string;
  State: { Status: string; StartedAt: string; FinishedAt: string; Health?: { Status: string; FailingStreak: number } };
  Config: { Labels: Record<string, string> | null };
}

/** `podman inspect` of one container, or undefined when it does not exist. */
export async function inspectContainer(nameOrId: string): Promise<InspectFacts | undefined> {
  const r = await podman('container', 'inspect', '--format', 'json', nameOrId);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as InspectFacts[])[0];
}

/** GET /metrics from the daemon's API socket. */
export async function daemonMetrics(socket: string): Promise<string> {
  const dispatcher = new Agent({ connect: { socketPath: socket } });
  try {
    const r = await request('http://stackd/metrics', { dispatcher });
    return await r.body.text();
  } finally {
    await dispatcher.close();
  }
}

/** The status code of GET /readyz from the daemon's API socket (undefined: no answer at all). */
export function readyz(socket: string): Promise<number | undefined> {
  return apiStatus(socket, '/readyz');
}

/** The status code of a GET from the daemon's API socket (undefined: no answer at all). */
export async function apiStatus(socket: string, path: string): Promise<number | undefined> {
  const dispatcher = new Agent({ connect: { socketPath: socket } });
  try {
    const r = await request(`http://stackd${path}`, { dispatcher });
    await r.body.dump();
    return r.statusCode;
  } catch {
    return undefined;
  } finally {
    await dispatcher.close();
  }
}

/** systemd/stackd.{socket,service} renamed stackd-<suffix>, ExecStart the built daemon; everything else as shipped. */
export async function renderDaemonUnits(suffix: string, configPath: string): Promise<Record<string, string>> {
  const rename = (text: string) => text
    .replaceAll('stackd.socket', `stackd-${suffix}.socket`)
    .replaceAll('stackd.service', `stackd-${suffix}.service`)
    .replaceAll('%t/stackd/', `%t/stackd-${suffix}/`);
  const socket = rename(await readFile(join(ROOT, 'systemd/stackd.socket'), 'utf8'));
  const service = rename(await readFile(join(ROOT, 'systemd/stackd.service'), 'utf8'))
    .replace(/^ExecStart=.*$/m, `ExecStart=${process.execPath} ${MAIN} --config ${configPath}`);
  if (!service.includes(`ExecStart=${process.execPath}`)) throw new Error('systemd/stackd.service has no ExecStart= line');
  return { [`stackd-${suffix}.socket`]: socket, [`stackd-${suffix}.service`]: service };
}

/** A port nothing listens on right now (the kernel's pick); the caller binds it soon after. */
export async function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolveP(port));
    });
  });
}

/** One Server-Sent Event: its `event:` name and its `data:` parsed as JSON. */
export interface SseEvent {
  event: string;
  data: unknown;
  /** Date.now() when it arrived */
  atMs: number;
}

/** Follows GET /v1/events on the daemon's API socket: every event as it arrives, until close(). */
export async function followEvents(socket: string): Promise<{ events: SseEvent[]; close: () => Promise<void> }> {
  const dispatcher = new Agent({ connect: { socketPath: socket } });
  const ac = new AbortController();
  const res = await request('http://stackd/v1/events', { dispatcher, signal: ac.signal });
  if (res.statusCode !== 200) throw new Error(`GET /v1/events answered ${res.statusCode}`);
  const events: SseEvent[] = [];
  let buffer = '';
  res.body.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) as unknown, atMs: Date.now() });
    }
  });
  const ended = new Promise<void>((resolveP) => {
    res.body.on('error', () => resolveP());
    res.body.on('end', () => resolveP());
  });
  return {
    events,
    close: async () => {
      ac.abort();
      await ended;
      await dispatcher.close();
    },
  };
}
