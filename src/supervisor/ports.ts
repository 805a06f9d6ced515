// What the supervisor needs from the outside world. The adapters in src/adapters satisfy these
// structurally; tests may pass small fakes. Kept narrow so each dependency is visible at a glance.

// The compose adapter's own shapes (types only: the supervisor depends on no adapter code).
import type { ComposeResult, ComposeSpec } from '../adapters/compose-runner.js';
import type { DesiredState } from '../core/model.js';

export type { ComposeSpec };
/** the part of a compose run's result the reconciler judges */
export type ComposeOutcome = Pick<ComposeResult, 'ok' | 'exitCode' | 'stdout' | 'stderr' | 'timedOut' | 'durationMs'>;

export interface ComposePort {
  up(spec: ComposeSpec): Promise<ComposeOutcome>;
  stop(spec: ComposeSpec): Promise<ComposeOutcome>;
  down(spec: ComposeSpec): Promise<ComposeOutcome>;
  config(spec: ComposeSpec): Promise<ComposeOutcome>;
}

export interface PodmanPort {
  ping(): Promise<unknown>;
  listContainers(opts: { all: boolean }): Promise<unknown[]>;
  listProjectContainers(project: string): Promise<unknown[]>;
  inspectContainer(id: string): Promise<unknown>;
  removeContainer(id: string, opts: { force: boolean }): Promise<boolean>;
  stopContainer(id: string, timeoutS: number): Promise<void>;
  runHealthcheck(id: string): Promise<unknown>;
}

export interface FilesPort {
  exists(path: string): Promise<boolean>;
  /** file contents, or null when the file does not exist */
  readText(path: string): Promise<string | null>;
}

export interface DesiredStateStore {
  load(): Promise<Record<string, DesiredState>>;
  save(state: Record<string, DesiredState>): Promise<void>;
}
