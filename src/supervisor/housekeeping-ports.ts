// What preflight, timer GC, prune and check need from podman and systemctl. PodmanClient and
// Systemctl in src/adapters satisfy these structurally; tests may pass small fakes.

export interface PodmanHousekeepingPort {
  listContainers(opts: { all: boolean }): Promise<unknown[]>;
  listProjectContainers(project: string): Promise<unknown[]>;
  /** raw inspect, or undefined when the container is gone */
  inspectContainer(id: string): Promise<unknown>;
  /** true when removed, false when it was already gone */
  removeContainer(id: string, opts: { force: boolean }): Promise<boolean>;
  runHealthcheck(id: string, timeoutMs?: number): Promise<unknown>;
  listImages(): Promise<unknown[]>;
  removeImage(id: string): Promise<unknown>;
  /** raw GET /libpod/info */
  info(): Promise<unknown>;
}

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

/** The metric kinds of stackd_preflight_violations_total. */
export type ViolationKind = 'label-invariant' | 'drifted' | 'stale';
