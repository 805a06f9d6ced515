// libpod JSON → ObservedContainer. Only the fields stackd reads are typed; everything arrives as `unknown`
// and is checked, because the socket is another program's output (fixtures: test/fixtures/libpod-*.json).
import type { ContainerHealth, HealthcheckSpec, ObservedContainer } from './model.js';
import { toIsoTime } from './started-at.js';

export const COMPOSE_PROJECT_LABELS = ['com.docker.compose.project', 'io.podman.compose.project'] as const;
export const COMPOSE_SERVICE_LABELS = ['com.docker.compose.service', 'io.podman.compose.service'] as const;

/** GET /libpod/containers/json?all=true, one entry. */
interface LibpodListEntry {
  Id: string;
  Names?: unknown;
  Labels?: unknown;
  State?: unknown;
  /** health: "healthy" | "unhealthy" | "starting" | "reset" | "" (no healthcheck) */
  Status?: unknown;
  ExitCode?: unknown;
  /** unix seconds; Go's zero time (-62135596800) when never started */
  StartedAt?: unknown;
  Created?: unknown;
  Image?: unknown;
  ImageID?: unknown;
}

/** GET /libpod/containers/{id}/json. */
interface LibpodInspect {
  Id: string;
  Name?: unknown;
  Created?: unknown;
  Image?: unknown;
  ImageName?: unknown;
  State?: { Status?: unknown; ExitCode?: unknown; StartedAt?: unknown; Health?: unknown };
  Config?: { Labels?: unknown; Image?: unknown; Healthcheck?: unknown };
}

interface HealthLogEntry {
  start?: string;
  exitCode: number;
}

export class PodmanParseError extends Error {
  readonly code = 'STACKD_PODMAN_PARSE';
}

const HEALTH_VALUES: readonly ContainerHealth[] = ['healthy', 'unhealthy', 'starting', 'stopped', 'reset'];

export function parseContainerList(raw: unknown): ObservedContainer[] {
  if (!Array.isArray(raw)) {
    throw new PodmanParseError(`Expected the libpod container list to be an array, got ${describe(raw)}`);
  }
  return raw.map((entry, i) => parseListEntry(entry, i));
}

export function parseListEntry(raw: unknown, index = 0): ObservedContainer {
  if (!isRecord(raw) || typeof raw['Id'] !== 'string') {
    throw new PodmanParseError(`Expected libpod list entry [${index}] to be an object with a string Id, got ${describe(raw)}`);
  }
  const e = raw as unknown as LibpodListEntry;
  const labels = stringRecord(e.Labels);
  const names = Array.isArray(e.Names) ? e.Names.filter((n): n is string => typeof n === 'string') : [];
  return withOptional(
    {
      id: e.Id,
      name: stripSlash(names[0] ?? ''),
      service: firstLabel(labels, COMPOSE_SERVICE_LABELS),
      project: firstLabel(labels, COMPOSE_PROJECT_LABELS),
      state: str(e.State),
      exitCode: int(e.ExitCode),
      health: toHealth(e.Status),
      labels,
      image: str(e.Image),
    },
    {
      startedAt: toIsoTime(timeInput(e.StartedAt)),
      createdAt: toIsoTime(timeInput(e.Created)),
      imageId: str(e.ImageID) || undefined,
    },
  );
}

export function parseInspect(raw: unknown): ObservedContainer {
  if (!isRecord(raw) || typeof raw['Id'] !== 'string') {
    throw new PodmanParseError(`Expected a libpod inspect result with a string Id, got ${describe(raw)}`);
  }
  const c = raw as unknown as LibpodInspect;
  const state = isRecord(c.State) ? c.State : {};
  const config = isRecord(c.Config) ? c.Config : {};
  const labels = stringRecord(config.Labels);
  const health = isRecord(state.Health) ? state.Health : undefined;
  const healthStatus = health ? toHealth(health['Status']) : 'none';
  return withOptional(
    {
      id: c.Id,
      name: stripSlash(str(c.Name)),
      service: firstLabel(labels, COMPOSE_SERVICE_LABELS),
      project: firstLabel(labels, COMPOSE_PROJECT_LABELS),
      state: str(state.Status),
      exitCode: int(state.ExitCode),
      health: healthStatus,
      labels,
      image: str(c.ImageName) || str(config.Image),
    },
    {
      startedAt: toIsoTime(timeInput(state.StartedAt)),
      createdAt: toIsoTime(timeInput(c.Created)),
      healthSince: health && healthStatus === 'unhealthy' ? failingSince(health) : undefined,
      imageId: str(c.Image) || undefined,
    },
  );
}

/**
 * The container's own healthcheck (nanosecond durations), which may come from the image rather than the
 * compose file. undefined when the container has none.
 */
export function parseInspectHealthcheck(raw: unknown): HealthcheckSpec | undefined {
  if (!isRecord(raw) || !isRecord(raw['Config'])) return undefined;
  const hc = raw['Config']['Healthcheck'];
  if (!isRecord(hc)) return undefined;
  const test = Array.isArray(hc['Test']) ? hc['Test'] : [];
  const nsToMs = (v: unknown, dflt: number): number => (typeof v === 'number' && v > 0 ? Math.floor(v / 1e6) : dflt);
  return {
    disabled: test.length === 0 || test[0] === 'NONE',
    intervalMs: nsToMs(hc['Interval'], 30_000),
    timeoutMs: nsToMs(hc['Timeout'], 30_000),
    retries: typeof hc['Retries'] === 'number' && hc['Retries'] > 0 ? hc['Retries'] : 3,
    startPeriodMs: nsToMs(hc['StartPeriod'], 0),
  };
}

/**
 * The containers of one compose project, whichever provider made them (docker-compose labels
 * com.docker.compose.project, podman-compose io.podman.compose.project; some carry both). The adapter may
 * have asked podman once per label, so the same container can arrive twice: first occurrence wins.
 */
export function selectProjectContainers(list: readonly ObservedContainer[], project: string): ObservedContainer[] {
  const seen = new Set<string>();
  const out: ObservedContainer[] = [];
  for (const c of list) {
    if (seen.has(c.id)) continue;
    if (!COMPOSE_PROJECT_LABELS.some((key) => c.labels[key] === project)) continue;
    seen.add(c.id);
    out.push(c);
  }
  return out;
}

// When the current failing streak began: the Start of its first entry still in the log. Podman keeps only
// the last few entries (HealthcheckMaxLogCount, default 5), so for a long streak this is later than the truth,
// which errs towards keeping a container, never towards removing it early.
function failingSince(health: Record<string, unknown>): string | undefined {
  const log = Array.isArray(health['Log']) ? health['Log'].map(toLogEntry) : [];
  const streak = typeof health['FailingStreak'] === 'number' ? health['FailingStreak'] : log.length;
  let since: string | undefined;
  for (let i = log.length - 1, n = 0; i >= 0 && n < streak; i--, n++) {
    const entry = log[i];
    if (!entry || entry.exitCode === 0) break;
    since = entry.start ?? since;
  }
  return toIsoTime(since);
}

function toLogEntry(raw: unknown): HealthLogEntry | undefined {
  if (!isRecord(raw)) return undefined;
  return { start: typeof raw['Start'] === 'string' ? raw['Start'] : undefined, exitCode: int(raw['ExitCode']) };
}

function toHealth(raw: unknown): ContainerHealth {
  return HEALTH_VALUES.find((h) => h === raw) ?? 'none';
}

function firstLabel(labels: Record<string, string>, keys: readonly string[]): string {
  for (const k of keys) {
    const v = labels[k];
    if (v) return v;
  }
  return '';
}

function timeInput(v: unknown): string | number | undefined {
  return typeof v === 'string' || typeof v === 'number' ? v : undefined;
}

function stringRecord(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(raw)) return out;
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') out[k] = v;
  return out;
}

// The Docker-compatible API names containers "/name"; libpod does not. Accept both.
function stripSlash(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function int(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) ? v : 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object without a string Id' : `\`${String(v)}\` (${typeof v})`;
}

// Optional fields stay absent rather than present-and-undefined, so equality checks and JSON stay clean.
type OptionalField = 'startedAt' | 'createdAt' | 'healthSince' | 'imageId';
function withOptional(
  base: ObservedContainer,
  optional: Partial<Record<OptionalField, string>>,
): ObservedContainer {
  const out: ObservedContainer = { ...base };
  for (const [k, v] of Object.entries(optional) as [OptionalField, string | undefined][]) if (v !== undefined) out[k] = v;
  return out;
}
