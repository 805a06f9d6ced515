// Domain types shared by the core, the supervisor, the HTTP API and the CLI. Plain data only.

import type { ReasonCode } from './reason-codes.js';

export type { ReasonCode };

/** The level the owner asked for, persisted: running (up), stopped (compose stop), removed (compose down, volumes kept). */
export type DesiredState = 'running' | 'stopped' | 'removed';
/** What a user asks for; each maps to one DesiredState (see desiredFor). */
export type StackAction = 'up' | 'stop' | 'down';
/** updating: an update holds the stack's queue slot (a reconcile requested meanwhile runs after it) */
export type Phase = 'idle' | 'queued' | 'reconciling' | 'updating' | 'backoff';
export type StackHealth = 'healthy' | 'progressing' | 'degraded' | 'down' | 'unknown';
export type StackState = 'pending' | 'converged' | 'progressing' | 'degraded' | 'failed' | 'stopped' | 'removed';
export type ResultKind = 'ok' | 'failed' | 'skipped';

export function desiredFor(action: StackAction): DesiredState {
  return action === 'up' ? 'running' : action === 'stop' ? 'stopped' : 'removed';
}


export interface ReconcileResult {
  result: ResultKind;
  reasonCode?: ReasonCode;
  reason?: string;
  startedAt: string; // RFC 3339
  finishedAt: string;
  durationMs: number;
}

/** Container state as podman reports it ("running", "exited", "created", "paused", ...). */
export type ContainerHealth = 'healthy' | 'unhealthy' | 'starting' | 'none' | 'stopped' | 'reset';

/** What stackd knows about one container of a stack, from podman's list/inspect. */
export interface ObservedContainer {
  id: string;
  name: string;
  service: string; // com.docker.compose.service (or io.podman.compose.service); '' when absent
  project: string;
  state: string; // running | exited | created | paused | stopped | ...
  exitCode: number;
  health: ContainerHealth;
  /** RFC 3339; when the container last started, if known */
  startedAt?: string;
  /** RFC 3339; when the container was created */
  createdAt?: string;
  /** RFC 3339: when the health status last changed, if podman says (from the health log) */
  healthSince?: string;
  labels: Record<string, string>;
  image: string;
  imageId?: string;
}

/** A service as the normalized compose model (`compose config --format json`) describes it. */
export interface ExpectedService {
  name: string;
  image?: string;
  labels: Record<string, string>;
  /** restart: "no" plus no healthcheck: may run to completion (a one-shot); exit 0 then counts as fine. */
  oneShot: boolean;
  healthcheck?: HealthcheckSpec;
  /** profiles it belongs to; services behind an inactive profile are not expected */
  profiles: string[];
  /** the service has a `build:` section (its image is built here, not pulled) */
  build?: boolean;
}

export interface HealthcheckSpec {
  disabled: boolean;
  /**
   * arguments of a `["CMD", …]` test that hold whitespace: podman 5's Docker-compatible API joins the test
   * and splits it again at every space (podman issue 26519), so such a check runs something else and fails
   */
  argsSplitByPodman?: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface ComposeModel {
  project: string;
  services: ExpectedService[];
  /** the top-level `version:` key was present in one of the files (obsolete; a warning in check) */
  hasVersionKey?: boolean;
}

export interface ContainerView {
  id: string;
  name: string;
  service: string;
  state: string;
  health: ContainerHealth;
}

/** What happens to the containers of a stack that leaves the config (config key removedStacks). */
export type RemovedStackAction = 'stop' | 'down' | 'keep';

/** What the last registry update run (not a dry run) did to a stack, worst service first. */
export type LastUpdateResult = 'failed' | 'rolled back' | 'updated' | 'available' | 'up to date';
export const LAST_UPDATE_RESULTS: readonly LastUpdateResult[] = ['failed', 'rolled back', 'updated', 'available', 'up to date'];

export interface LastUpdate {
  result: LastUpdateResult;
  /** RFC 3339: when that run finished */
  finishedAt: string;
}

export interface StackStatus {
  name: string;
  project: string;
  unit: string;
  desired: DesiredState;
  phase: Phase;
  retryAt?: string;
  health: StackHealth;
  state: StackState;
  lastResult?: ReconcileResult;
  /** the last registry update run that looked at the stack (since stackd started) */
  lastUpdate?: LastUpdate;
  containers: ContainerView[];
  /** present when the stack is no longer in the config: what removedStacks does with its containers */
  removedFromConfig?: { action: RemovedStackAction; done: boolean };
}
