// The supervisor: desired state, the one queue, the reconciler, observed state and jobs, behind the
// SupervisorApi the HTTP layer serves. Long-lived; start() then stop().
import type { Logger } from 'pino';
import { expectedServices } from '../core/compose-model.js';
import type { Config, StackConfig } from '../core/config-types.js';
import { findDivergence } from '../core/divergence.js';
import type { DesiredState, ReconcileResult, StackStatus } from '../core/model.js';
import { deriveStatus, toContainerView } from '../core/stack-status.js';
import { UnknownStackError, type Job, type Readiness, type StackAction, type SupervisorApi } from './api.js';
import { JobRegistry } from './jobs.js';
import type { ObservedStore } from './observed-store.js';
import type { DesiredStateStore, PodmanPort } from './ports.js';
import { ReconcileQueue, type RunContext } from './reconcile-queue.js';
import type { Intent, Reconciler } from './reconciler.js';

export interface SupervisorDeps {
  config: Config;
  reconciler: Reconciler;
  store: ObservedStore;
  podman: PodmanPort;
  desiredStore: DesiredStateStore;
  logger: Logger;
  now?: () => number;
  /** check/gc jobs; absent → those jobs fail with a clear message */
  tasks?: { check?: (stack?: string) => Promise<{ ok: boolean; output: unknown }>; gc?: () => Promise<{ ok: boolean; output: unknown }> };
  onResult?: (stack: string, result: ReconcileResult) => void;
}

/** Failures only a new config or new files can fix: retrying them by the clock would only repeat them. */
const TERMINAL: ReadonlySet<string> = new Set(['label-invariant', 'compose-config', 'config-invalid']);

export class Supervisor implements SupervisorApi {
  private config: Config;
  private desired: Record<string, DesiredState> = {};
  private readonly pendingDown = new Set<string>();
  private readonly queue: ReconcileQueue;
  private readonly jobs: JobRegistry;
  private readonly now: () => number;
  private resyncTimer?: NodeJS.Timeout;
  private persistChain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SupervisorDeps) {
    this.config = deps.config;
    this.now = deps.now ?? Date.now;
    this.jobs = new JobRegistry(this.now);
    this.queue = new ReconcileQueue({
      concurrency: deps.config.queue.concurrency,
      retryBaseMs: deps.config.queue.retryBaseMs,
      retryMaxMs: deps.config.queue.retryMaxMs,
      isRetryable: (r) => !TERMINAL.has(r.reasonCode ?? ''),
      run: (ctx) => this.runReconcile(ctx),
      onPhase: (stack, phase, retryAt) => deps.logger.debug({ stack, phase, retryAt }, 'phase'),
      onResult: (ctx, r) => deps.onResult?.(ctx.stack, r),
    });
  }

  /** Observe every stack first, then reconcile those whose desired state is running. */
  async start(): Promise<void> {
    this.desired = await this.deps.desiredStore.load();
    await Promise.all(this.config.stacks.map((s) => this.deps.reconciler.observe(s).catch((err: unknown) => {
      this.deps.logger.warn({ stack: s.name, err }, 'could not observe containers at start');
    })));
    for (const s of this.config.stacks) {
      if (this.desiredOf(s.name) === 'running') this.queue.poke(s.name, 'start');
      else this.deps.logger.info({ stack: s.name }, 'desired state is stopped; not starting it');
    }
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    await this.queue.close();
    await this.persistChain;
  }

  /** A new, valid config: reconcile stacks that are new or whose definition changed; forget removed ones. */
  applyConfig(next: Config): void {
    const before = new Map(this.config.stacks.map((s) => [s.name, s]));
    this.config = next;
    for (const s of next.stacks) {
      const old = before.get(s.name);
      if (!old || JSON.stringify(old) !== JSON.stringify(s)) {
        this.deps.logger.info({ stack: s.name, change: old ? 'changed' : 'added' }, 'config changed');
        if (this.desiredOf(s.name) === 'running') this.queue.poke(s.name, 'config');
      }
    }
    for (const name of before.keys()) {
      if (!next.stacks.some((s) => s.name === name)) {
        // A stack removed from the config is left as it is: stackd stops managing it, it does not delete it.
        this.deps.logger.info({ stack: name }, 'stack removed from config; its containers are left alone');
        this.queue.forget(name);
        this.deps.store.delete(name);
      }
    }
  }

  get currentConfig(): Config {
    return this.config;
  }

  get queueDepth(): number {
    return this.queue.depth;
  }

  // --- SupervisorApi --------------------------------------------------------------------------------

  listStacks(): StackStatus[] {
    return this.config.stacks.map((s) => this.statusOf(s));
  }

  getStack(name: string): StackStatus | undefined {
    const s = this.stackConfig(name);
    return s ? this.statusOf(s) : undefined;
  }

  async request(name: string, action: StackAction): Promise<Job> {
    const stack = this.stackConfig(name);
    if (!stack) throw new UnknownStackError(name, this.config.stacks.map((s) => s.name));
    const job = this.jobs.create(action, name);
    const desired: DesiredState = action === 'up' ? 'running' : 'stopped';
    if (action === 'down') this.pendingDown.add(name);
    if (action === 'up') this.pendingDown.delete(name);
    void this.setDesired(name, desired)
      .then(() => {
        this.jobs.update(job.id, { status: 'running' });
        return this.queue.trigger(name, 'request');
      })
      .then((result) => this.jobs.update(job.id, { status: result.result === 'failed' ? 'failed' : 'done', result, ...(result.reason && result.result === 'failed' ? { error: result.reason } : {}) }))
      .catch((err: unknown) => this.jobs.update(job.id, { status: 'failed', error: err instanceof Error ? err.message : String(err) }));
    return this.jobs.get(job.id) ?? job;
  }

  startJob(kind: 'check' | 'gc', stack?: string): Job {
    if (stack && !this.stackConfig(stack)) throw new UnknownStackError(stack, this.config.stacks.map((s) => s.name));
    const job = this.jobs.create(kind, stack);
    const task = kind === 'check' ? this.deps.tasks?.check : this.deps.tasks?.gc;
    if (!task) {
      this.jobs.update(job.id, { status: 'failed', error: `${kind} is not available in this stackd` });
      return this.jobs.get(job.id) ?? job;
    }
    this.jobs.update(job.id, { status: 'running' });
    void (kind === 'check' ? task(stack) : task())
      .then((r) => this.jobs.update(job.id, { status: r.ok ? 'done' : 'failed', output: r.output }))
      .catch((err: unknown) => this.jobs.update(job.id, { status: 'failed', error: err instanceof Error ? err.message : String(err) }));
    return this.jobs.get(job.id) ?? job;
  }

  getJob(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  waitJob(id: string, timeoutMs: number): Promise<Job | undefined> {
    return this.jobs.wait(id, timeoutMs);
  }

  async readiness(): Promise<Readiness> {
    try {
      await this.deps.podman.ping();
      return { ready: true, podman: { reachable: true } };
    } catch (err) {
      return { ready: false, podman: { reachable: false, error: err instanceof Error ? err.message : String(err) } };
    }
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
      containers: obs.containers.map(toContainerView),
    };
  }

  private async runReconcile(ctx: RunContext): Promise<ReconcileResult> {
    const stack = this.stackConfig(ctx.stack);
    const log = this.deps.logger.child({ stack: ctx.stack, reconcileId: ctx.runId });
    if (!stack) {
      const at = new Date(this.now()).toISOString();
      return { result: 'skipped', reasonCode: 'not-configured', reason: `stack "${ctx.stack}" is no longer in the config`, startedAt: at, finishedAt: at, durationMs: 0 };
    }
    let intent: Intent = 'running';
    if (this.desiredOf(stack.name) === 'stopped') intent = this.pendingDown.delete(stack.name) ? 'down' : 'stop';
    log.info({ intent, sources: ctx.sources, attempt: ctx.attempt }, 'reconcile');
    return this.deps.reconciler.reconcile(stack, intent, log);
  }

  /** Periodic resync: observe every stack; reconcile only those whose containers drifted from the goal. */
  private scheduleResync(): void {
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
  }

  /** Re-list one project's containers (after a podman event). */
  async refreshProject(project: string): Promise<void> {
    const s = this.config.stacks.find((x) => x.project === project);
    if (s) await this.deps.reconciler.observe(s);
  }


  private stackConfig(name: string): StackConfig | undefined {
    return this.config.stacks.find((s) => s.name === name);
  }

  private desiredOf(name: string): DesiredState {
    return this.desired[name] ?? 'running';
  }

  /** Persist before acting, so a crash right after never forgets that the owner stopped a stack. */
  private setDesired(name: string, desired: DesiredState): Promise<void> {
    this.desired = { ...this.desired, [name]: desired };
    const snapshot = this.desired;
    this.persistChain = this.persistChain.catch(() => undefined).then(() => this.deps.desiredStore.save(snapshot));
    return this.persistChain;
  }
}
