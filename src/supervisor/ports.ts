// Everything the supervisor needs from the outside world, in one place. The adapters in src/adapters implement
// these (`implements PodmanPort`, …) and import nothing else from the supervisor; the supervisor imports no
// adapter code, not even a type. Tests pass small in-memory fakes of the same ports.
import type { PersistedState, StackRecord } from '../core/persisted-state.js';
import type { Notification } from '../core/notify/types.js';
import type { ImageRef, ManifestDoc, ManifestHead } from '../core/update/types.js';

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
  /** `up --pull never`: a rollback must run the re-tagged local image, never whatever the registry has now */
  pullNever?: boolean;
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

/** Image operations the updater needs (podman's socket; the same client as PodmanPort). */
export interface ImagePort {
  /** raw GET /libpod/images/{nameOrId}/json (Id, Digest, RepoDigests, RepoTags, Os, Architecture), or undefined */
  inspectImage(nameOrId: string): Promise<unknown>;
  /**
   * Pulls `reference` — always repo@sha256:… so that a tag moving during the run cannot change what arrives —
   * and resolves with the pulled image's id. Credentials and `insecure` come from the user's podman config.
   */
  pullImage(reference: string, opts?: { signal?: AbortSignal }): Promise<string>;
  /** tags an image (id or name) as repo:tag */
  tagImage(image: string, repo: string, tag: string): Promise<void>;
  /** the last `tail` lines of a container's output (stdout and stderr), for a rolled-back notification */
  containerLogs(id: string, tail: number): Promise<string>;
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

// --- registries (manifests only: never a blob) -----------------------------------------------------------

/**
 * A registry's manifest endpoints. Authentication (auth.json, credential helpers, Bearer and Basic
 * challenges, token cache), TLS or not (registries.conf `insecure`), at most 2 requests in flight per
 * registry and 429 handling live behind it. Failures throw RegistryError (src/adapters/errors.ts) whose
 * `code` says which: STACKD_REGISTRY_UNREACHABLE | _AUTH | _NOT_FOUND | _RATE_LIMITED | _PROTOCOL. A rate-limited
 * one carries `retryAtMs` when the registry asked for a wait: no request goes to it before then while this
 * stackd runs (the wait is kept in memory).
 */
export interface RegistryPort {
  /** HEAD /v2/<repo>/manifests/<tag> with the OCI index, OCI manifest, Docker list and Docker v2 Accept types */
  head(ref: ImageRef): Promise<ManifestHead>;
  /** GET /v2/<repo>/manifests/<reference> (a tag or a digest) */
  get(ref: ImageRef, reference: string): Promise<ManifestDoc>;
}

// --- notifications ---------------------------------------------------------------------------------------

export type { Notification, NotifyEvent } from '../core/notify/types.js';

/** One configured notifier (Gotify, ntfy, webhook). send() throws on failure; the dispatcher retries and counts. */
export interface NotifierPort {
  readonly kind: 'gotify' | 'ntfy' | 'webhook';
  /** for logs and the failure metric: the notifier's URL without credentials */
  readonly target: string;
  send(n: Notification): Promise<void>;
}

// --- the service manager (systemd's notification protocol) -----------------------------------------------

/** Tells the service manager how stackd is doing (sd_notify: READY=1, WATCHDOG=1, STOPPING=1). Throws on failure. */
export interface ServiceManagerPort {
  ready(): Promise<void>;
  watchdog(): Promise<void>;
  stopping(): Promise<void>;
}
