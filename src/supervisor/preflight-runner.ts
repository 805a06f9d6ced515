// ReconcilerDeps.preflight: runs after the compose model is resolved and the project's containers
// are listed, before `compose up`. In order:
//   1. label invariant: a violation fails the stack before ANY container is touched (owner's decision);
//   2. drifted containers (wrong or missing PODMAN_SYSTEMD_UNIT) are removed, so compose recreates them;
//   3. stale health: a container stuck in `starting`/`unhealthy` gets one on-demand healthcheck and is
//      removed only if that fails too, at most once per service per recheckWindow.
// Only here, never from an event: repair by events would turn a dead dependency into a delete-recreate loop.
import type { Logger } from 'pino';
import type { Config, StackConfig } from '../core/config-types.js';
import type { ComposeModel, ObservedContainer } from '../core/model.js';
import { formatInvariantReason, planPreflight, staleInspectTargets } from '../core/preflight.js';
import { judgeRecheck, recheckKey, shouldRecheck, type StaleCandidate } from '../core/stale-health.js';
import type { PodmanPort, ViolationKind } from './ports.js';
import { inspectForHealth } from './inspect-health.js';
import { removeProjectContainer } from './remove-container.js';
import type { Failure, PreflightChanges } from './reconciler.js';

export interface PreflightRunnerDeps {
  podman: Pick<PodmanPort, 'inspectContainer' | 'removeContainer' | 'runHealthcheck'>;
  /** read on every run, so a reloaded config's thresholds apply at once */
  config: () => Pick<Config, 'staleHealth'>;
  now: () => number;
  onViolation?: (stack: string, kind: ViolationKind) => void;
}

/** Extra time for the on-demand check beyond the healthcheck's own timeout (podman starts an exec). */
const RECHECK_SLACK_MS = 10_000;

export class PreflightRunner {
  /** recheckKey → epoch ms of the last on-demand check; in memory, so a restart allows one more */
  private readonly lastRecheck = new Map<string, number>();

  constructor(private readonly deps: PreflightRunnerDeps) {}

  readonly run = async (stack: StackConfig, model: ComposeModel, containers: ObservedContainer[], log: Logger): Promise<Failure | PreflightChanges | undefined> => {
    const changes = { removed: 0 };
    const failure = await this.plan(stack, model, containers, log, changes);
    return failure ?? (changes.removed > 0 ? changes : undefined);
  };

  private async plan(stack: StackConfig, model: ComposeModel, containers: ObservedContainer[], log: Logger, changes: PreflightChanges): Promise<Failure | undefined> {
    const { startingFloorMs, unhealthyAfterMs, recheckWindowMs } = this.deps.config().staleHealth;
    const now = this.deps.now();
    const input = { model, unit: stack.unit, composeFiles: stack.compose, containers, stale: { nowMs: now, startingFloorMs, unhealthyAfterMs } };
    // The files first, before a single podman call: a violation fails the stack with nothing touched or asked.
    const fromFiles = planPreflight({ ...input, inspected: [] });
    if (fromFiles.violations.length > 0) {
      const violations = fromFiles.violations;
      // one count per offending service per reconcile
      violations.forEach(() => this.deps.onViolation?.(stack.name, 'label-invariant'));
      return { reasonCode: 'label-invariant', reason: formatInvariantReason(stack.name, violations, stack.compose) };
    }
    const inspected = await inspectForHealth(this.deps.podman, staleInspectTargets(containers, stack.unit));
    const plan = planPreflight({ ...input, inspected });

    for (const d of plan.drifted) {
      log.warn(
        { container: d.container.name, id: d.container.id, found: d.found ?? null, expected: d.expected },
        'removing container with the wrong PODMAN_SYSTEMD_UNIT; compose recreates it with the label from the file',
      );
      this.deps.onViolation?.(stack.name, 'drifted');
      const failure = await this.remove(stack, d.container, containers, log, `its PODMAN_SYSTEMD_UNIT is ${d.found ?? 'missing'}, expected ${d.expected}`);
      if (failure) return failure;
      changes.removed++;
    }

    this.forgetOlderThan(now - recheckWindowMs);
    const specs = new Map(inspected.map((i) => [i.container.id, i.healthcheck]));
    for (const cand of plan.stale) {
      const c = cand.container;
      const key = recheckKey(stack.name, c);
      const line = { container: c.name, id: c.id, service: c.service, health: cand.health, forMs: cand.forMs, thresholdMs: cand.thresholdMs };
      if (!shouldRecheck(key, this.lastRecheck, now, recheckWindowMs)) {
        // Alert only: removing it again this soon is how a dead dependency becomes a delete-recreate loop.
        log.warn({ ...line, recheckWindowMs }, 'stale health again within recheckWindow; not removing it this time');
        this.deps.onViolation?.(stack.name, 'stale');
        continue;
      }
      this.lastRecheck.set(key, now);
      const failure = await this.recheck(stack, cand, containers, specs.get(c.id)?.timeoutMs, line, log, changes);
      if (failure) return failure;
    }
    return undefined;
  }

  private async recheck(
    stack: StackConfig,
    cand: StaleCandidate,
    containers: ObservedContainer[],
    checkTimeoutMs: number | undefined,
    line: Record<string, unknown>,
    log: Logger,
    changes: PreflightChanges,
  ): Promise<Failure | undefined> {
    log.info({ ...line, why: cand.reason }, 'stale health: running the healthcheck once');
    let verdict;
    try {
      verdict = judgeRecheck(await this.deps.podman.runHealthcheck(cand.container.id, (checkTimeoutMs ?? 30_000) + RECHECK_SLACK_MS));
    } catch (err) {
      // Could not even run it (gone, stopped meanwhile, podman busy): no verdict, so no removal.
      log.warn({ ...line, err }, 'stale health: the on-demand healthcheck could not run; keeping the container');
      return undefined;
    }
    if (verdict.passed) {
      log.info({ ...line, status: verdict.status }, 'stale health: the on-demand healthcheck passed; keeping the container');
      return undefined;
    }
    log.warn({ ...line, status: verdict.status, why: cand.reason }, 'stale health: still failing; removing the container so compose recreates it');
    this.deps.onViolation?.(stack.name, 'stale');
    const failure = await this.remove(stack, cand.container, containers, log, `${cand.reason} and the on-demand healthcheck answered ${verdict.status}`);
    if (!failure) changes.removed++;
    return failure;
  }

  private async remove(stack: StackConfig, c: ObservedContainer, containers: ObservedContainer[], log: Logger, why: string): Promise<Failure | undefined> {
    try {
      await removeProjectContainer(this.deps.podman, c.id, containers, log);
      return undefined;
    } catch (err) {
      return {
        reasonCode: 'preflight-remove-failed',
        reason: `stack "${stack.name}": preflight could not remove container ${c.name} (${c.id.slice(0, 12)}; ${why}): ` +
          `${err instanceof Error ? err.message : String(err)}; remove it with \`podman rm -f ${c.name}\`, then run: stackctl up ${stack.name}`,
      };
    }
  }

  private forgetOlderThan(cutoffMs: number): void {
    for (const [k, at] of this.lastRecheck) if (at <= cutoffMs) this.lastRecheck.delete(k);
  }
}
