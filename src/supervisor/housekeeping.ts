// Builds the housekeeping pieces (preflight, timer GC, prune, check) from the adapters and hands main.ts the hooks:
// the reconciler's preflight and after, the supervisor's check/gc tasks, and the periodic GC and prune.
import type { Logger } from 'pino';
import type { Config } from '../core/config-types.js';
import { AfterQuiet } from './after-quiet.js';
import { Checker } from './checker.js';
import type { Lifecycle } from './lifecycle.js';
import { every, type Periodic } from './periodic.js';
import type { ComposePort, ComposeProviderVerdict, FilesPort, PodmanPort, SystemctlPort, ViolationKind } from './ports.js';
import { PreflightRunner } from './preflight-runner.js';
import { Pruner } from './pruner.js';
import type { ReconcilerDeps } from './reconciler.js';
import type { SupervisorDeps } from './supervisor.js';
import { TimerGc } from './timer-gc.js';

const AFTER_RECONCILE_GC_QUIET_MS = 2_000;
const AFTER_RECONCILE_GC_MAX_WAIT_MS = 30_000;

export interface HousekeepingDeps {
  /** the config in force (re-read on every use, so a reload applies) */
  config: () => Config;
  podman: PodmanPort;
  systemctl: SystemctlPort;
  compose: Pick<ComposePort, 'config'>;
  files: FilesPort;
  /** compose's environment: check derives the interpolated env values it redacts with it */
  childEnv?: Readonly<Record<string, string>>;
  logger: Logger;
  now?: () => number;
  onViolation?: (stack: string, kind: ViolationKind) => void;
  onTimersRemoved?: (count: number) => void;
  /** rollback targets the prune keeps (empty until the updater exists) */
  keepImageIds?: () => ReadonlySet<string>;
  /** stacks that left the config (their projects are spared by the prune and named by check) */
  unconfigured?: () => { stack: string; project: string; action: 'stop' | 'down' | 'keep' }[];
  /** the compose provider verdict, for check */
  composeProvider?: () => Promise<ComposeProviderVerdict>;
}

export interface Housekeeping extends Lifecycle {
  preflight: ReconcilerDeps['preflight'];
  after: ReconcilerDeps['after'];
  tasks: NonNullable<SupervisorDeps['tasks']>;
}

export function createHousekeeping(deps: HousekeepingDeps): Housekeeping {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'housekeeping' });
  const preflight = new PreflightRunner({
    podman: deps.podman, config: deps.config, now, ...(deps.onViolation ? { onViolation: deps.onViolation } : {}),
  });
  const timerGc = new TimerGc({
    systemctl: deps.systemctl, podman: deps.podman, config: deps.config, now, logger: log,
    ...(deps.onTimersRemoved ? { onRemoved: deps.onTimersRemoved } : {}),
  });
  const pruner = new Pruner({
    podman: deps.podman, systemctl: deps.systemctl, config: deps.config, now, ...(deps.keepImageIds ? { keepImageIds: deps.keepImageIds } : {}),
    keepProjects: () => new Set((deps.unconfigured?.() ?? []).map((u) => u.project)),
  });
  const checker = new Checker({
    compose: deps.compose, podman: deps.podman, systemctl: deps.systemctl, files: deps.files,
    ...(deps.childEnv ? { childEnv: deps.childEnv } : {}),
    findOrphanUnits: () => timerGc.find(), config: deps.config, now,
    ...(deps.unconfigured ? { unconfigured: deps.unconfigured } : {}),
    ...(deps.composeProvider ? { composeProvider: deps.composeProvider } : {}),
  });

  const gc = async (): Promise<{ ok: boolean; output: unknown }> => {
    const timers = await timerGc.run(log);
    const prune = await pruner.run(log);
    const summary = `${timers.removed.length} orphaned healthcheck units stopped, ${timers.failed.length} could not be stopped; ` +
      `pruned ${prune.containers.length} containers and ${prune.images.length} images`;
    return { ok: timers.failed.length === 0, output: { lines: [...timers.lines, ...prune.lines], summary, timers, prune } };
  };

  let periodic: Periodic[] = [];
  // The GC reconciles ask for runs once they have been quiet for 2 s (at most 30 s after the first asked), beside
  // the queue: it needs no slot, and a GC per reconcile held podman and systemd busy during a rebuild's burst.
  const afterGc = new AfterQuiet({
    quietMs: AFTER_RECONCILE_GC_QUIET_MS, maxWaitMs: AFTER_RECONCILE_GC_MAX_WAIT_MS, ...(deps.now ? { now: deps.now } : {}),
    // its own log, not a reconcile's: one GC answers for every reconcile of the burst
    run: () => timerGc.run(log).catch((err: unknown) => log.warn({ err }, 'healthcheck-timer GC after reconciles failed')),
  });
  return {
    name: 'housekeeping',
    preflight: preflight.run,
    // Not awaited and not at once: see afterGc above.
    after: async () => {
      afterGc.poke();
    },
    tasks: { check: (stack) => checker.run(stack), gc },
    /** the hourly timer GC and the daily prune */
    start() {
      periodic = [
        every(() => deps.config().cleanup.gcEveryMs, () => timerGc.run(log), (err) => log.warn({ err }, 'periodic healthcheck-timer GC failed')),
        every(() => deps.config().cleanup.pruneEveryMs, () => pruner.run(log), (err) => log.warn({ err }, 'periodic prune failed')),
      ];
    },
    async stop() {
      await Promise.all(periodic.map((p) => p.stop()));
      await afterGc.stop();
    },
  };
}
