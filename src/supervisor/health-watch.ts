// The health watch window, the shell half (the decisions are core/watch-window.ts). It follows the observed
// store: a new `deployFinishedAtMs` (a reconcile that ran `compose up`, an update's apply or rollback) opens
// the stack's window; at the window's end it re-lists the stack's containers and judges; every later
// observation (podman events keep them live) may recover an alert. Deploys never wait for any of it.
import type { Logger } from 'pino';
import { expectedServices } from '../core/compose-model.js';
import type { StackConfig } from '../core/config-types.js';
import type { DesiredState } from '../core/model.js';
import type { WatchWindowChange } from '../core/notify/types.js';
import { IDLE_WATCH, openWindow, stepWatch, type WatchState } from '../core/watch-window.js';
import type { Lifecycle } from './lifecycle.js';
import type { ObservedStore, StackObservation } from './observed-store.js';

export interface HealthWatchDeps {
  store: ObservedStore;
  /** the stacks of the config in force */
  stacks: () => readonly StackConfig[];
  /** the persisted level of a stack */
  desired: (stack: string) => DesiredState;
  /** re-lists a stack's containers into the store (the judgment at a window's end must not read a stale list) */
  observe: (stack: StackConfig) => Promise<unknown>;
  logger: Logger;
  now: () => number;
  /** the one alert or the one recovery, to notify; the metric reads isAlerted() */
  onChange?: (change: WatchWindowChange) => void;
  setTimer?: (fn: () => void, ms: number) => { cancel: () => void };
}

const defaultTimer = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

export class HealthWatch implements Lifecycle {
  readonly name = 'health-watch';
  private readonly states = new Map<string, WatchState>();
  /** the deploy time each stack's window was opened for, so one deploy opens one window */
  private readonly opened = new Map<string, number>();
  private readonly timers = new Map<string, { cancel: () => void }>();
  private readonly setTimer: NonNullable<HealthWatchDeps['setTimer']>;
  private readonly log: Logger;
  private unsubscribe?: () => void;

  constructor(private readonly deps: HealthWatchDeps) {
    this.setTimer = deps.setTimer ?? defaultTimer;
    this.log = deps.logger.child({ component: 'health-watch' });
  }

  /** Follows the store from now on; a deploy already recorded opens its window at once. */
  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.deps.store.onChange((stack, obs) => this.look(stack, obs));
    for (const s of this.deps.stacks()) this.look(s.name, this.deps.store.get(s.name));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  /** true while a watch-window alert about the stack is out (stackd_deploy_unhealthy) */
  isAlerted(stack: string): boolean {
    return this.states.get(stack)?.alerted ?? false;
  }

  private look(stack: string, obs: StackObservation): void {
    const cfg = this.deps.stacks().find((s) => s.name === stack);
    if (!cfg) {
      this.forget(stack);
      return;
    }
    let state = this.states.get(stack) ?? IDLE_WATCH;
    const deployAt = obs.deployFinishedAtMs;
    if (deployAt !== undefined && deployAt !== this.opened.get(stack)) {
      this.opened.set(stack, deployAt);
      state = openWindow(state, deployAt, cfg.healthWindowMs);
      this.log.debug({ stack, windowMs: cfg.healthWindowMs }, 'deploy finished; health watch window opened');
    }
    const step = stepWatch(state, {
      nowMs: this.deps.now(),
      desired: this.deps.desired(stack),
      expected: obs.model ? expectedServices(obs.model) : [],
      containers: obs.observedAt === undefined ? undefined : obs.containers,
    });
    this.states.set(stack, step.next);
    this.schedule(cfg, step.checkAtMs);
    const v = step.verdict;
    if (v.kind === 'alert') {
      this.log.warn({ stack, windowMs: state.windowMs, unwell: v.unwell }, 'deploy left the stack unhealthy after its health window');
      this.deps.onChange?.({ stack, kind: 'alert', windowMs: state.windowMs, unwell: v.unwell, repair: cfg.repair });
    } else if (v.kind === 'recover') {
      this.log.info({ stack }, 'healthy again after the deploy');
      this.deps.onChange?.({ stack, kind: 'recover', windowMs: state.windowMs, repair: cfg.repair });
    } else if (v.kind === 'cleared') {
      this.log.info({ stack, desired: this.deps.desired(stack) }, 'watch-window alert withdrawn: the stack is no longer meant to run');
    }
  }

  /** One timer per stack, for the end of its open window: observe afresh (the store calls look). */
  private schedule(cfg: StackConfig, atMs: number | undefined): void {
    this.timers.get(cfg.name)?.cancel();
    this.timers.delete(cfg.name);
    if (atMs === undefined || !this.unsubscribe) return;
    this.timers.set(cfg.name, this.setTimer(() => {
      this.timers.delete(cfg.name);
      void this.deps.observe(cfg).catch((err: unknown) => {
        // podman did not answer: judge on what was last seen rather than not at all
        this.log.warn({ stack: cfg.name, err }, 'could not observe the stack at the end of its health window');
        this.look(cfg.name, this.deps.store.get(cfg.name));
      });
    }, Math.max(0, atMs - this.deps.now())));
  }

  private forget(stack: string): void {
    this.timers.get(stack)?.cancel();
    this.timers.delete(stack);
    this.states.delete(stack);
    this.opened.delete(stack);
  }
}
