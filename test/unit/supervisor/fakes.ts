// In-memory fakes of the supervisor's ports (src/supervisor/ports.ts), for fast tests of the reconciler, the
// queue and the supervisor without podman: a podman that keeps containers and networks in maps, a compose that
// is scripted per call and whose `up` creates the model's containers in that podman (so the next observe sees
// them), files in a map, a state store that speaks the real state-file format, a manual clock, and a systemctl
// with no units. Every fake records its calls; none of them sleeps.
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { PodmanApiError, PodmanUnreachableError, StateFileCorruptError } from '../../../src/adapters/errors.js';
import { expectedServices, parseComposeConfig } from '../../../src/core/compose-model.js';
import type { Config, StackConfig } from '../../../src/core/config-types.js';
import type { ObservedContainer, RemovedStackAction } from '../../../src/core/model.js';
import { parseStateText, serializeState, type PersistedState, type StackRecord } from '../../../src/core/persisted-state.js';
import { parseContainerList } from '../../../src/core/podman-parse.js';
import { buildPipeline, type Pipeline, type PipelineDeps } from '../../../src/supervisor/pipeline.js';
import type {
  ComposeOutcome, ComposePort, ComposeProviderVerdict, ComposeSpec, FilesPort, PodmanPort, StateStore, SystemctlPort,
} from '../../../src/supervisor/ports.js';

export const silentLogger: Logger = pino({ level: 'silent' });

/** 2026-11-26T12:00:00Z: after the demo fixture's containers were created. */
export const T0 = Date.parse('2026-11-26T12:00:00Z');

const FIXTURES = new URL('../../fixtures/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

// --- small async helpers -------------------------------------------------------------------------------

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One turn of the event loop: every fake answers within a few of these. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Turns the event loop until `cond` holds; fails (instead of hanging) after `maxTicks`. */
export async function until(cond: () => boolean, what = 'condition', maxTicks = 500): Promise<void> {
  for (let i = 0; i < maxTicks; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`until: ${what} did not become true within ${maxTicks} event-loop turns`);
}

/** A few event-loop turns, for asserting that something did NOT happen. */
export async function settle(ticks = 20): Promise<void> {
  for (let i = 0; i < ticks; i++) await tick();
}

// --- clock ---------------------------------------------------------------------------------------------

/** Time moves only when told: `sleep` (the reconciler's env-file wait) advances it at once. */
export class ManualClock {
  ms: number;
  /** every sleep asked for, in ms */
  readonly sleeps: number[] = [];
  /** called after each sleep with the total slept so far (e.g. to create a file mid-wait) */
  onSleep?: (sleptMs: number) => void;

  constructor(start = T0) {
    this.ms = start;
  }

  readonly now = (): number => this.ms;

  advance(ms: number): void {
    this.ms += ms;
  }

  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.ms += ms;
    this.onSleep?.(this.sleptMs);
  };

  get sleptMs(): number {
    return this.sleeps.reduce((a, b) => a + b, 0);
  }
}

// --- podman --------------------------------------------------------------------------------------------

/** One entry of GET /libpod/containers/json, as the fixtures have it (only the fields stackd reads matter). */
export type LibpodEntry = Record<string, unknown> & { Id: string; Labels: Record<string, string> };

export interface NewContainer {
  project: string;
  service: string;
  id?: string;
  name?: string;
  state?: string;
  /** libpod's health column: healthy | unhealthy | starting | '' (none) */
  health?: string;
  labels?: Record<string, string>;
  exitCode?: number;
  /** podman-compose's labels (io.podman.compose.*) instead of docker-compose's */
  scheme?: 'docker-compose' | 'podman-compose';
}

const MUTATING = new Set(['removeContainer', 'stopContainer', 'removeNetwork', 'removeImage']);

type PodmanMethod = keyof PodmanPort;

/** Podman's refusal to remove a container others share namespaces with, as the API client throws it (409). */
export function dependentRefusal(holderId: string, dependents: string[]): PodmanApiError {
  return new PodmanApiError(409, 'DELETE', `/containers/${holderId}?force=true`,
    `container ${holderId} has dependent containers which must be removed before it: ${dependents.join(',')}: container already exists`);
}

export const unreachable = (): PodmanUnreachableError =>
  new PodmanUnreachableError('/run/user/1000/podman/podman.sock', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });

let idCounter = 0;
/** A fresh 64-hex container id. */
export function newId(): string {
  idCounter += 1;
  return (idCounter.toString(16).padStart(8, '0') + 'f00d'.repeat(14)).slice(0, 64);
}

export class FakePodman implements PodmanPort {
  /** by id, in creation order */
  readonly containers = new Map<string, LibpodEntry>();
  /** network name → project */
  readonly networks = new Map<string, string>();
  /** dependent id → the id of the container whose namespaces it joined (network_mode: service:x) */
  readonly sharesWith = new Map<string, string>();
  /** every call, "method arg" */
  readonly calls: string[] = [];
  /** what runHealthcheck answers */
  healthcheckAnswer: unknown = { Status: 'healthy', FailingStreak: 0, Log: null };
  private readonly failures: { method: PodmanMethod | '*'; err: Error }[] = [];
  private readonly gates: { method: PodmanMethod; until: Promise<unknown> }[] = [];

  constructor(private readonly now: () => number = () => T0) {}

  // --- test controls ---

  /** The next call of `method` ('*': of any method) throws `err`. Several queue up, in order. */
  failNext(method: PodmanMethod | '*', err: Error): this {
    this.failures.push({ method, err });
    return this;
  }

  /** The next call of `method` waits for the returned deferred before it answers. */
  holdNext(method: PodmanMethod): Deferred {
    const d = deferred();
    this.gates.push({ method, until: d.promise });
    return d;
  }

  /** Adds raw list entries (e.g. a fixture); a project's network is created with them. */
  seed(entries: readonly LibpodEntry[]): this {
    for (const e of entries) {
      this.containers.set(e.Id, structuredClone(e));
      const project = projectOf(e);
      if (project) this.networks.set(`${project}_default`, project);
    }
    return this;
  }

  /** The demo fixture (holder, client, web, app; app shares holder's network namespace). */
  seedDemo(): { holder: string; client: string; web: string; app: string } {
    this.seed(fixtureJson<LibpodEntry[]>('libpod-containers-json.demo.json'));
    const id = (svc: string) => [...this.containers.values()].find((c) => c.Labels['com.docker.compose.project'] === 'demo' && c.Labels['com.docker.compose.service'] === svc)?.Id ?? '';
    const ids = { holder: id('holder'), client: id('client'), web: id('web'), app: id('app') };
    this.sharesWith.set(ids.app, ids.holder);
    return ids;
  }

  add(c: NewContainer): LibpodEntry {
    const id = c.id ?? newId();
    const entry: LibpodEntry = {
      Id: id,
      Names: [c.name ?? `${c.project}-${c.service}-1`],
      Labels: {
        ...(c.scheme === 'podman-compose'
          ? { 'io.podman.compose.project': c.project, 'io.podman.compose.service': c.service }
          : { 'com.docker.compose.project': c.project, 'com.docker.compose.service': c.service }),
        ...c.labels,
      },
      State: c.state ?? 'running',
      Status: c.health ?? '',
      ExitCode: c.exitCode ?? 0,
      StartedAt: Math.floor(this.now() / 1000),
      Created: new Date(this.now()).toISOString(),
      Image: 'localhost/busybox:lab',
    };
    this.containers.set(id, entry);
    this.networks.set(`${c.project}_default`, c.project);
    return entry;
  }

  /** The project's containers as stackd parses them. */
  project(project: string): ObservedContainer[] {
    return parseContainerList([...this.containers.values()].filter((e) => projectOf(e) === project));
  }

  /** service → state, for one project */
  states(project: string): Record<string, string> {
    return Object.fromEntries(this.project(project).map((c) => [c.service, c.state]));
  }

  /** calls that change something (remove, stop) */
  mutations(): string[] {
    return this.calls.filter((c) => MUTATING.has(c.split(' ')[0] ?? ''));
  }

  // --- PodmanPort ---

  async ping(): Promise<unknown> {
    await this.enter('ping', '');
    return 'OK';
  }

  async listContainers(opts: { all: boolean }): Promise<unknown[]> {
    await this.enter('listContainers', String(opts.all));
    return [...this.containers.values()].filter((e) => opts.all || e.State === 'running').map((e) => structuredClone(e));
  }

  async listProjectContainers(project: string): Promise<unknown[]> {
    await this.enter('listProjectContainers', project);
    return [...this.containers.values()].filter((e) => projectOf(e) === project).map((e) => structuredClone(e));
  }

  async inspectContainer(id: string): Promise<unknown> {
    await this.enter('inspectContainer', id);
    const e = this.containers.get(id);
    if (!e) return undefined;
    return {
      Id: e.Id, Name: (e['Names'] as string[] | undefined)?.[0] ?? '', Created: e['Created'], ImageName: e['Image'],
      State: {
        Status: e.State, ExitCode: e['ExitCode'], StartedAt: new Date(Number(e['StartedAt']) * 1000).toISOString(),
        ...(e['Status'] ? { Health: { Status: e['Status'], FailingStreak: 0, Log: [] } } : {}),
      },
      Config: { Labels: e.Labels, ...(e['Status'] ? { Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 5e9, Retries: 2, StartPeriod: 2e9 } } : {}) },
    };
  }

  async removeContainer(id: string, opts: { force: boolean }): Promise<boolean> {
    await this.enter('removeContainer', id);
    void opts;
    const full = this.resolve(id);
    if (!full) return false;
    const dependents = [...this.sharesWith].filter(([dep, holder]) => holder === full && this.containers.has(dep)).map(([dep]) => dep);
    if (dependents.length) throw dependentRefusal(full, dependents);
    this.containers.delete(full);
    this.sharesWith.delete(full);
    return true;
  }

  async stopContainer(id: string, timeoutS: number): Promise<void> {
    await this.enter('stopContainer', id);
    void timeoutS;
    const e = this.containers.get(this.resolve(id) ?? '');
    if (!e) throw new PodmanApiError(404, 'POST', `/containers/${id}/stop`, `no container with name or ID "${id}" found: no such container`);
    e['State'] = 'exited';
    e['Status'] = '';
    e['ExitCode'] = 0;
  }

  async runHealthcheck(id: string, timeoutMs?: number): Promise<unknown> {
    await this.enter('runHealthcheck', id);
    void timeoutMs;
    return this.healthcheckAnswer;
  }

  async listImages(): Promise<unknown[]> {
    await this.enter('listImages', '');
    return [];
  }

  async removeImage(id: string): Promise<unknown> {
    await this.enter('removeImage', id);
    return [];
  }

  async info(): Promise<unknown> {
    await this.enter('info', '');
    return { host: { databaseBackend: 'sqlite' }, version: { Version: '5.4.2' } };
  }

  async listProjectNetworks(project: string): Promise<string[]> {
    await this.enter('listProjectNetworks', project);
    return [...this.networks].filter(([, p]) => p === project).map(([n]) => n);
  }

  async removeNetwork(name: string): Promise<boolean> {
    await this.enter('removeNetwork', name);
    return this.networks.delete(name);
  }

  // --- internals ---

  private async enter(method: PodmanMethod, arg: string): Promise<void> {
    this.calls.push(arg ? `${method} ${arg}` : method);
    const g = this.gates.findIndex((x) => x.method === method);
    if (g >= 0) {
      const [gate] = this.gates.splice(g, 1);
      await gate?.until;
    }
    const f = this.failures.findIndex((x) => x.method === method || x.method === '*');
    if (f >= 0) {
      const [failure] = this.failures.splice(f, 1);
      if (failure) throw failure.err;
    }
  }

  /** podman accepts an id prefix */
  private resolve(id: string): string | undefined {
    if (this.containers.has(id)) return id;
    return [...this.containers.keys()].find((k) => k.startsWith(id));
  }
}

function projectOf(e: LibpodEntry): string | undefined {
  return e.Labels['com.docker.compose.project'] || e.Labels['io.podman.compose.project'] || undefined;
}

// --- compose -------------------------------------------------------------------------------------------

export type ComposeVerb = 'up' | 'stop' | 'down' | 'config';

/** What one scripted compose call does. */
export type ComposeStep =
  | { kind: 'ok' }
  /** exits non-zero with this stderr (nothing changes in podman) */
  | { kind: 'fail'; stderr: string; exitCode?: number }
  /** killed at startupTimeout */
  | { kind: 'timeout' }
  /** `config` only: exits 0 with this stdout */
  | { kind: 'stdout'; stdout: string }
  /** waits for `until`, then does `then` (default ok) */
  | { kind: 'gate'; until: Promise<unknown>; then?: ComposeStep };

export const ok: ComposeStep = { kind: 'ok' };
export const fail = (stderr: string, exitCode = 1): ComposeStep => ({ kind: 'fail', stderr, exitCode });
export const timeout: ComposeStep = { kind: 'timeout' };

export class FakeCompose implements ComposePort {
  /** project → the JSON `compose config --format json` prints (what `up` builds containers from) */
  readonly models = new Map<string, string>();
  readonly calls: { verb: ComposeVerb; spec: ComposeSpec }[] = [];
  private readonly scripts: Record<ComposeVerb, ComposeStep[]> = { up: [], stop: [], down: [], config: [] };

  constructor(private readonly podman: FakePodman, private readonly files?: FakeFiles) {}

  /** The next calls of `verb` do these steps, in order; after them every call is ok. */
  script(verb: ComposeVerb, ...steps: ComposeStep[]): this {
    this.scripts[verb].push(...steps);
    return this;
  }

  /** The next call of `verb` waits for the returned deferred (then does `then`, default ok). */
  hold(verb: ComposeVerb, then: ComposeStep = ok): Deferred {
    const d = deferred();
    this.scripts[verb].push({ kind: 'gate', until: d.promise, then });
    return d;
  }

  count(verb: ComposeVerb, project?: string): number {
    return this.calls.filter((c) => c.verb === verb && (project === undefined || c.spec.project === project)).length;
  }

  verbs(project?: string): ComposeVerb[] {
    return this.calls.filter((c) => project === undefined || c.spec.project === project).map((c) => c.verb);
  }

  up(spec: ComposeSpec): Promise<ComposeOutcome> {
    return this.run('up', spec);
  }

  stop(spec: ComposeSpec): Promise<ComposeOutcome> {
    return this.run('stop', spec);
  }

  down(spec: ComposeSpec): Promise<ComposeOutcome> {
    return this.run('down', spec);
  }

  config(spec: ComposeSpec): Promise<ComposeOutcome> {
    return this.run('config', spec);
  }

  private async run(verb: ComposeVerb, spec: ComposeSpec): Promise<ComposeOutcome> {
    this.calls.push({ verb, spec: { ...spec } });
    let step = this.scripts[verb].shift() ?? ok;
    while (step.kind === 'gate') {
      await step.until;
      step = step.then ?? ok;
    }
    switch (step.kind) {
      case 'fail':
        return outcome(false, step.exitCode ?? 1, '', step.stderr);
      case 'timeout':
        return { ...outcome(false, null, '', ''), timedOut: true };
      case 'stdout':
        return outcome(true, 0, step.stdout, '');
      case 'ok':
        return this.act(verb, spec);
    }
  }

  /** What compose really does, on the fake podman. */
  private async act(verb: ComposeVerb, spec: ComposeSpec): Promise<ComposeOutcome> {
    const missing = await this.missingFile(spec);
    if (missing) return outcome(false, 14, '', missing);
    const model = this.models.get(spec.project);
    if (verb === 'config') {
      return model === undefined
        ? outcome(false, 1, '', `no configuration file provided: not found`)
        : outcome(true, 0, model, '');
    }
    const mine = () => [...this.podman.containers.values()].filter((e) => projectOf(e) === spec.project);
    if (verb === 'stop') {
      for (const e of mine()) if (e.State === 'running') Object.assign(e, { State: 'exited', Status: '', ExitCode: 0 });
    } else if (verb === 'down') {
      for (const e of mine()) {
        this.podman.containers.delete(e.Id);
        this.podman.sharesWith.delete(e.Id);
      }
      for (const [n, p] of this.podman.networks) if (p === spec.project) this.podman.networks.delete(n);
    } else {
      if (model === undefined) return outcome(false, 1, '', 'no configuration file provided: not found');
      for (const svc of expectedServices(parseComposeConfig(model, spec.project))) {
        const existing = mine().find((e) => e.Labels['com.docker.compose.service'] === svc.name);
        const health = svc.healthcheck && !svc.healthcheck.disabled ? 'healthy' : '';
        if (existing) Object.assign(existing, { State: 'running', Status: health });
        else this.podman.add({ project: spec.project, service: svc.name, labels: svc.labels, health });
      }
    }
    return outcome(true, 0, '', '');
  }

  private async missingFile(spec: ComposeSpec): Promise<string | undefined> {
    if (!this.files) return undefined;
    for (const f of spec.composeFiles) if (!(await this.files.exists(f))) return `open ${f}: no such file or directory`;
    for (const f of spec.envFiles) if (!(await this.files.exists(f))) return `Couldn't find env file: ${f}`;
    return undefined;
  }
}

function outcome(okay: boolean, exitCode: number | null, stdout: string, stderr: string): ComposeOutcome {
  return { ok: okay, exitCode, stdout, stderr, timedOut: false, durationMs: 0 };
}

/** A compose model (config --format json) with these services, each a plain long-running one. */
export function simpleModel(project: string, services: readonly string[] = ['web'], labels: Record<string, string> = {}): string {
  return JSON.stringify({
    name: project,
    services: Object.fromEntries(services.map((s) => [s, { image: 'localhost/busybox:lab', restart: 'unless-stopped', labels }])),
  });
}

// --- files ---------------------------------------------------------------------------------------------

export class FakeFiles implements FilesPort {
  readonly files = new Map<string, string>();
  private readonly readFailures: { path?: string; err: Error }[] = [];

  set(path: string, text: string): this {
    this.files.set(path, text);
    return this;
  }

  delete(path: string): void {
    this.files.delete(path);
  }

  /** The next readText (of `path`, or of any file) throws `err` (EACCES, EIO …). */
  failNextRead(err: Error, path?: string): void {
    this.readFailures.push({ err, ...(path ? { path } : {}) });
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(path);
  }

  async readText(path: string): Promise<string | null> {
    const i = this.readFailures.findIndex((f) => f.path === undefined || f.path === path);
    if (i >= 0) throw this.readFailures.splice(i, 1)[0]?.err;
    return this.files.get(path) ?? null;
  }
}

// --- state store ---------------------------------------------------------------------------------------

export const STATE_FILE = '/home/stackd/.local/state/stackd/state.json';

/** The state file in memory, in its real format (serializeState / parseStateText). */
export class FakeStateStore implements StateStore {
  /** the file's text; undefined: no file yet */
  text: string | undefined;
  /** the text of every successful save */
  readonly saves: string[] = [];
  loads = 0;
  private readonly saveFailures: Error[] = [];
  private loadGate?: Promise<unknown>;

  constructor(initial?: PersistedState | string) {
    this.text = typeof initial === 'string' ? initial : initial ? serializeState(initial) : undefined;
  }

  /** The next save throws `err` and leaves the file as it was. */
  failNextSave(err: Error = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })): void {
    this.saveFailures.push(err);
  }

  /** load() waits for the returned deferred. */
  holdLoad(): Deferred {
    const d = deferred();
    this.loadGate = d.promise;
    return d;
  }

  async load(projectOf: (stack: string) => string): Promise<{ state: Map<string, StackRecord>; upgradedFrom?: number }> {
    this.loads += 1;
    if (this.loadGate) await this.loadGate;
    if (this.text === undefined) return { state: new Map() };
    const parsed = parseStateText(this.text, projectOf);
    if (!parsed.ok) throw new StateFileCorruptError(STATE_FILE, parsed.problem);
    return parsed.upgradedFrom === undefined ? { state: parsed.state } : { state: parsed.state, upgradedFrom: parsed.upgradedFrom };
  }

  async save(state: PersistedState): Promise<void> {
    const f = this.saveFailures.shift();
    if (f) throw f;
    this.text = serializeState(state);
    this.saves.push(this.text);
  }

  /** The records in the file now. */
  records(): Map<string, StackRecord> {
    return this.text === undefined ? new Map() : readRecords(this.text);
  }

  /** The records of every successful save, oldest first. */
  savedRecords(): Map<string, StackRecord>[] {
    return this.saves.map(readRecords);
  }
}

function readRecords(text: string): Map<string, StackRecord> {
  const parsed = parseStateText(text, (s) => s);
  if (!parsed.ok) throw new Error(`the fake state file is not a state file: ${parsed.problem}`);
  return parsed.state;
}

/** A state file with these levels (project = name). */
export function stateOf(levels: Record<string, StackRecord['desired']>): PersistedState {
  return new Map(Object.entries(levels).map(([name, desired]) => [name, { desired, project: name }]));
}

// --- systemctl -----------------------------------------------------------------------------------------

/** A user manager with no healthcheck units (the timer GC after reconciles finds nothing). */
export class FakeSystemctl implements SystemctlPort {
  readonly calls: string[] = [];

  async listUnits(): Promise<string> {
    this.calls.push('list-units');
    return '';
  }

  async unitActiveEnterTimestamps(): Promise<Record<string, number>> {
    return {};
  }

  async stop(units: string[]) {
    this.calls.push(`stop ${units.join(' ')}`);
    return { ok: true, exitCode: 0, stderr: '' };
  }

  async resetFailed() {
    return { ok: true, exitCode: 0, stderr: '' };
  }

  async isEnabled() {
    return { state: 'enabled', exitCode: 0, stderr: '' };
  }
}

// --- config and a whole world --------------------------------------------------------------------------

export const GOOD_PROVIDER: ComposeProviderVerdict = { ok: true, provider: 'docker-compose', version: '2.26.1', detail: 'docker-compose 2.26.1' };
export const PODMAN_COMPOSE: ComposeProviderVerdict = {
  ok: false, provider: 'podman-compose', version: '1.0.6',
  detail: 'podman compose runs podman-compose 1.0.6; stackd needs docker-compose v2: set compose_providers in containers.conf',
};

export function stackConfig(name: string, over: Partial<StackConfig> = {}): StackConfig {
  return {
    name, project: name, compose: [`/srv/${name}/compose.yml`], envFiles: [], unit: `${name}.service`,
    startupTimeoutMs: 300_000, envWaitMs: 0, healthWindowMs: 0, repair: 'none', update: 'apply', ...over,
  };
}

export function makeConfig(stacks: StackConfig[], over: Partial<Config> = {}): Config {
  return {
    source: '/home/stackd/.config/stackd/config.yml',
    podman: { socket: '/run/user/1000/podman/podman.sock', composeCommand: ['podman', 'compose'], composeInfoCacheMs: 60_000 },
    api: { socket: '/run/user/1000/stackd/api.sock' },
    // retries and resync an hour away: they never fire by themselves during a test
    queue: { concurrency: { min: 2, max: 2 }, retryBaseMs: 3_600_000, retryMaxMs: 3_600_000, resyncMs: 86_400_000 },
    defaults: { startupTimeoutMs: 300_000, envWaitMs: 0, healthWindowMs: 0, repair: 'none' },
    staleHealth: { startingFloorMs: 120_000, unhealthyAfterMs: 300_000, recheckWindowMs: 1_800_000 },
    cleanup: { maxAgeMs: 14_400_000, timerMinAgeMs: 60_000, gcEveryMs: 3_600_000, pruneEveryMs: 86_400_000 },
    stateFile: STATE_FILE,
    update: { mode: 'apply', settleMs: 120_000, gateSlackMs: 30_000, notifyOnSuccess: false },
    removedStacks: 'stop' satisfies RemovedStackAction,
    notify: [],
    stacks,
    ...over,
  };
}

/** Every fake, wired to one another: compose `up` creates containers in `podman` and checks `files`. */
export class World {
  readonly clock = new ManualClock();
  readonly podman = new FakePodman(this.clock.now);
  readonly files = new FakeFiles();
  readonly compose = new FakeCompose(this.podman, this.files);
  readonly systemctl = new FakeSystemctl();
  stateStore = new FakeStateStore();
  provider: ComposeProviderVerdict = GOOD_PROVIDER;
  providerProbes = 0;

  readonly probeComposeProvider = async (): Promise<ComposeProviderVerdict> => {
    this.providerProbes += 1;
    return this.provider;
  };

  /** A stack whose compose file exists and whose model has these services (or `model`, a config JSON). */
  addStack(name: string, opts: { services?: string[]; model?: string; over?: Partial<StackConfig> } = {}): StackConfig {
    const s = stackConfig(name, opts.over);
    for (const f of s.compose) this.files.set(f, `services:\n${(opts.services ?? ['web']).map((x) => `  ${x}:\n    image: localhost/busybox:lab\n`).join('')}`);
    this.compose.models.set(s.project, opts.model ?? simpleModel(s.project, opts.services));
    return s;
  }

  /** The production pipeline (buildPipeline) over these fakes; `results` collects every reconcile verdict. */
  pipeline(config: Config, over: Partial<PipelineDeps> = {}): Pipeline & { results: { stack: string; result: string; reasonCode?: string }[] } {
    const results: { stack: string; result: string; reasonCode?: string }[] = [];
    const p = buildPipeline({
      config, podman: this.podman, compose: this.compose, systemctl: this.systemctl, files: this.files, stateStore: this.stateStore,
      childEnv: { PATH: '/usr/bin' }, probeComposeProvider: this.probeComposeProvider, logger: silentLogger,
      now: this.clock.now, sleep: this.clock.sleep, random: () => 0.999,
      onResult: (stack, r) => results.push({ stack, result: r.result, ...(r.reasonCode ? { reasonCode: r.reasonCode } : {}) }),
      ...over,
    });
    return { ...p, results };
  }
}
