// Everything the supervisor needs from the outside world, in one place. The adapters in src/adapters implement
// these (`implements PodmanPort`, …) and import nothing else from the supervisor; the supervisor imports no
// adapter code, not even a type. Tests pass small in-memory fakes of the same ports.
import type { PersistedState, StackRecord } from '../core/persisted-state.js';

// --- compose --------------------------------------------------------------------------------------------

/** One compose invocation for one stack. */
export interface ComposeSpec {
  project: string;
  /** absolute paths, in order; each becomes -f */
  composeFiles: string[];
  /** each becomes --env-file, in order */
  envFiles: string[];
  timeoutMs: number;
  /** default: the directory of the first compose file (compose resolves relative paths from there) */
  cwd?: string;
  signal?: AbortSignal;
}

/** What a compose run did; exit code and stderr are the verdict (judging them is the reconciler's job). */
export interface ComposeOutcome {
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface ComposePort {
  up(spec: ComposeSpec): Promise<ComposeOutcome>;
  stop(spec: ComposeSpec): Promise<ComposeOutcome>;
  /** removes containers and networks, never volumes */
  down(spec: ComposeSpec): Promise<ComposeOutcome>;
  /** the normalized model (`config --format json`) on stdout */
  config(spec: ComposeSpec): Promise<ComposeOutcome>;
}

/** Which compose provider `podman compose` runs; only docker-compose v2 is accepted (ok). */
export type { ComposeProviderVerdict } from '../core/compose-provider.js';

// --- podman ---------------------------------------------------------------------------------------------

export interface PodmanPort {
  ping(): Promise<unknown>;
  listContainers(opts: { all: boolean }): Promise<unknown[]>;
  /** containers of a compose project, under either label scheme (docker-compose's and podman-compose's) */
  listProjectContainers(project: string): Promise<unknown[]>;
  /** raw inspect, or undefined when the container is gone */
  inspectContainer(id: string): Promise<unknown>;
  /** true when removed, false when it was already gone */
  removeContainer(id: string, opts: { force: boolean }): Promise<boolean>;
  stopContainer(id: string, timeoutS: number): Promise<void>;
  /** runs the container's healthcheck now (GET /libpod/containers/{id}/healthcheck) */
  runHealthcheck(id: string, timeoutMs?: number): Promise<unknown>;
  listImages(): Promise<unknown[]>;
  removeImage(id: string): Promise<unknown>;
  /** raw GET /libpod/info */
  info(): Promise<unknown>;
  /** names of the networks labelled with the compose project (either label scheme) */
  listProjectNetworks(project: string): Promise<string[]>;
  /** true when removed, false when it was already gone */
  removeNetwork(name: string): Promise<boolean>;
}

// --- systemctl --user -----------------------------------------------------------------------------------

export interface SystemctlOutcomeLike {
  ok: boolean;
  exitCode: number | null;
  stderr: string;
}

export interface SystemctlPort {
  /** raw `systemctl --user list-units --all --plain --no-legend --full [patterns]` */
  listUnits(patterns?: string[]): Promise<string>;
  /** epoch ms each unit became active; units systemd does not know are absent */
  unitActiveEnterTimestamps(units: string[]): Promise<Record<string, number>>;
  stop(units: string[]): Promise<SystemctlOutcomeLike>;
  resetFailed(units?: string[]): Promise<SystemctlOutcomeLike>;
  isEnabled(unit: string, scope: 'user' | 'system'): Promise<{ state: string; exitCode: number | null; stderr: string }>;
}

// --- files and state ------------------------------------------------------------------------------------

export interface FilesPort {
  exists(path: string): Promise<boolean>;
  /** file contents, or null when the file does not exist */
  readText(path: string): Promise<string | null>;
}

/** The persisted per-stack state (src/core/persisted-state.ts). load throws when the file is corrupt. */
export interface StateStore {
  load(projectOf: (stack: string) => string): Promise<{ state: Map<string, StackRecord>; upgradedFrom?: number }>;
  save(state: PersistedState): Promise<void>;
}

/** The metric kinds of stackd_preflight_violations_total. */
export type ViolationKind = 'label-invariant' | 'drifted' | 'stale';
