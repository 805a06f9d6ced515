// Registry updates that stackd owns (podman auto-update cannot update compose-created containers: podman
// issue 19688). The shapes every part of the update feature shares: references, platforms, manifests, the
// report in podman's own vocabulary, the bad-digest memory and the durable progress of one apply.

/** `io.containers.autoupdate` policies stackd acts on (`image` is podman's old spelling of `registry`). */
export type UpdatePolicy = 'registry' | 'local';

/** Per stack (config `update:`): off = never looked at; monitor = report and notify only; apply = update. */
export type UpdateMode = 'off' | 'monitor' | 'apply';

/** podman auto-update's `Updated` column, plus `skipped` (pinned by digest, build-only, bad digest, off). */
export type Updated = 'true' | 'false' | 'failed' | 'rolled back' | 'pending' | 'skipped';

/** A parsed image reference, normalized as podman and docker do (`nginx` → docker.io/library/nginx:latest). */
export interface ImageRef {
  /** registry host[:port] as used on the wire; docker.io's API host is registry-1.docker.io (see apiHost) */
  registry: string;
  /** repository path, e.g. library/nginx */
  repository: string;
  tag?: string;
  /** sha256:… when the reference is pinned by digest */
  digest?: string;
  /** registry/repository:tag (or @digest): the form written in reports and used to tag */
  canonical: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** What a HEAD of a manifest said (the digest header may be missing: some registries do not send it). */
export interface ManifestHead {
  digest?: string;
  mediaType?: string;
}

/** A manifest document fetched with GET. */
export interface ManifestDoc {
  /** Docker-Content-Digest, or the sha256 of the body when the header is missing */
  digest: string;
  mediaType: string;
  /** the parsed JSON body */
  body: unknown;
}

/** One row of the report: podman auto-update's columns, then stackd's own. */
export interface UpdateRow {
  Unit: string;
  Container: string;
  ContainerName: string;
  ContainerID: string;
  Image: string;
  Policy: string;
  Updated: Updated;
  /** why: the registry error, the gate's verdict, "pinned by digest", … (redacted, one line) */
  Reason?: string;
  stack: string;
  service: string;
  /** the platform manifest digest the registry serves now, when known */
  remoteDigest?: string;
}

export interface UpdateReport {
  /** false when any row is failed or rolled back (stackctl update exits non-zero) */
  ok: boolean;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  rows: UpdateRow[];
  /** registries that answered 429 during this run (their rows are failed with the wait they asked for) */
  rateLimited: string[];
}

/** A (reference, platform digest) that failed its health gate once: never tried again until the registry moves on. */
export interface BadDigest {
  reference: string;
  digest: string;
  stack: string;
  service: string;
  at: string;
  reason: string;
}

/** The steps of one apply, persisted before each is taken so a killed stackd resumes or rolls back at start. */
export type ApplyStep = 'pinned' | 'pulled' | 'retagged' | 'up' | 'gated' | 'rolling-back';

export interface ApplyProgress {
  stack: string;
  /** services being updated, each with its reference, the image id it ran before and the digest being applied */
  services: { service: string; reference: string; previousImageId: string; pinTag: string; targetDigest: string }[];
  step: ApplyStep;
  startedAt: string;
}
