// Builds the production pipeline (observed store, provider gate, housekeeping with preflight, reconciler,
// supervisor) from the adapters. main.ts, the one composition root, calls it; the benchmarks call it too, so
// what they measure is what runs in production (preflight included).
import type { Logger } from 'pino';
import type { Config } from '../core/config-types.js';
import type { ReconcileResult } from '../core/model.js';
import { createHousekeeping, type Housekeeping } from './housekeeping.js';
import { ObservedStore } from './observed-store.js';
import type { ComposePort, ComposeProviderVerdict, FilesPort, PodmanPort, StateStore, SystemctlPort, ViolationKind } from './ports.js';
import { ProviderGate } from './provider-gate.js';
import { Reconciler } from './reconciler.js';
import { Supervisor } from './supervisor.js';

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
  onViolation?: (stack: string, kind: ViolationKind) => void;
  onTimersRemoved?: (count: number) => void;
}

export interface Pipeline {
  store: ObservedStore;
  providerGate: ProviderGate;
  housekeeping: Housekeeping;
  reconciler: Reconciler;
  supervisor: Supervisor;
}

export function buildPipeline(deps: PipelineDeps): Pipeline {
  const now = deps.now ?? Date.now;
  const store = new ObservedStore();
  const providerGate = new ProviderGate(deps.probeComposeProvider);
  // housekeeping reads the config and the leftovers through the supervisor, which is built just below
  const built: { supervisor?: Supervisor } = {};
  const housekeeping = createHousekeeping({
    config: () => built.supervisor?.currentConfig ?? deps.config,
    podman: deps.podman, compose: deps.compose, files: deps.files, systemctl: deps.systemctl, logger: deps.logger, now,
    unconfigured: () => built.supervisor?.unconfiguredStacks() ?? [],
    composeProvider: () => providerGate.current(),
    ...(deps.onViolation ? { onViolation: deps.onViolation } : {}),
    ...(deps.onTimersRemoved ? { onTimersRemoved: deps.onTimersRemoved } : {}),
  });
  const reconciler = new Reconciler({
    compose: deps.compose, podman: deps.podman, files: deps.files, store, childEnv: deps.childEnv, now,
    sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    composeProvider: () => providerGate.current(),
    preflight: housekeeping.preflight,
    after: housekeeping.after,
  });
  const supervisor = new Supervisor({
    config: deps.config, reconciler, store, podman: deps.podman, stateStore: deps.stateStore, logger: deps.logger, now,
    composeProvider: () => providerGate.last(),
    tasks: housekeeping.tasks,
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.onResult ? { onResult: deps.onResult } : {}),
  });
  built.supervisor = supervisor;
  return { store, providerGate, housekeeping, reconciler, supervisor };
}
