// An in-memory world of images, a registry and containers for the Updater (src/supervisor/updater.ts): podman's
// image store (ids, tags, RepoDigests), a registry that serves one digest per tag and pulls by repo@digest,
// containers whose health, exits and restarts follow a behaviour of the IMAGE they run (so a rollback to the
// previous image really brings the previous behaviour back), a compose `up` that recreates a service's
// container when its reference now points to another image (honouring --pull never), an observe that fills an
// ObservedStore like the reconciler does, the updater's durable state in its real file format, a scripted
// ReferenceChecker and an `exclusive` that can be a real ReconcileQueue. Nothing sleeps: the gate's sleep moves
// a ManualClock. Every operation is appended to `log`, so tests can assert order.
import { createHash } from 'node:crypto';
import { parseComposeConfig } from '../../../src/core/compose-model.js';
import type { Config, StackConfig } from '../../../src/core/config-types.js';
import type { ComposeModel, ObservedContainer } from '../../../src/core/model.js';
import { parseContainerList, selectProjectContainers } from '../../../src/core/podman-parse.js';
import type { ApplyProgress, ApplyStep } from '../../../src/core/update/types.js';
import { EMPTY_UPDATE_STATE, parseUpdateState, serializeUpdateState, type UpdateState } from '../../../src/core/update/update-state.js';
import { ObservedStore } from '../../../src/supervisor/observed-store.js';
import type { ComposeOutcome, ComposeSpec, ImagePort, PodmanPort } from '../../../src/supervisor/ports.js';
import type { ReconcileQueue } from '../../../src/supervisor/reconcile-queue.js';
import { PIN_REPOSITORY, splitTag, type CheckOutcome, type UpdaterDeps } from '../../../src/supervisor/updater.js';
import { deferred, FakeFiles, makeConfig, ManualClock, silentLogger, stackConfig, tick, type Deferred } from './fakes.js';

export const AUTOUPDATE = 'io.containers.autoupdate';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
/** The (64-hex) image id of the image called `name` in a test. */
export const imageId = (name: string): string => sha(`image:${name}`);
/** The platform manifest digest the registry serves for the image called `name`. */
export const digestOf = (name: string): string => `sha256:${sha(`manifest:${name}`)}`;
export const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

// --- container behaviour -------------------------------------------------------------------------------

/** What one inspect of a container shows. */
export interface Condition {
  state: 'running' | 'exited' | 'restarting' | 'created';
  /** undefined: the image has no healthcheck */
  health?: 'starting' | 'healthy' | 'unhealthy';
  exitCode?: number;
  restarts?: number;
  /** the container is removed (by something else) */
  gone?: boolean;
}

/**
 * The condition of a container at its `poll`-th inspect (0-based); `checked`: its healthcheck was run on demand;
 * `project`/`service`: whose container it is (an image may behave differently in another stack's config).
 */
export type Behaviour = (poll: number, ctx: { checked: boolean; project: string; service: string }) => Condition;

/** Per-image behaviours (what the containers of an image do after they are created). */
export const behave = {
  /** healthcheck: starting for `n` polls, then healthy */
  healthyAfter: (n: number): Behaviour => (poll) => ({ state: 'running', health: poll < n ? 'starting' : 'healthy' }),
  /** healthcheck: never leaves `starting` */
  staysStarting: (): Behaviour => () => ({ state: 'running', health: 'starting' }),
  /** healthcheck: starting for `n` polls, then unhealthy */
  unhealthyAfter: (n: number): Behaviour => (poll) => ({ state: 'running', health: poll < n ? 'starting' : 'unhealthy' }),
  /** runs (`health` if it has a healthcheck) for `n` polls, then exits with `code` */
  exitsAfter: (n: number, code = 1, health?: 'starting'): Behaviour => (poll) =>
    poll < n ? { state: 'running', ...(health ? { health } : {}) } : { state: 'exited', exitCode: code, ...(health ? { health } : {}) },
  /** runs for `n` polls, then podman restarts it once (RestartCount 1, running again) */
  restartsAfter: (n: number, health?: 'starting'): Behaviour => (poll) => ({ state: 'running', restarts: poll < n ? 0 : 1, ...(health ? { health } : {}) }),
  /** runs for `n` polls, then sits in `restarting` */
  restartingAfter: (n: number): Behaviour => (poll) => (poll < n ? { state: 'running', health: 'starting' } : { state: 'restarting', health: 'starting' }),
  /** runs for `n` polls, then is removed by someone else */
  goneAfter: (n: number): Behaviour => (poll) => (poll < n ? { state: 'running', health: 'starting' } : { state: 'exited', gone: true }),
  /** podman 19326: the healthcheck timer is missing; `starting` until the check is run on demand, then healthy */
  healthyWhenChecked: (): Behaviour => (_poll, { checked }) => ({ state: 'running', health: checked ? 'healthy' : 'starting' }),
  /** no healthcheck: just runs */
  runs: (): Behaviour => () => ({ state: 'running' }),
};

// --- the world's records -------------------------------------------------------------------------------

export interface WorldImage {
  id: string;
  name: string;
  /** the platform manifest digest it was pulled by ('' for a locally built image) */
  digest: string;
  repoDigests: string[];
  behaviour: Behaviour;
}

export interface WorldContainer {
  id: string;
  name: string;
  project: string;
  service: string;
  imageId: string;
  /** the reference compose created it from */
  imageName: string;
  labels: Record<string, string>;
  createdAt: number;
  polls: number;
  checked: boolean;
  condition: Condition;
}

/** One service of a stack as compose resolves it. */
export interface ServiceSpec {
  name: string;
  /** the image reference (after interpolation); omit for a build-only service */
  reference?: string;
  /** the io.containers.autoupdate label's value; omit for none */
  policy?: string;
  /** true: a healthcheck of interval 5s, timeout 3s, retries 3 (deadline 5×3+3 = 18s + gateSlack) */
  healthcheck?: boolean | { interval: string; timeout: string; retries: number; start_period: string };
  build?: boolean;
  /** false: the service has no container (stack stopped) */
  container?: boolean;
  /** the image (a name given to image()) its container runs; default what the reference points to */
  runs?: string;
}

export type ComposeStep =
  | { kind: 'ok' }
  | { kind: 'fail'; stderr: string }
  | { kind: 'timeout' }
  | { kind: 'throw'; err: Error }
  | { kind: 'hold'; until: Promise<unknown> };

type Method = 'inspectImage' | 'pullImage' | 'tagImage' | 'containerLogs' | 'inspectContainer' | 'runHealthcheck';

const HEALTHCHECK = { test: ['CMD', 'true'], interval: '5s', timeout: '3s', retries: 3, start_period: '0s' };

// --- the updater's durable state -------------------------------------------------------------------------

/** The update-state file in memory, in its real format (serializeUpdateState / parseUpdateState). */
export class UpdateStateStore {
  text: string | undefined;
  /** every state saved, oldest first (parsed back from the text written) */
  readonly saves: UpdateState[] = [];
  loads = 0;
  private readonly failures: { when: (s: UpdateState) => boolean; err: Error }[] = [];

  constructor(initial?: UpdateState) {
    this.text = initial ? serializeUpdateState(initial) : undefined;
  }

  /** The next save of a state matching `when` throws `err` (the file stays as it was). */
  failSave(when: (s: UpdateState) => boolean = () => true, err: Error = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })): void {
    this.failures.push({ when, err });
  }

  async load(): Promise<UpdateState> {
    this.loads += 1;
    return this.state;
  }

  async save(s: UpdateState): Promise<void> {
    const i = this.failures.findIndex((f) => f.when(s));
    if (i >= 0) throw this.failures.splice(i, 1)[0]?.err;
    this.text = serializeUpdateState(s);
    this.saves.push(this.state);
  }

  /** What the file holds now. */
  get state(): UpdateState {
    if (this.text === undefined) return structuredClone(EMPTY_UPDATE_STATE);
    const parsed = parseUpdateState(this.text);
    if (!parsed.ok) throw new Error(`the update-state file is corrupt: ${parsed.problem}`);
    return parsed.state;
  }

  /** The step of `stack`'s progress in every save ('cleared': no progress record). */
  steps(stack: string): (ApplyStep | 'cleared')[] {
    return this.saves.map((s) => s.inProgress.find((p) => p.stack === stack)?.step ?? 'cleared');
  }
}

// --- the world -------------------------------------------------------------------------------------------

export class ImageWorld {
  readonly clock = new ManualClock();
  readonly store = new ObservedStore();
  readonly files = new FakeFiles();
  updateState = new UpdateStateStore();
  /** every operation, in order: "pull repo@sha256:…", "tag <id12> repo:tag", "up shop", "recreate shop/app <id12>", … */
  readonly log: string[] = [];
  readonly images = new Map<string, WorldImage>();
  /** "repo:tag" → image id */
  readonly tags = new Map<string, string>();
  readonly containers = new Map<string, WorldContainer>();
  /** the registry: "repo@digest" → the image that digest is */
  readonly registry = new Map<string, { name: string; behaviour: Behaviour }>();
  /** what the registry serves for a tag now: reference → digest */
  readonly heads = new Map<string, string>();
  readonly stacks: StackConfig[] = [];
  /** project → the services compose resolves */
  readonly services = new Map<string, ServiceSpec[]>();
  /** every `up` spec */
  readonly upSpecs: ComposeSpec[] = [];
  /** every reference the checker was asked about */
  readonly checks: string[] = [];
  /** every stack `exclusive` ran a task for */
  readonly exclusiveCalls: string[] = [];
  /** "project/service" whose container compose `up` leaves alone (it keeps whatever it ran) */
  readonly upIgnores = new Set<string>();
  /** when set, `exclusive` is this queue's runExclusive */
  queue?: ReconcileQueue;
  /** the gate's sleeps; more than this many means it never ends (a failure instead of a hung test) */
  maxSleeps = 2_000;
  private sleepCount = 0;
  private containerSeq = 0;
  private readonly composeScript: ComposeStep[] = [];
  private readonly checkScript = new Map<string, CheckOutcome[]>();
  private readonly checkHolds: Promise<unknown>[] = [];
  private readonly failures: { method: Method; when: (arg: string) => boolean; err: Error }[] = [];
  private readonly holds: { method: Method; when: (arg: string) => boolean; until: Promise<unknown> }[] = [];

  // --- images and the registry ---

  /**
   * A local image called `name` (as if pulled earlier by `tags`' digest); each tag points to it and the registry
   * serves it for each tag, so a check finds nothing new until publish() moves a tag on.
   */
  image(name: string, behaviour: Behaviour, opts: { tags?: string[]; local?: boolean } = {}): string {
    const id = imageId(name);
    const digest = opts.local ? '' : digestOf(name);
    const repos = [...new Set((opts.tags ?? []).map((t) => splitTag(t)[0]))];
    this.images.set(id, { id, name, digest, repoDigests: digest ? repos.map((r) => `${r}@${digest}`) : [], behaviour });
    for (const t of opts.tags ?? []) {
      this.tags.set(tagKey(t), id);
      if (!opts.local) this.publish(t, name, behaviour);
    }
    return id;
  }

  /** The registry now serves the image called `name` for `reference`; returns its digest and the id a pull gives. */
  publish(reference: string, name: string, behaviour: Behaviour): { digest: string; id: string; pullRef: string } {
    const digest = digestOf(name);
    const pullRef = `${splitTag(reference)[0]}@${digest}`;
    this.registry.set(pullRef, { name, behaviour });
    this.heads.set(reference, digest);
    return { digest, id: imageId(name), pullRef };
  }

  /** The image id `reference` (repo:tag) points to now. */
  tagged(reference: string): string | undefined {
    return this.tags.get(tagKey(reference));
  }

  /** The name (as given to image()/publish()) of the image with this id. */
  nameOf(id: string | undefined): string | undefined {
    return id === undefined ? undefined : this.images.get(id)?.name;
  }

  // --- containers ---

  /** The container of project/service (the running one first), if any. */
  container(project: string, service: string): WorldContainer | undefined {
    const mine = [...this.containers.values()].filter((c) => c.project === project && c.service === service);
    return mine.find((c) => c.condition.state === 'running') ?? mine[0];
  }

  /** The image name the service's container runs, or undefined. */
  runs(project: string, service: string): string | undefined {
    return this.nameOf(this.container(project, service)?.imageId);
  }

  /** The pin tags (localhost/stackd-rollback/…) and the image names they point to. */
  pins(): Record<string, string | undefined> {
    return Object.fromEntries([...this.tags].filter(([k]) => k.startsWith(`${PIN_REPOSITORY}/`)).map(([k, id]) => [k, this.nameOf(id)]));
  }

  // --- stacks ---

  /**
   * A stack whose compose file exists, whose model the store has (as after a reconcile) and whose services'
   * containers run (on `runs`, else on what the reference points to; those images must exist).
   */
  addStack(name: string, services: ServiceSpec[], over: Partial<StackConfig> = {}, opts: { model?: boolean } = {}): StackConfig {
    const stack = stackConfig(name, over);
    this.stacks.push(stack);
    this.services.set(stack.project, services);
    for (const f of stack.compose) {
      this.files.set(f, `services:\n${services.map((s) => `  ${s.name}:\n    image: ${s.reference ?? 'none'}\n`).join('')}`);
    }
    if (opts.model !== false) this.resolveModel(stack);
    for (const s of services) {
      if (s.container === false || s.reference === undefined) continue;
      const id = s.runs ? imageId(s.runs) : this.tagged(s.reference);
      if (!id || !this.images.has(id)) throw new Error(`addStack: no image for ${name}/${s.name} (${s.runs ?? s.reference})`);
      // an old container: long past its start, in its steady state
      this.create(stack.project, s, id, 1_000);
    }
    this.observeNow(stack);
    return stack;
  }

  /** The model a reconcile resolves from the compose files, into the store (as resolveModel does). */
  resolveModel(stack: StackConfig): ComposeModel {
    const model = parseComposeConfig(this.composeJson(stack.project), stack.project);
    this.store.update(stack.name, { model });
    return model;
  }

  /** `compose config --format json` of a project. */
  composeJson(project: string): string {
    const services = this.services.get(project) ?? [];
    return JSON.stringify({
      name: project,
      services: Object.fromEntries(services.map((s) => [s.name, {
        ...(s.reference !== undefined ? { image: s.reference } : {}),
        ...(s.build ? { build: { context: '.' } } : {}),
        restart: 'unless-stopped',
        labels: s.policy !== undefined ? { [AUTOUPDATE]: s.policy } : {},
        ...(s.healthcheck ? { healthcheck: s.healthcheck === true ? HEALTHCHECK : { test: ['CMD', 'true'], ...s.healthcheck } } : {}),
      }])),
    });
  }

  /** The config with the world's stacks (update.settleMs 30s, gateSlack 10s unless given). */
  config(update: Partial<Config['update']> = {}): Config {
    return makeConfig(this.stacks, { update: { mode: 'apply', settleMs: 30_000, gateSlackMs: 10_000, notifyOnSuccess: false, ...update } });
  }

  /** Everything the Updater needs, wired to this world. */
  deps(config: Config = this.config(), over: Partial<UpdaterDeps> = {}): UpdaterDeps {
    return {
      config: () => config,
      store: this.store,
      podman: this.podman,
      compose: this.compose,
      files: this.files,
      childEnv: { PATH: '/usr/bin' },
      check: this.check,
      observe: this.observe,
      exclusive: this.exclusive,
      state: this.updateState,
      logger: silentLogger,
      now: this.clock.now,
      sleep: this.sleep,
      pollMs: 2_000,
      ...over,
    };
  }

  // --- test controls ---

  /** The next call of `method` whose argument matches `when` throws `err`. */
  fail(method: Method, err: Error, when: (arg: string) => boolean = () => true): this {
    this.failures.push({ method, when, err });
    return this;
  }

  /** The next call of `method` whose argument matches `when` waits for the returned deferred. */
  hold(method: Method, when: (arg: string) => boolean = () => true): Deferred {
    const d = deferred();
    this.holds.push({ method, when, until: d.promise });
    return d;
  }

  /** The next compose `up` calls do these steps, in order; after them every call does what compose does. */
  scriptUp(...steps: ComposeStep[]): this {
    this.composeScript.push(...steps);
    return this;
  }

  /** The next checks of `reference` answer these, in order; after them the registry answers (heads). */
  scriptCheck(reference: string, ...outcomes: CheckOutcome[]): this {
    this.checkScript.set(reference, [...(this.checkScript.get(reference) ?? []), ...outcomes]);
    return this;
  }

  /** The next check (of any reference) waits for the returned deferred. */
  holdCheck(): Deferred {
    const d = deferred();
    this.checkHolds.push(d.promise);
    return d;
  }

  /** Seeds the updater's durable state (as a killed stackd left it). */
  seedState(s: UpdateState): void {
    this.updateState = new UpdateStateStore(s);
  }

  /** A progress record as apply writes it. */
  progress(stack: string, step: ApplyStep, services: { service: string; reference: string; previous: string; target: string }[]): ApplyProgress {
    return {
      stack, step, startedAt: new Date(this.clock.now()).toISOString(),
      services: services.map((s) => ({
        service: s.service, reference: s.reference, previousImageId: imageId(s.previous),
        pinTag: `${PIN_REPOSITORY}/${stack}-${s.service}:20261126115000`, targetDigest: digestOf(s.target),
      })),
    };
  }

  // --- the ports ---

  readonly sleep = async (ms: number): Promise<void> => {
    this.sleepCount += 1;
    if (this.sleepCount > this.maxSleeps) throw new Error(`the gate slept ${this.maxSleeps} times and never decided`);
    await this.clock.sleep(ms);
    if (this.sleepCount % 50 === 0) await tick();
  };

  readonly podman: Pick<PodmanPort, 'inspectContainer' | 'runHealthcheck' | 'removeContainer' | 'listProjectNetworks' | 'removeNetwork'> & ImagePort = {
    // the repairs of `compose up` (compose-up.ts): a removed container is gone (compose makes it again)
    removeContainer: async (id) => {
      this.log.push(`rm ${short(id)}`);
      return this.containers.delete(id);
    },
    listProjectNetworks: async () => [],
    removeNetwork: async () => false,
    inspectImage: async (nameOrId) => {
      await this.enter('inspectImage', nameOrId);
      const img = this.resolveImage(nameOrId);
      if (!img) return undefined;
      const repoTags = [...this.tags].filter(([, id]) => id === img.id).map(([k]) => k);
      return { Id: img.id, Digest: img.digest, RepoDigests: [...img.repoDigests], RepoTags: repoTags, Os: 'linux', Architecture: 'amd64' };
    },
    pullImage: async (reference) => {
      await this.enter('pullImage', reference);
      this.log.push(`pull ${reference}`);
      return this.pull(reference);
    },
    tagImage: async (image, repo, tag) => {
      await this.enter('tagImage', `${image} ${repo}:${tag}`);
      const img = this.resolveImage(image);
      if (!img) throw new Error(`image not known: ${image}`);
      this.tags.set(`${repo}:${tag}`, img.id);
      this.log.push(`tag ${img.name} ${repo}:${tag}`);
    },
    containerLogs: async (id, tail) => {
      await this.enter('containerLogs', id);
      const c = this.containers.get(id);
      if (!c) throw new Error(`no container with name or ID "${id}" found: no such container`);
      return [`${c.name} on ${this.nameOf(c.imageId)}: starting`, `${c.name} on ${this.nameOf(c.imageId)}: giving up`].slice(-tail).join('\n');
    },
    inspectContainer: async (id) => {
      await this.enter('inspectContainer', id);
      const c = this.containers.get(id);
      if (!c) return undefined;
      this.advance(c);
      if (!this.containers.has(id)) return undefined;
      return inspectOf(c);
    },
    runHealthcheck: async (id) => {
      await this.enter('runHealthcheck', id);
      this.log.push(`healthcheck ${id.slice(0, 12)}`);
      const c = this.containers.get(id);
      if (!c) throw new Error(`no container with name or ID "${id}" found: no such container`);
      c.checked = true;
      c.condition = this.behaviourOf(c)(Math.max(0, c.polls - 1), ctxOf(c));
      return { Status: c.condition.health ?? '', FailingStreak: 0, Log: [] };
    },
  };

  readonly compose = {
    up: async (spec: ComposeSpec): Promise<ComposeOutcome> => {
      this.upSpecs.push({ ...spec });
      this.log.push(`up ${spec.project}${spec.pullNever ? ' --pull never' : ''}`);
      let step = this.composeScript.shift() ?? { kind: 'ok' };
      while (step.kind === 'hold') {
        await step.until;
        step = this.composeScript.shift() ?? { kind: 'ok' };
      }
      if (step.kind === 'throw') throw step.err;
      if (step.kind === 'fail') return composeOutcome(false, null, step.stderr);
      if (step.kind === 'timeout') return { ...composeOutcome(false, null, ''), timedOut: true };
      return this.up(spec);
    },
  };

  readonly check = async (reference: string, local: unknown): Promise<CheckOutcome> => {
    this.checks.push(reference);
    const hold = this.checkHolds.shift();
    if (hold) await hold;
    const scripted = this.checkScript.get(reference)?.shift();
    if (scripted) return scripted;
    const head = this.heads.get(reference);
    if (!head) return { kind: 'failed', reason: `${reference}: manifest unknown` };
    const repo = splitTag(reference)[0];
    const have = typeof local === 'object' && local !== null && 'RepoDigests' in local && Array.isArray(local.RepoDigests) ? local.RepoDigests : [];
    return have.includes(`${repo}@${head}`) ? { kind: 'up-to-date' } : { kind: 'update', digest: head, pullRef: `${repo}@${head}` };
  };

  readonly observe = async (stack: StackConfig): Promise<ObservedContainer[]> => this.observeNow(stack);

  readonly exclusive = <T>(stack: string, task: () => Promise<T>): Promise<T> => {
    this.exclusiveCalls.push(stack);
    const run = async (): Promise<T> => {
      this.log.push(`exclusive ${stack} start`);
      try {
        return await task();
      } finally {
        this.log.push(`exclusive ${stack} end`);
      }
    };
    return this.queue ? this.queue.runExclusive(stack, 'updating', run) : run();
  };

  // --- internals ---

  observeNow(stack: StackConfig): ObservedContainer[] {
    const raw = [...this.containers.values()].filter((c) => c.project === stack.project).map(listEntryOf);
    const containers = selectProjectContainers(parseContainerList(raw), stack.project);
    this.store.update(stack.name, { containers, observedAt: this.clock.now() });
    return containers;
  }

  private async up(spec: ComposeSpec): Promise<ComposeOutcome> {
    const services = this.services.get(spec.project);
    if (!services) return composeOutcome(false, 1, 'no configuration file provided: not found');
    for (const s of services) {
      if (s.reference === undefined || s.container === false || this.upIgnores.has(`${spec.project}/${s.name}`)) continue;
      let id = this.tagged(s.reference);
      if (!id) {
        if (spec.pullNever) return composeOutcome(false, 1, `Error response from daemon: ${s.reference}: image not known`);
        const head = this.heads.get(s.reference);
        if (!head) return composeOutcome(false, 1, `Error response from daemon: ${s.reference}: manifest unknown`);
        id = this.pull(`${splitTag(s.reference)[0]}@${head}`);
        this.tags.set(tagKey(s.reference), id);
      }
      const existing = this.container(spec.project, s.name);
      if (existing && existing.imageId === id) {
        if (existing.condition.state !== 'running') Object.assign(existing, { polls: 0, checked: false, condition: this.behaviourOf(existing)(0, { ...ctxOf(existing), checked: false }) });
        continue;
      }
      if (existing) this.containers.delete(existing.id);
      const c = this.create(spec.project, s, id, 0);
      this.log.push(`recreate ${spec.project}/${s.name} ${this.nameOf(id)} ${short(c.id)}`);
    }
    return composeOutcome(true, 0, '');
  }

  private create(project: string, s: ServiceSpec, id: string, polls: number): WorldContainer {
    this.containerSeq += 1;
    const cid = sha(`container:${project}/${s.name}/${this.containerSeq}`);
    const img = this.images.get(id);
    if (!img) throw new Error(`no image ${id}`);
    const c: WorldContainer = {
      id: cid, name: `${project}-${s.name}-1`, project, service: s.name, imageId: id, imageName: s.reference ?? '',
      labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': s.name, ...(s.policy !== undefined ? { [AUTOUPDATE]: s.policy } : {}) },
      createdAt: this.clock.now(), polls, checked: false, condition: { state: 'created' },
    };
    c.condition = img.behaviour(polls, ctxOf(c));
    this.containers.set(cid, c);
    return c;
  }

  private behaviourOf(c: WorldContainer): Behaviour {
    return this.images.get(c.imageId)?.behaviour ?? behave.runs();
  }

  /** One inspect: the container moves on to its next condition. */
  private advance(c: WorldContainer): void {
    c.condition = this.behaviourOf(c)(c.polls, ctxOf(c));
    c.polls += 1;
    if (c.condition.gone) this.containers.delete(c.id);
  }

  private pull(reference: string): string {
    const published = this.registry.get(reference);
    if (!published) throw new Error(`${reference}: manifest unknown`);
    const [repo, digest] = reference.split('@') as [string, string];
    const id = imageId(published.name);
    const have = this.images.get(id);
    if (have) {
      if (!have.repoDigests.includes(reference)) have.repoDigests.push(reference);
    } else {
      this.images.set(id, { id, name: published.name, digest, repoDigests: [`${repo}@${digest}`], behaviour: published.behaviour });
    }
    return id;
  }

  private resolveImage(nameOrId: string): WorldImage | undefined {
    const byId = this.images.get(nameOrId.replace(/^sha256:/, ''));
    if (byId) return byId;
    if (nameOrId.includes('@')) return [...this.images.values()].find((i) => i.repoDigests.includes(nameOrId));
    const tagged = this.tags.get(tagKey(nameOrId));
    if (tagged) return this.images.get(tagged);
    if (/^[0-9a-f]{12,63}$/.test(nameOrId)) return [...this.images.values()].find((i) => i.id.startsWith(nameOrId));
    return undefined;
  }

  private async enter(method: Method, arg: string): Promise<void> {
    const h = this.holds.findIndex((x) => x.method === method && x.when(arg));
    if (h >= 0) await this.holds.splice(h, 1)[0]?.until;
    const f = this.failures.findIndex((x) => x.method === method && x.when(arg));
    if (f >= 0) throw this.failures.splice(f, 1)[0]?.err;
  }
}

function ctxOf(c: WorldContainer): { checked: boolean; project: string; service: string } {
  return { checked: c.checked, project: c.project, service: c.service };
}

function tagKey(reference: string): string {
  const [repo, tag] = splitTag(reference);
  return `${repo}:${tag}`;
}

function composeOutcome(ok: boolean, exitCode: number | null, stderr: string): ComposeOutcome {
  return { ok, exitCode: ok ? 0 : exitCode ?? 1, stdout: '', stderr, timedOut: false, durationMs: 0 };
}

/** GET /libpod/containers/json, one entry. */
function listEntryOf(c: WorldContainer): Record<string, unknown> {
  return {
    Id: c.id, Names: [c.name], Labels: c.labels, State: c.condition.state, Status: c.condition.health ?? '',
    ExitCode: c.condition.exitCode ?? 0, StartedAt: Math.floor(c.createdAt / 1000), Created: new Date(c.createdAt).toISOString(),
    Image: c.imageName, ImageID: c.imageId,
  };
}

/** GET /libpod/containers/{id}/json. */
function inspectOf(c: WorldContainer): Record<string, unknown> {
  const s = c.condition;
  return {
    Id: c.id, Name: c.name, Created: new Date(c.createdAt).toISOString(), Image: c.imageId, ImageName: c.imageName,
    RestartCount: s.restarts ?? 0,
    State: {
      Status: s.state, ExitCode: s.exitCode ?? 0, StartedAt: new Date(c.createdAt).toISOString(),
      ...(s.health ? { Health: { Status: s.health, FailingStreak: s.health === 'unhealthy' ? 3 : 0, Log: [] } } : {}),
    },
    // as podman shows it: a container with health has its healthcheck in its config (nanoseconds); the gate
    // reads it from here when no compose model is known yet (a resume at start)
    Config: {
      Labels: c.labels, Image: c.imageName,
      ...(s.health ? { Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 3e9, Retries: 3, StartPeriod: 0 } } : {}),
    },
  };
}
