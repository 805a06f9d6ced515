// What the daily prune may remove (owner's notes, Appendix F: the global prune timer with a 4 h threshold,
// plus reset-failed). Decisions only; src/supervisor/prune.ts does the removing. Fixtures:
// test/fixtures/libpod-containers-json.prune.json, libpod-images-json.dangling.json, systemctl-list-units.failed.txt.
import { parseListEntry } from './podman-parse.js';
import { parsePodmanTime } from './started-at.js';
import { HEALTHCHECK_UNIT_RE, type ListedUnit } from './timer-orphans.js';

/** Not running and not about to be: podman's own `container prune` takes the same states. */
const STOPPED_STATES: readonly string[] = ['exited', 'stopped', 'created', 'configured', 'dead'];

export interface PruneContainer {
  id: string;
  name: string;
  state: string;
  /** every compose project label it carries (docker-compose and podman-compose) */
  projects: string[];
  /** epoch ms since it has been stopped: ExitedAt, or Created when it never ran; undefined when unknown */
  stoppedSinceMs?: number;
  /** a pod's infra container belongs to the pod, not to us */
  isInfra: boolean;
  /** the label that marks it as someone's long-lived workspace (toolbox, distrobox): never pruned */
  keptBy?: string;
}

// toolbox and distrobox containers are stopped most of the time and hold a user's work: they are nobody's
// garbage, whatever their age.
const KEEP_LABELS: readonly (readonly [string, string])[] = [['com.github.containers.toolbox', 'true'], ['manager', 'distrobox']];

export interface PruneCandidate {
  container: PruneContainer;
  ageMs: number;
}

export interface DanglingImage {
  id: string;
  createdMs?: number;
  /** what it was built or pulled as, when podman remembers (History) */
  wasNamed?: string;
}

/** One GET /libpod/containers/json?all=true entry, as prune needs it. */
export function toPruneContainer(raw: unknown, index = 0): PruneContainer {
  const c = parseListEntry(raw, index);
  const r = raw as Record<string, unknown>;
  const projects = [...new Set(
    ['com.docker.compose.project', 'io.podman.compose.project'].map((k) => c.labels[k]).filter((p): p is string => !!p),
  )];
  const exited = parsePodmanTime(typeof r['ExitedAt'] === 'number' ? r['ExitedAt'] : undefined);
  const created = parsePodmanTime(c.createdAt);
  const out: PruneContainer = { id: c.id, name: c.name, state: c.state, projects, isInfra: r['IsInfra'] === true };
  // Counted from the exit, not the creation: a container that ran for days and stopped a minute ago still
  // has fresh logs someone may want to read.
  const since = exited ?? created;
  if (since !== undefined) out.stoppedSinceMs = since;
  const keep = KEEP_LABELS.find(([k, v]) => c.labels[k] === v);
  if (keep) out.keptBy = `${keep[0]}=${keep[1]}`;
  return out;
}

/**
 * Stopped containers older than maxAgeMs that no configured stack owns: a container counts as owned when ANY
 * of its compose project labels names a configured project (a stack's stopped containers are its desired
 * state, and `stackctl up` restarts them). Unknown age, pod infra and toolbox/distrobox → kept.
 */
export function selectPrunableContainers(
  containers: readonly PruneContainer[],
  ownedProjects: ReadonlySet<string>,
  nowMs: number,
  maxAgeMs: number,
): PruneCandidate[] {
  const out: PruneCandidate[] = [];
  for (const c of containers) {
    if (!STOPPED_STATES.includes(c.state) || c.isInfra || c.keptBy !== undefined) continue;
    if (c.projects.some((p) => ownedProjects.has(p))) continue;
    if (c.stoppedSinceMs === undefined) continue;
    const ageMs = nowMs - c.stoppedSinceMs;
    if (ageMs > maxAgeMs) out.push({ container: c, ageMs });
  }
  return out;
}

/**
 * Untagged images no container uses, except the ones kept as rollback targets (by id). An image whose
 * container count podman does not report is kept: removing an image in use fails anyway, but guessing is
 * not our business.
 */
export function selectDanglingImages(rawImages: readonly unknown[], keepImageIds: ReadonlySet<string>): DanglingImage[] {
  const keep = new Set([...keepImageIds].map((k) => k.replace(/^sha256:/, '')));
  const out: DanglingImage[] = [];
  for (const raw of rawImages) {
    if (typeof raw !== 'object' || raw === null) continue;
    const img = raw as Record<string, unknown>;
    const id = typeof img['Id'] === 'string' ? img['Id'] : '';
    if (!id || keep.has(id.replace(/^sha256:/, ''))) continue;
    const tags = Array.isArray(img['RepoTags']) ? img['RepoTags'].filter((t) => typeof t === 'string' && t !== '<none>:<none>') : [];
    const dangling = img['Dangling'] === true || tags.length === 0;
    if (!dangling || img['Containers'] !== 0) continue;
    const d: DanglingImage = { id };
    const created = typeof img['Created'] === 'number' ? parsePodmanTime(img['Created']) : undefined;
    if (created !== undefined) d.createdMs = created;
    const history = Array.isArray(img['History']) ? img['History'].find((h): h is string => typeof h === 'string') : undefined;
    if (history) d.wasNamed = history;
    out.push(d);
  }
  return out;
}

// podman's transient units: healthcheck timers/services, the scopes of CLI calls (podman-<pid>.scope) and
// of containers (libpod-<id>.scope, libpod-conmon-<id>.scope). A failed one makes the user manager report
// `degraded` for good; resetting it loses nothing. Units that are not podman's keep their failed state:
// it may be the only trace of a real problem.
const PODMAN_TRANSIENT_RE = /^(?:podman-\d+\.scope|libpod-(?:conmon-)?[0-9a-f]{64}\.scope)$/;

export function isPodmanTransientUnit(name: string): boolean {
  return HEALTHCHECK_UNIT_RE.test(name) || PODMAN_TRANSIENT_RE.test(name);
}

/** Failed units of podman's to reset; every other unit is left as it is. */
export function selectFailedTransientUnits(units: readonly ListedUnit[]): string[] {
  return [...new Set(units.filter((u) => u.active === 'failed' && isPodmanTransientUnit(u.name)).map((u) => u.name))];
}
