// Builds the production pipeline (observed store, provider gate, housekeeping with preflight, reconciler,
// supervisor) from the adapters. main.ts, the one composition root, calls it; the benchmarks call it too, so
// what they measure is what runs in production (preflight included).
import type { Logger } from 'pino';
import type { Config } from '../core/config-types.js';
import type { ReconcileResult } from '../core/model.js';
import type { WatchWindowChange } from '../core/notify/types.js';
import { HealthWatch } from './health-watch.js';
import { createHousekeeping, type Housekeeping } from './housekeeping.js';
import { ObservedStore } from './observed-store.js';
import type { UpdateReport } from '../core/update/types.js';
import { renderUpdateReport } from '../core/update/report.js';
import type { UpdateState } from '../core/update/update-state.js';
import type { ComposePort, ComposeProviderVerdict, FilesPort, ImagePort, PodmanPort, StateStore, SystemctlPort, ViolationKind } from './ports.js';
import { ProviderGate } from './provider-gate.js';
import { StatusFeed } from './status-feed.js';
import { Reconciler, type ReconcilerDeps } from './reconciler.js';
import { Supervisor, type SupervisorDeps } from './supervisor.js';
import { TrustLedger } from './trust-ledger.js';
import { Updater, type ReferenceChecker, type UpdaterDeps } from './updater.js';

export interface PipelineDeps {
  config: Config;
  podman: PodmanPort;
  compose: ComposePort;
  systemctl: SystemctlPort;
  files: FilesPort;
  stateStore: StateStore;
  /** the environment compose runs with (the compose runner got the same object) */
  childEnv: Readonly<Record<string, string>>;
  /** asks which provider `podman compose` runs */
  probeComposeProvider: () => Promise<ComposeProviderVerdict>;
  logger: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onResult?: (stack: string, result: ReconcileResult) => void;
  /** podman's pace as the relay saw it (queue.concurrency auto) */
  podmanPace?: SupervisorDeps['podmanPace'];
  /** a reconcile read the stack's files: the redactor of their env values */
  onInputs?: ReconcilerDeps['onInputs'];
  onViolation?: (stack: string, kind: ViolationKind) => void;
  onTimersRemoved?: (count: number) => void;
  /** the health watch window's one alert after a deploy, or its one recovery */
  onWatchWindow?: (change: WatchWindowChange) => void;
  /** registry updates; absent → `stackctl update` says it is not available */
  updates?: {
    images: ImagePort;
    check: ReferenceChecker;
    state: { load(): Promise<UpdateState>; save(s: UpdateState): Promise<void> };
    onReport?: (report: UpdateReport, logTails: Map<string, string>) => void;
    pollMs?: number;
    afterAction?: UpdaterDeps['afterAction'];
  };
}

export interface Pipeline {
  store: ObservedStore;
  providerGate: ProviderGate;
  housekeeping: Housekeeping;
  reconciler: Reconciler;
  supervisor: Supervisor;
  /** the health watch window after deploys (a Lifecycle: start it after the supervisor is loaded) */
  healthWatch: HealthWatch;
  updater?: Updater;
  /** stack status changes, for GET /v1/events */
  feed: StatusFeed;
}

export function buildPipeline(deps: PipelineDeps): Pipeline {
  const now = deps.now ?? Date.now;
  const store = new ObservedStore();
  const providerGate = new ProviderGate(deps.probeComposeProvider);
  // housekeeping reads the config and the leftovers through the supervisor, which is built just below
  const built: { supervisor?: Supervisor; updater?: Updater } = {};
  const housekeeping = createHousekeeping({
    config: () => built.supervisor?.currentConfig ?? deps.config,
    podman: deps.podman, compose: deps.compose, files: deps.files, systemctl: deps.systemctl, logger: deps.logger, now, childEnv: deps.childEnv,
    unconfigured: () => built.supervisor?.unconfiguredStacks() ?? [],
    // an apply in flight keeps the image it would roll back to
    keepImageIds: () => built.updater?.keepImageIds() ?? new Set<string>(),
    composeProvider: () => providerGate.current(),
    ...(deps.onViolation ? { onViolation: deps.onViolation } : {}),
    ...(deps.onTimersRemoved ? { onTimersRemoved: deps.onTimersRemoved } : {}),
  });
  // one ledger: the reconciler numbers its lists, the supervisor its events and the stream's state
  const trust = new TrustLedger();
  const reconciler = new Reconciler({
    trust,
    compose: deps.compose, podman: deps.podman, files: deps.files, store, childEnv: deps.childEnv, now,
    sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    composeProvider: () => providerGate.current(),
    preflight: housekeeping.preflight,
    after: housekeeping.after,
    ...(deps.onInputs ? { onInputs: deps.onInputs } : {}),
  });
  const u = deps.updates;
  const updater = u && new Updater({
    config: () => built.supervisor?.currentConfig ?? deps.config,
    store, podman: { ...pick(deps.podman), ...pickImages(u.images) }, compose: deps.compose, files: deps.files, childEnv: deps.childEnv,
    check: u.check, state: u.state, logger: deps.logger, now,
    observe: (stack) => reconciler.observe(stack),
    exclusive: (stack, task) => {
      if (!built.supervisor) return Promise.reject(new Error('the supervisor is not built yet'));
      return built.supervisor.exclusive(stack, task);
    },
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(u.onReport ? { onReport: u.onReport } : {}),
    ...(u.pollMs !== undefined ? { pollMs: u.pollMs } : {}),
    ...(u.afterAction ? { afterAction: u.afterAction } : {}),
  });
  built.updater = updater;
  const feed = new StatusFeed({ list: () => supervisor.listStacks() });
  const supervisor = new Supervisor({
    onStatusChange: () => feed.poke(),
    config: deps.config, reconciler, store, podman: deps.podman, stateStore: deps.stateStore, logger: deps.logger, now, trust,
    composeProvider: () => providerGate.last(),
    tasks: {
      ...housekeeping.tasks,
      ...(updater ? {
        update: async (stack: string | undefined, dryRun: boolean) => {
          const report = await updater.run({ ...(stack !== undefined ? { stack } : {}), dryRun });
          const lines = renderUpdateReport(report);
          return { ok: report.ok, output: { ...report, lines, summary: lines[lines.length - 1] ?? '' } };
        },
      } : {}),
    },
    ...(updater ? { beforeQueue: () => updater.resume() } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.onResult ? { onResult: deps.onResult } : {}),
    ...(deps.podmanPace ? { podmanPace: deps.podmanPace } : {}),
  });
  built.supervisor = supervisor;
  store.onChange(() => feed.poke());
  const healthWatch = new HealthWatch({
    store, logger: deps.logger, now,
    stacks: () => supervisor.currentConfig.stacks,
    desired: (stack) => supervisor.desiredOf(stack),
    observe: (stack) => reconciler.observe(stack),
    ...(deps.onWatchWindow ? { onChange: deps.onWatchWindow } : {}),
  });
  return { store, providerGate, housekeeping, reconciler, supervisor, healthWatch, feed, ...(updater ? { updater } : {}) };
}

// The updater gets exactly the podman calls it needs, bound to their client (the two may be one object).
function pick(p: PodmanPort): Pick<PodmanPort, 'inspectContainer' | 'runHealthcheck' | 'removeContainer' | 'listProjectNetworks' | 'removeNetwork'> {
  return {
    inspectContainer: (id) => p.inspectContainer(id), runHealthcheck: (id, t) => p.runHealthcheck(id, t),
    // the repairs of `compose up` (compose-up.ts), as the reconciler makes them
    removeContainer: (id, opts) => p.removeContainer(id, opts), listProjectNetworks: (project) => p.listProjectNetworks(project), removeNetwork: (name) => p.removeNetwork(name),
  };
}

function pickImages(i: ImagePort): ImagePort {
  return {
    inspectImage: (ref) => i.inspectImage(ref),
    pullImage: (ref, opts) => i.pullImage(ref, opts),
    tagImage: (image, repo, tag) => i.tagImage(image, repo, tag),
    containerLogs: (id, tail) => i.containerLogs(id, tail),
  };
}
