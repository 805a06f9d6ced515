// The supervisor: the persisted per-stack levels (running | stopped | removed), the one queue, the reconciler,
// observed state and jobs, behind the SupervisorApi the HTTP layer serves.
//
// Level-based: a trigger only says "look at stack X"; the run reads the persisted level and converges to it.
// Nothing about what to do next lives only in memory, so a restart, a failed run or a retry always does what
// the owner last asked for. Lifecycle: load() (the state file; requests wait for it), start(), stop().
import type { Logger } from 'pino';
import { expectedServices } from '../core/compose-model.js';
import { eventIsNews } from '../core/event-news.js';
import type { Config, StackConfig } from '../core/config-types.js';
import { findDivergence } from '../core/divergence.js';
import { decideRepair } from '../core/repair.js';
import { errorMessage } from '../core/errors.js';
import { desiredFor, type DesiredState, type ReconcileResult, type StackAction, type StackStatus } from '../core/model.js';
import { sameState, type PersistedState, type StackRecord } from '../core/persisted-state.js';
import { applyConfigToRecords, forgetUnconfigured, markRetired, unconfiguredRecords, withDesired } from '../core/stack-records.js';
import { deriveStatus, toContainerView } from '../core/stack-status.js';
import { ShuttingDownError, UnknownStackError, type Job, type Readiness, type SupervisorApi, type TaskKind } from './api.js';
import { JobRegistry } from './jobs.js';
import type { Lifecycle } from './lifecycle.js';
import type { ObservedStore } from './observed-store.js';
import type { ComposeProviderVerdict, PodmanPort, StateStore } from './ports.js';
import { ReconcileQueue, type RunContext } from './reconcile-queue.js';
import { isLockContention, nextConcurrency, type PodmanPace } from '../core/adaptive-concurrency.js';
import type { Reconciler } from './reconciler.js';
import type { TrustLedger } from './trust-ledger.js';

export interface SupervisorDeps {
  config: Config;
  reconciler: Pick<Reconciler, 'reconcile' | 'retire' | 'observe' | 'observeProject'>;
  /** told of the event stream's state and of events that re-list a project (absent: the view is never trusted) */
  trust?: Pick<TrustLedger, 'stream' | 'event'>;
  store: ObservedStore;
  podman: Pick<PodmanPort, 'ping'>;
  stateStore: StateStore;
  logger: Logger;
  now?: () => number;
  /** [0, 1) for the queue's retry jitter */
  random?: () => number;
  /** the last compose provider verdict, for readiness (undefined until asked) */
  composeProvider?: () => ComposeProviderVerdict | undefined;
  /** check/gc jobs; absent → those jobs fail with a clear message */
  tasks?: {
    check?: (stack?: string) => Promise<{ ok: boolean; output: unknown }>;
    gc?: () => Promise<{ ok: boolean; output: unknown }>;
    update?: (stack: string | undefined, dryRun: boolean) => Promise<{ ok: boolean; output: unknown }>;
  };
  onResult?: (stack: string, result: ReconcileResult) => void;
  /**
   * podman's pace since the last call (the relay's answer times; supervisor/pace-meter.ts), read after each
   * reconcile when queue.concurrency is auto. Absent: no slow answers are seen, only lock contention.
   */
  podmanPace?: () => PodmanPace;
  /** a stack's status may have changed without the observed store changing (a phase, a level, a new config) */
  onStatusChange?: () => void;
  /**
   * Runs at start after every stack was observed and before any is queued: the updater finishes an update a
   * killed stackd left behind, so no reconcile ever brings up a half-applied stack.
   */
  beforeQueue?: () => Promise<void>;
}

export class Supervisor implements SupervisorApi, Lifecycle {
  readonly name = 'supervisor';
  private config: Config;
  /** the persisted records as last saved; replaced only after a successful save */
  private state: PersistedState = new Map();
  private readonly queue: ReconcileQueue;
  private readonly jobs: JobRegistry;
  private readonly now: () => number;
  private resyncTimer?: NodeJS.Timeout;
  /** saves run one after another; each reads the state the previous one left */
  private saveChain: Promise<void> = Promise.resolve();
  private loadedFlag = false;
  private readonly loaded: Promise<void>;
  private markLoaded!: () => void;
  private stopping = false;
  /** when each stack was last re-queued by its repair policy (the once-per-window limit; memory only) */
  private readonly lastRepairAt = new Map<string, number>();

  constructor(private readonly deps: SupervisorDeps) {
    this.config = deps.config;
    this.now = deps.now ?? Date.now;
    this.jobs = new JobRegistry(this.now);
    this.loaded = new Promise((resolve) => {
      this.markLoaded = resolve;
    });
    this.queue = new ReconcileQueue({
      // auto starts at its most: a rebuild's burst gets the parallelism at once (core/adaptive-concurrency.ts)
      concurrency: deps.config.queue.concurrency.max,
      retryBaseMs: deps.config.queue.retryBaseMs,
      retryMaxMs: deps.config.queue.retryMaxMs,
      now: this.now,
      ...(deps.random ? { random: deps.random } : {}),
      run: (ctx) => this.runReconcile(ctx),
      onPhase: (stack, phase, retryAt) => {
        deps.logger.debug({ stack, phase, retryAt }, 'phase');
        deps.onStatusChange?.();
      },
      onResult: (ctx, r) => {
        this.adaptConcurrency(r);
        deps.onResult?.(ctx.stack, r);
      },
    });
  }

  /**
   * Reads the state file and records every configured stack (and marks those that left the config). Throws
   * StateFileCorruptError: the caller refuses to start, and the file is left as it is. Requests that arrive
   * before this finishes wait for it, so none of them can save over state not yet read.
   */
  async load(): Promise<void> {
    const { state, upgradedFrom } = await this.deps.stateStore.load((name) => this.stackConfig(name)?.project ?? name);
    this.state = state;
    const change = applyConfigToRecords(state, this.config.stacks, this.config.removedStacks, new Date(this.now()).toISOString());
    for (const name of change.left) this.deps.logger.info({ stack: name, action: this.config.removedStacks }, 'stack is no longer in the config');
    if (upgradedFrom !== undefined) {
      this.deps.logger.info({ from: upgradedFrom }, 'state file upgraded to the current format');
      await this.deps.stateStore.save(change.state);
      this.state = change.state;
    } else {
      await this.mutate(() => change.state);
    }
    this.loadedFlag = true;
    this.markLoaded();
  }

  /** Observe every stack first, then queue each toward its level. */
  async start(): Promise<void> {
    if (!this.loadedFlag) await this.load();
    await Promise.all(this.config.stacks.map((s) => this.deps.reconciler.observe(s).catch((err: unknown) => {
      this.deps.logger.warn({ stack: s.name, err }, 'could not observe containers at start');
    })));
    if (this.deps.beforeQueue) {
      await this.deps.beforeQueue().catch((err: unknown) => this.deps.logger.error({ err }, 'could not finish interrupted updates at start'));
    }
    for (const s of this.config.stacks) this.queue.poke(s.name, 'start');
    for (const u of unconfiguredRecords(this.state)) {
      await this.deps.reconciler.observeProject(u.name, u.record.project).catch(() => undefined);
      if (!u.record.unconfigured.done) this.queue.poke(u.name, 'start');
    }
    this.scheduleResync();
  }

  /** No new work; running reconciles finish; pending saves are awaited (a failed one is logged, not thrown). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    await this.queue.close();
    await this.saveChain;
  }

  /** A new, valid config: reconcile stacks that are new or changed; stacks that left get removedStacks' action. */
  applyConfig(next: Config): void {
    const before = new Map(this.config.stacks.map((s) => [s.name, s]));
    this.config = next;
    this.deps.onStatusChange?.();
    const nowIso = new Date(this.now()).toISOString();
    let change: ReturnType<typeof applyConfigToRecords> | undefined;
    void this.mutate((s) => {
      change = applyConfigToRecords(s, next.stacks, next.removedStacks, nowIso);
      return change.state;
    }).then(() => {
      for (const name of change?.left ?? []) {
        this.deps.logger.info({ stack: name, action: next.removedStacks }, 'stack is no longer in the config');
        this.queue.poke(name, 'config');
      }
    }, (err: unknown) => this.deps.logger.error({ err }, 'could not save the state after a config change; it is applied again at the next change or restart'));
    for (const s of next.stacks) {
      const old = before.get(s.name);
      if (!old || JSON.stringify(old) !== JSON.stringify(s)) {
        this.deps.logger.info({ stack: s.name, change: old ? 'changed' : 'added' }, 'config changed');
        // a new config may be the fix a failed stack waits for: it runs now, even during a backoff
        this.queue.poke(s.name, 'config');
      }
    }
  }

  get currentConfig(): Config {
    return this.config;
  }

  /** Runs `task` in the stack's queue slot (an update): a reconcile of the same stack waits for it. */
  exclusive<T>(stack: string, task: () => Promise<T>): Promise<T> {
    if (this.stopping) return Promise.reject(new ShuttingDownError());
    return this.queue.runExclusive(stack, 'updating', task);
  }

  /** jobs in the table (open plus recent finished), for the stackd_jobs gauge */
  get jobCount(): number {
    return this.jobs.size;
  }

  /** how many reconciles may run at once now (follows podman's pace when queue.concurrency is auto) */
  get queueConcurrency(): number {
    return this.queue.concurrency;
  }

  /** concurrency is a restart-only key: the bounds are the ones stackd started with */
  private adaptConcurrency(r: ReconcileResult): void {
    const bounds = this.deps.config.queue.concurrency;
    if (bounds.min === bounds.max) return;
    const pace = this.deps.podmanPace?.() ?? { answers: 0, slow: 0 };
    const from = this.queue.concurrency;
    const lockContention = isLockContention(r.reason);
    const to = nextConcurrency(from, bounds, pace, lockContention);
    if (to === from) return;
    this.queue.setConcurrency(to);
    this.deps.logger.info({ from, to, answers: pace.answers, slowAnswers: pace.slow, lockContention }, 'queue concurrency changed');
  }

  get queueDepth(): number {
    return this.queue.depth;
  }

  /** Stacks that left the config and are still remembered (status, check, prune). */
  unconfiguredStacks(): { stack: string; project: string; action: 'stop' | 'down' | 'keep' }[] {
    return unconfiguredRecords(this.state).map((u) => ({ stack: u.name, project: u.record.project, action: u.record.unconfigured.action }));
  }

  // --- SupervisorApi --------------------------------------------------------------------------------

  listStacks(): StackStatus[] {
    const configured = this.config.stacks.map((s) => this.statusOf(s));
    const left = unconfiguredRecords(this.state).map((u) => this.removedStatusOf(u.name, u.record));
    return [...configured, ...left];
  }

  getStack(name: string): StackStatus | undefined {
    const s = this.stackConfig(name);
    if (s) return this.statusOf(s);
    const rec = this.state.get(name);
    return rec?.unconfigured ? this.removedStatusOf(name, rec) : undefined;
  }

  async request(name: string, action: StackAction): Promise<Job> {
    if (this.stopping) throw new ShuttingDownError();
    await this.loaded;
    const stack = this.stackConfig(name);
    if (!stack) throw new UnknownStackError(name, this.config.stacks.map((s) => s.name));
    if (this.stopping) throw new ShuttingDownError();
    // A repeat of a request whose run has not started yet joins it: same action, same level, same verdict.
    // A stack's actions share one job slot, so the newest open job of this kind is the last thing asked.
    const joined = this.jobs.joinable(action, name, ['queued']);
    if (joined) return joined;

    const job = this.jobs.create(action, name);
    try {
      await this.mutate((s) => withDesired(s, name, desiredFor(action), stack.project));
    } catch (err) {
      this.jobs.update(job.id, {
        status: 'failed',
        error: `stack "${name}": could not save the desired state to ${this.config.stateFile} (${errorMessage(err)}); ` +
          'nothing was changed. Free space or fix the permissions of that directory, then retry',
      });
      return this.jobs.get(job.id) ?? job;
    }
    this.queue.trigger(name, 'request', { onStart: () => this.jobs.update(job.id, { status: 'running' }) })
      .then((result) => {
        if (!this.stackConfig(name)) {
          // removed from the config while queued: whatever ran was removedStacks' action, not this request
          this.jobs.update(job.id, { status: 'failed', result, error: `stack "${name}" left the config before its ${action} ran; nothing was done for the request` });
          return;
        }
        this.jobs.update(job.id, { status: result.result === 'failed' ? 'failed' : 'done', result, ...(result.result === 'failed' && result.reason ? { error: result.reason } : {}) });
      })
      .catch((err: unknown) => this.jobs.update(job.id, { status: 'failed', error: errorMessage(err) }));
    return this.jobs.get(job.id) ?? job;
  }

  startJob(kind: TaskKind, stack?: string, options: { dryRun?: boolean } = {}): Job {
    if (this.stopping) throw new ShuttingDownError();
    if (stack && !this.stackConfig(stack)) throw new UnknownStackError(stack, this.config.stacks.map((s) => s.name));
    // a check, gc or update already running answers this request too; an update and a dry run never answer
    // each other here (the updater itself lets a dry run share a running update's report)
    const variant = kind === 'update' && options.dryRun ? 'dry-run' : '';
    const joined = this.jobs.joinable(kind, stack, ['queued', 'running'], variant);
    if (joined) return joined;
    const job = this.jobs.create(kind, stack, variant);
    const tasks = this.deps.tasks ?? {};
    const run = kind === 'check' ? (tasks.check && (() => tasks.check?.(stack)))
      : kind === 'gc' ? (tasks.gc && (() => tasks.gc?.()))
        : (tasks.update && (() => tasks.update?.(stack, options.dryRun ?? false)));
    if (!run) {
      this.jobs.update(job.id, { status: 'failed', error: `${kind} is not available in this stackd` });
      return this.jobs.get(job.id) ?? job;
    }
    this.jobs.update(job.id, { status: 'running' });
    void Promise.resolve(run())
      .then((r) => r ?? { ok: false, output: undefined })
      .then((r) => this.jobs.update(job.id, { status: r.ok ? 'done' : 'failed', output: r.output }))
      .catch((err: unknown) => this.jobs.update(job.id, { status: 'failed', error: errorMessage(err) }));
    return this.jobs.get(job.id) ?? job;
  }

  getJob(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  waitJob(id: string, timeoutMs: number, signal?: AbortSignal): Promise<Job | undefined> {
    return this.jobs.wait(id, timeoutMs, signal);
  }

  async readiness(): Promise<Readiness> {
    const provider = this.deps.composeProvider?.();
    const compose = provider ? { compose: { ok: provider.ok, provider: provider.provider, detail: provider.detail } } : {};
    const ready = this.loadedFlag && (provider?.ok ?? true);
    try {
      await this.deps.podman.ping();
      return { ready, podman: { reachable: true }, ...compose, stateLoaded: this.loadedFlag };
    } catch (err) {
      return { ready: false, podman: { reachable: false, error: errorMessage(err) }, ...compose, stateLoaded: this.loadedFlag };
    }
  }

  /**
   * Podman answers again: observe every stack now and reconcile those that drifted (events were lost). A stack
   * backing off after podman-unreachable waited only for podman, so it runs now instead of waiting out a delay
   * that may have grown to queue.retryMax during the outage; the queue's concurrency still spreads them, and a
   * new failure backs off from the same attempt.
   */
  async resyncNow(): Promise<void> {
    if (this.stopping || !this.loadedFlag) return;
    for (const s of this.config.stacks) {
      if (this.deps.store.get(s.name).lastResult?.reasonCode !== 'podman-unreachable' || this.queue.phase(s.name).phase !== 'backoff') continue;
      this.deps.logger.info({ stack: s.name }, 'podman answers again: retrying now instead of waiting out the backoff');
      this.queue.poke(s.name, 'podman-back');
    }
    await this.resync();
  }

  /** Whether a podman event of the project can change what stackd shows (src/core/event-news.ts). */
  eventIsNews(ev: unknown, project: string): boolean {
    const s = this.config.stacks.find((x) => x.project === project);
    if (s === undefined) return true;
    const news = eventIsNews(ev, this.deps.store.get(s.name).containers);
    // the view of the project is not trusted again until a list that begins after this event (its re-list)
    if (news) this.deps.trust?.event(project);
    return news;
  }

  /** The podman event stream answered (true) or was lost (false): whether event-fed views can be trusted. */
  eventStream(up: boolean): void {
    this.deps.trust?.stream(up);
  }

  /**
   * Re-list one project's containers (after a podman event). A container that died or went unhealthy then
   * re-queues its stack when the stack's repair policy says so (core/repair.ts).
   */
  async refreshProject(project: string): Promise<void> {
    const s = this.config.stacks.find((x) => x.project === project);
    if (s) {
      await this.deps.reconciler.observe(s);
      this.repairIfBroken(s);
      return;
    }
    const u = unconfiguredRecords(this.state).find((x) => x.record.project === project);
    if (u) await this.deps.reconciler.observeProject(u.name, project);
  }

  // --- internals ---------------------------------------------------------------------------------------

  private statusOf(s: StackConfig): StackStatus {
    const obs = this.deps.store.get(s.name);
    const { phase, retryAt } = this.queue.phase(s.name);
    const expected = obs.model ? expectedServices(obs.model) : [];
    const startPeriods: Record<string, number> = {};
    for (const svc of expected) if (svc.healthcheck && !svc.healthcheck.disabled) startPeriods[svc.name] = svc.healthcheck.startPeriodMs;
    const desired = this.desiredOf(s.name);
    const { health, state } = deriveStatus({
      desired,
      phase,
      ...(obs.lastResult ? { lastResult: obs.lastResult } : {}),
      expected,
      containers: obs.observedAt === undefined ? undefined : obs.containers,
      nowMs: this.now(),
      healthWindow: { windowMs: s.healthWindowMs, ...(obs.deployFinishedAtMs !== undefined ? { deployFinishedAtMs: obs.deployFinishedAtMs } : {}) },
      startPeriods,
    });
    return {
      name: s.name,
      project: s.project,
      unit: s.unit,
      desired,
      phase,
      ...(retryAt ? { retryAt } : {}),
      health,
      state,
      ...(obs.lastResult ? { lastResult: obs.lastResult } : {}),
      ...(obs.lastUpdate ? { lastUpdate: obs.lastUpdate } : {}),
      containers: obs.containers.map(toContainerView),
    };
  }

  /** A stack that left the config: listed as `removed` with removedStacks' action until nothing of it is left. */
  private removedStatusOf(name: string, rec: StackRecord): StackStatus {
    const obs = this.deps.store.get(name);
    const { phase, retryAt } = this.queue.phase(name);
    const running = obs.containers.some((c) => c.state === 'running');
    return {
      name,
      project: rec.project,
      unit: `${name}.service`,
      desired: rec.desired,
      phase,
      ...(retryAt ? { retryAt } : {}),
      // stackd no longer knows what the stack should look like: only whether something still runs
      health: obs.observedAt === undefined ? 'unknown' : running ? 'unknown' : 'down',
      state: 'removed',
      ...(obs.lastResult ? { lastResult: obs.lastResult } : {}),
      containers: obs.containers.map(toContainerView),
      ...(rec.unconfigured ? { removedFromConfig: { action: rec.unconfigured.action, done: rec.unconfigured.done } } : {}),
    };
  }

  private async runReconcile(ctx: RunContext): Promise<ReconcileResult> {
    const log = this.deps.logger.child({ stack: ctx.stack, reconcileId: ctx.runId });
    const stack = this.stackConfig(ctx.stack);
    const rec = this.state.get(ctx.stack);
    if (stack) {
      const desired = this.desiredOf(stack.name);
      log.info({ desired, sources: ctx.sources, attempt: ctx.attempt }, 'reconcile');
      // only a run that answers requests alone may trust the event-fed view (reconciler.ts, core/observed-trust.ts)
      const trustObserved = ctx.sources.every((source) => source === 'request');
      return this.deps.reconciler.reconcile(stack, desired, log, { trustObserved });
    }
    if (rec?.unconfigured && !rec.unconfigured.done) {
      log.info({ action: rec.unconfigured.action, project: rec.project, sources: ctx.sources, attempt: ctx.attempt }, 'retiring a stack that left the config');
      const result = await this.deps.reconciler.retire({ name: ctx.stack, project: rec.project }, rec.unconfigured.action, log);
      if (result.result !== 'failed') {
        await this.mutate((s) => markRetired(s, ctx.stack)).catch((err: unknown) => log.error({ err }, 'could not save that the stack was retired; it is retired again at the next start'));
      }
      return result;
    }
    const at = new Date(this.now()).toISOString();
    return { result: 'skipped', reasonCode: 'not-configured', reason: `stack "${ctx.stack}" is not in the config`, startedAt: at, finishedAt: at, durationMs: 0 };
  }

  /** Periodic resync: observe every stack; reconcile only those whose containers drifted from their level. */
  private scheduleResync(): void {
    if (this.stopping) return;
    this.resyncTimer = setTimeout(() => {
      void this.resync().finally(() => this.scheduleResync());
    }, this.config.queue.resyncMs);
    this.resyncTimer.unref();
  }

  private async resync(): Promise<void> {
    for (const s of this.config.stacks) {
      try {
        const containers = await this.deps.reconciler.observe(s);
        const obs = this.deps.store.get(s.name);
        const d = findDivergence(this.desiredOf(s.name), obs.model ? expectedServices(obs.model) : [], containers);
        if (d.kind !== 'none') {
          this.deps.logger.info({ stack: s.name, divergence: d }, 'drift found; reconciling');
          this.queue.poke(s.name, 'resync');
        }
      } catch (err) {
        this.deps.logger.warn({ stack: s.name, err }, 'resync could not observe the stack');
      }
    }
    for (const u of unconfiguredRecords(this.state)) {
      try {
        const containers = await this.deps.reconciler.observeProject(u.name, u.record.project);
        if (containers.length === 0) {
          this.deps.logger.info({ stack: u.name, project: u.record.project }, 'nothing is left of a stack that left the config; forgetting it');
          await this.mutate((s) => forgetUnconfigured(s, u.name));
          this.deps.store.delete(u.name);
        } else if (!u.record.unconfigured.done) {
          this.queue.poke(u.name, 'resync');
        }
      } catch (err) {
        this.deps.logger.warn({ stack: u.name, err }, 'resync could not observe a stack that left the config');
      }
    }
  }

  /** repair: reconcile → one reconcile through the queue (a passive source: a backoff stands), once per window */
  private repairIfBroken(s: StackConfig): void {
    if (this.stopping) return;
    const obs = this.deps.store.get(s.name);
    const last = this.lastRepairAt.get(s.name);
    const d = decideRepair({
      policy: s.repair, desired: this.desiredOf(s.name), phase: this.queue.phase(s.name).phase,
      expected: obs.model ? expectedServices(obs.model) : [], containers: obs.containers,
      nowMs: this.now(), windowMs: s.healthWindowMs, ...(last !== undefined ? { lastRepairAtMs: last } : {}),
    });
    if (d.act) {
      this.lastRepairAt.set(s.name, this.now());
      this.deps.logger.info({ stack: s.name, broken: d.broken }, 'a container died or went unhealthy; repair: reconcile queues the stack');
      this.queue.poke(s.name, 'event');
    } else if (d.why === 'rate-limited') {
      this.deps.logger.info({ stack: s.name, broken: d.broken, allowedAt: new Date(d.allowedAtMs ?? 0).toISOString() }, 'a container died or went unhealthy; already repaired within the window, not again');
    } else if (d.why !== 'fine') {
      this.deps.logger.debug({ stack: s.name, broken: d.broken, why: d.why }, 'a container died or went unhealthy; not repairing');
    }
  }

  private stackConfig(name: string): StackConfig | undefined {
    return this.config.stacks.find((s) => s.name === name);
  }

  /** The persisted level of a stack (running unless the owner stopped or removed it). */
  desiredOf(name: string): DesiredState {
    return this.state.get(name)?.desired ?? 'running';
  }

  /**
   * Persist before acting, so a crash right after never forgets what the owner asked for. The in-memory state
   * changes only once the file is written (a failed save leaves both as they were), and a change that would
   * write the same bytes is not written at all.
   */
  private mutate(change: (s: PersistedState) => Map<string, StackRecord>): Promise<void> {
    const run = async () => {
      const next = change(this.state);
      if (sameState(next, this.state)) {
        this.state = next;
        return;
      }
      await this.deps.stateStore.save(next);
      this.state = next;
      this.deps.onStatusChange?.();
    };
    const p = this.saveChain.then(run);
    this.saveChain = p.catch((err: unknown) => this.deps.logger.error({ err, file: this.config.stateFile }, 'could not save the state file'));
    return p;
  }
}
