// Prometheus metrics (prom-client), computed from memory at scrape time: no podman call per scrape.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReconcileResult, StackState, StackStatus } from '../core/model.js';

const STATES: readonly StackState[] = ['pending', 'converged', 'progressing', 'degraded', 'failed', 'stopped', 'removed'];

export interface MetricsSource {
  listStacks(): StackStatus[];
  queueDepth(): number;
  podmanUp(): boolean;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly reconcileTotal: Counter<'stack' | 'result'>;
  private readonly reconcileDuration: Histogram<'stack'>;
  readonly preflightViolations: Counter<'stack' | 'kind'>;
  readonly timersRemoved: Counter;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'stackd_stack_state', help: 'One-word state of each stack (1 for the current state)', labelNames: ['stack', 'state'], registers,
      collect() {
        this.reset();
        for (const s of source.listStacks()) for (const st of STATES) this.set({ stack: s.name, state: st }, s.state === st ? 1 : 0);
      },
    });
    new Gauge({
      name: 'stackd_container_health', help: 'Containers per stack, service and health', labelNames: ['stack', 'service', 'health'], registers,
      collect() {
        this.reset();
        for (const s of source.listStacks()) for (const c of s.containers) this.inc({ stack: s.name, service: c.service, health: c.health });
      },
    });
    new Gauge({
      name: 'stackd_queue_depth', help: 'Reconciles queued or running', registers,
      collect() { this.set(source.queueDepth()); },
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
  }

  recordReconcile(stack: string, r: ReconcileResult): void {
    this.reconcileTotal.inc({ stack, result: r.result });
    this.reconcileDuration.observe({ stack }, r.durationMs / 1000);
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
