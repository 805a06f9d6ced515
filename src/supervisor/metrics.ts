// Prometheus metrics (prom-client), computed from memory at scrape time: no podman call per scrape, and the
// stacks' statuses built once per scrape (ScrapeView), however many gauges read them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReconcileResult, StackState, StackStatus } from '../core/model.js';
import { secondsIn, trackStateSince, type StateSince } from '../core/state-since.js';
import type { UpdateReport } from '../core/update/types.js';

/** how often the event-loop lag is sampled (prom-client's default: 10 ms) */
export const EVENT_LOOP_SAMPLE_MS = 1_000;

const STATES: readonly StackState[] = ['pending', 'converged', 'progressing', 'degraded', 'failed', 'stopped', 'removed'];

export interface MetricsSource {
  listStacks(): StackStatus[];
  queueDepth(): number;
  /** how many reconciles may run at once now (queue.concurrency auto moves it) */
  queueConcurrency?(): number;
  podmanUp(): boolean;
  /** jobs held in memory (open ones plus at most KEEP_FINISHED finished), so the bound can be watched */
  jobCount?(): number;
  /** true while the health watch window's alert about the stack is out (HealthWatch.isAlerted) */
  deployUnhealthy?(stack: string): boolean;
  /** stack → its healthWindow in the config in force (ms), one pass over the config; a stack not in it has none */
  healthWindowsMs?(): ReadonlyMap<string, number>;
  /** the clock for how long a stack has been degraded; default Date.now */
  now?(): number;
}

/** What the per-stack gauges of one scrape read, taken once for that scrape. */
interface ScrapeView {
  stacks: StackStatus[];
  healthWindowsMs: ReadonlyMap<string, number>;
  /** the clock when the statuses were taken */
  at: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly source: MetricsSource;
  /** the view of the scrape text() is running; prom-client calls every gauge's collect() within it */
  private scrape: ScrapeView | undefined;
  private readonly reconcileTotal: Counter<'stack' | 'result'>;
  private readonly reconcileDuration: Histogram<'stack'>;
  readonly preflightViolations: Counter<'stack' | 'kind'>;
  readonly timersRemoved: Counter;
  readonly notifyFailures: Counter<'notifier'>;
  private readonly updateRuns: Counter<'result'>;
  private readonly updateLastRun: Gauge;
  private readonly updateAvailable: Gauge<'stack' | 'service'>;
  private readonly updateRollbacks: Counter<'stack'>;

  constructor(source: MetricsSource) {
    this.source = source;
    const registers = [this.registry];
    // a scrape through text() shares one view; a direct registry.metrics() still gets right values, a view each
    const view = (): ScrapeView => this.scrape ?? this.takeView();
    // each stack's state and since when, as seen at scrapes (for stackd_stack_degraded_seconds)
    let stateSince = new Map<string, StateSince>();
    // prom-client samples the event-loop lag (nodejs_eventloop_lag_*) with a libuv timer every 10 ms by default:
    // 100 wakeups a second, 0.35 % of a core on an otherwise idle daemon (measured: bench/README.md "Idle
    // footprint"), most of its idle budget. Once a second still catches every stall that matters to a supervisor
    // (a loop blocked for ≥ 1 s, long before the 30 s watchdog), at no measurable cost.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    new Gauge({
      name: 'stackd_stack_state', help: 'One-word state of each stack (1 for the current state)', labelNames: ['stack', 'state'], registers,
      collect() {
        this.reset();
        for (const s of view().stacks) for (const st of STATES) this.set({ stack: s.name, state: st }, s.state === st ? 1 : 0);
      },
    });
    new Gauge({
      name: 'stackd_container_health', help: 'Containers per stack, service and health', labelNames: ['stack', 'service', 'health'], registers,
      collect() {
        this.reset();
        for (const s of view().stacks) for (const c of s.containers) this.inc({ stack: s.name, service: c.service, health: c.health });
      },
    });
    new Gauge({
      name: 'stackd_deploy_unhealthy',
      help: '1 while a deploy of the stack left a service not healthy past its healthWindow (until it is healthy again)',
      labelNames: ['stack'], registers,
      collect() {
        this.reset();
        for (const s of view().stacks) this.set({ stack: s.name }, source.deployUnhealthy?.(s.name) ? 1 : 0);
      },
    });
    // a Prometheus rule cannot give each stack its own `for:`: these two let StackdStackDegraded compare how long
    // a stack has been degraded with its own healthWindow
    new Gauge({
      name: 'stackd_stack_degraded_seconds',
      help: 'How long the stack has been degraded without a break, as seen at scrapes (0 when it is not degraded)',
      labelNames: ['stack'], registers,
      collect() {
        this.reset();
        const { stacks, at } = view();
        stateSince = trackStateSince(stateSince, stacks, at);
        for (const s of stacks) this.set({ stack: s.name }, secondsIn(stateSince, s.name, 'degraded', at));
      },
    });
    new Gauge({
      name: 'stackd_stack_health_window_seconds', help: 'The stack\'s healthWindow in the config in force', labelNames: ['stack'], registers,
      collect() {
        this.reset();
        const { stacks, healthWindowsMs } = view();
        for (const s of stacks) {
          const ms = healthWindowsMs.get(s.name);
          if (ms !== undefined) this.set({ stack: s.name }, ms / 1000);
        }
      },
    });
    new Gauge({
      name: 'stackd_queue_depth', help: 'Reconciles queued or running', registers,
      collect() { this.set(source.queueDepth()); },
    });
    new Gauge({
      name: 'stackd_queue_concurrency', help: 'How many reconciles may run at once (moves with podman\'s pace when queue.concurrency is auto)', registers,
      collect() { this.set(source.queueConcurrency?.() ?? 0); },
    });
    new Gauge({
      name: 'stackd_jobs', help: 'Jobs held in memory: the unfinished ones plus the most recent finished ones (bounded)', registers,
      collect() { this.set(source.jobCount?.() ?? 0); },
    });
    new Gauge({
      name: 'stackd_podman_up', help: '1 when the podman API answered the last request', registers,
      collect() { this.set(source.podmanUp() ? 1 : 0); },
    });
    this.reconcileTotal = new Counter({ name: 'stackd_reconcile_total', help: 'Reconciles by stack and result', labelNames: ['stack', 'result'], registers });
    this.reconcileDuration = new Histogram({
      name: 'stackd_reconcile_duration_seconds', help: 'Reconcile duration', labelNames: ['stack'], registers,
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    });
    this.preflightViolations = new Counter({ name: 'stackd_preflight_violations_total', help: 'Preflight findings by stack and kind', labelNames: ['stack', 'kind'], registers });
    this.timersRemoved = new Counter({ name: 'stackd_healthcheck_timers_removed_total', help: 'Orphaned podman healthcheck units removed', registers });
    this.notifyFailures = new Counter({ name: 'stackd_notify_failures_total', help: 'Notifications a notifier failed to deliver (after its retries)', labelNames: ['notifier'], registers });
    this.updateRuns = new Counter({ name: 'stackd_update_runs_total', help: 'Update runs by result (ok: nothing failed or rolled back)', labelNames: ['result'], registers });
    this.updateLastRun = new Gauge({ name: 'stackd_update_last_run_timestamp_seconds', help: 'When the last update run (not a dry run) finished', registers });
    this.updateAvailable = new Gauge({
      name: 'stackd_update_available', help: '1 for a service whose registry serves a newer image than it runs (as of the last run)', labelNames: ['stack', 'service'], registers,
    });
    this.updateRollbacks = new Counter({ name: 'stackd_update_rollbacks_total', help: 'Updates rolled back after failing their health gate', labelNames: ['stack'], registers });
  }

  recordUpdate(report: UpdateReport): void {
    this.updateRuns.inc({ result: report.ok ? 'ok' : 'failed' });
    if (!report.dryRun) this.updateLastRun.set(Date.parse(report.finishedAt) / 1000);
    // only labelled services appear, so the label set stays bounded by the config
    for (const r of report.rows) {
      if (!r.service) continue;
      // a failed check (registry down, rate-limited) cannot tell: the gauge keeps what the last run knew
      if (r.Updated !== 'failed') this.updateAvailable.set({ stack: r.stack, service: r.service }, r.Updated === 'pending' ? 1 : 0);
      if (r.Updated === 'rolled back') this.updateRollbacks.inc({ stack: r.stack });
    }
  }

  recordReconcile(stack: string, r: ReconcileResult): void {
    this.reconcileTotal.inc({ stack, result: r.result });
    this.reconcileDuration.observe({ stack }, r.durationMs / 1000);
  }

  /** One scrape: the stacks' statuses (and the config's health windows) are taken once and every gauge reads them. */
  async text(): Promise<{ contentType: string; body: string }> {
    const view = this.takeView();
    this.scrape = view;
    try {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    } finally {
      // a scrape that started meanwhile has set its own view: leave it
      if (this.scrape === view) this.scrape = undefined;
    }
  }

  private takeView(): ScrapeView {
    return {
      stacks: this.source.listStacks(),
      healthWindowsMs: this.source.healthWindowsMs?.() ?? new Map(),
      at: this.source.now?.() ?? Date.now(),
    };
  }
}
