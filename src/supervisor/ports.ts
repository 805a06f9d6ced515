// What the supervisor needs from the outside world. The adapters in src/adapters satisfy these
// structurally; tests may pass small fakes. Kept narrow so each dependency is visible at a glance.

export interface ComposeSpec {
  project: string;
  composeFiles: string[];
  envFiles: string[];
  timeoutMs: number;
  cwd?: string;
}

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
  load(): Promise<Record<string, 'running' | 'stopped'>>;
  save(state: Record<string, 'running' | 'stopped'>): Promise<void>;
}
