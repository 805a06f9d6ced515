import type { RemovedStackAction } from './model.js';
import type { RepairPolicy } from './repair.js';
import type { UpdateMode } from './update/types.js';

// The resolved configuration: defaults applied, durations in milliseconds, paths absolute.
// The YAML input shape is the TypeBox schema in config-schema.ts; parseConfig turns one into the other.

export interface StackConfig {
  name: string;
  /** compose project name; defaults to name */
  project: string;
  /** compose files, absolute, in order */
  compose: string[];
  /** env files, absolute, in order; each becomes --env-file */
  envFiles: string[];
  /** systemd user unit that owns the stack; PODMAN_SYSTEMD_UNIT must equal it */
  unit: string;
  startupTimeoutMs: number;
  envWaitMs: number;
  healthWindowMs: number;
  /** what a container that died or went unhealthy makes stackd do: none (report only) or reconcile */
  repair: RepairPolicy;
  /** registry updates of its labelled services: off, monitor (report only) or apply */
  update: UpdateMode;
}

export type NotifierConfig =
  | { kind: 'gotify'; url: string; tokenFile: string; priority?: number }
  | { kind: 'ntfy'; url: string; topic: string; tokenFile?: string }
  | { kind: 'webhook'; url: string; headers?: Record<string, string> };

export interface ListenAddress {
  host: string;
  port: number;
}

export interface Config {
  /** the file this came from, for messages */
  source: string;
  podman: {
    socket: string;
    composeCommand: string[];
    /** how long the relay compose talks through reuses podman's /info and /version answers; 0: no relay */
    composeInfoCacheMs: number;
  };
  api: { socket: string; listen?: ListenAddress };
  queue: { concurrency: ConcurrencyBounds; retryBaseMs: number; retryMaxMs: number; resyncMs: number };
  defaults: { startupTimeoutMs: number; envWaitMs: number; healthWindowMs: number; repair: RepairPolicy };
  staleHealth: { startingFloorMs: number; unhealthyAfterMs: number; recheckWindowMs: number };
  cleanup: { maxAgeMs: number; timerMinAgeMs: number; gcEveryMs: number; pruneEveryMs: number };
  stateFile: string;
  /** what happens to the containers of a stack that leaves the config */
  removedStacks: RemovedStackAction;
  /** registry updates: the default mode, the gate's settle time (no healthcheck) and slack, success messages */
  update: { mode: UpdateMode; settleMs: number; gateSlackMs: number; notifyOnSuccess: boolean };
  notify: NotifierConfig[];
  stacks: StackConfig[];
}

/** What the config loader needs from the outside world, passed in so parsing stays pure. */
export interface ConfigEnvironment {
  /** process.env subset: HOME, XDG_RUNTIME_DIR, XDG_CONFIG_HOME, XDG_STATE_HOME */
  env: Record<string, string | undefined>;
  uid: number;
  /** the working directory, to place a relative config path (and so the relative paths inside it) */
  cwd?: string;
}

/** One problem with a config value. */
export interface ConfigIssue {
  /** key path, e.g. "stacks[2].name" */
  path: string;
  message: string;
  /** 1-based position in the file, when known (YAML syntax errors, and keys that exist in the file) */
  line?: number;
  column?: number;
}

/**
 * How many stacks the queue reconciles at once: a fixed number (min = max), or `auto`, which starts at max and
 * follows podman's pace between the two (core/adaptive-concurrency.ts).
 */
export interface ConcurrencyBounds {
  min: number;
  max: number;
}
