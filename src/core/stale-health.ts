// Containers stuck in `starting` or `unhealthy` (owner's notes: they blocked deploys). Only candidates are
// chosen here; the reconciler runs one on-demand healthcheck (GET /libpod/containers/{id}/healthcheck) and
// removes a container only if that still fails, at most once per container per window (shouldRecheck), so a
// dead dependency never turns into a delete-recreate loop.
import { HEALTHCHECK_DEFAULTS } from './compose-model.js';
import type { ComposeModel, HealthcheckSpec, ObservedContainer } from './model.js';
import { parsePodmanTime } from './started-at.js';

export interface StaleOptions {
  nowMs: number;
  /** no container is called stuck in `starting` sooner than this */
  startingFloorMs: number;
  /** how long `unhealthy` may last before the container is a candidate */
  unhealthyAfterMs: number;
}

export interface StaleCandidate {
  container: ObservedContainer;
  health: 'starting' | 'unhealthy';
  /** epoch ms the bad state is counted from */
  sinceMs: number;
  forMs: number;
  thresholdMs: number;
  /** e.g. "health starting for 412s, longer than 95s" */
  reason: string;
}

/**
 * How long a container may stay `starting` before its healthcheck is presumed not to run at all:
 *   max(floor, startPeriod + interval × (retries + 1) + timeout)
 * Failures inside the start period do not count; after it, podman turns `starting` into `unhealthy` after
 * `retries` consecutive failures one interval apart, and into `healthy` on the first pass. One more interval
 * covers the timer's phase against the container start, and one timeout the last check still running. A
 * container still `starting` after that has no checks running (e.g. its transient timer is gone). Without a
 * compose healthcheck (the image may bring its own) podman's defaults apply.
 */
export function staleThresholdMs(healthcheck: HealthcheckSpec | undefined, floorMs: number): number {
  const hc = healthcheck && !healthcheck.disabled ? healthcheck : { ...HEALTHCHECK_DEFAULTS, disabled: false };
  return Math.max(floorMs, hc.startPeriodMs + hc.intervalMs * (hc.retries + 1) + hc.timeoutMs);
}

/**
 * Running containers whose health has been `starting` longer than staleThresholdMs (counted from StartedAt),
 * or `unhealthy` longer than unhealthyAfterMs (counted from healthSince, the start of the current failing
 * streak, else StartedAt). A container whose start time is unknown is never a candidate: no age, no verdict.
 */
export function findStaleContainers(
  containers: readonly ObservedContainer[],
  specsByService: Readonly<Record<string, HealthcheckSpec | undefined>>,
  opts: StaleOptions,
): StaleCandidate[] {
  const out: StaleCandidate[] = [];
  for (const c of containers) {
    if (c.state !== 'running') continue;
    if (c.health === 'starting') {
      const thresholdMs = staleThresholdMs(specsByService[c.service], opts.startingFloorMs);
      const candidate = judge(c, 'starting', parsePodmanTime(c.startedAt), thresholdMs, opts.nowMs);
      if (candidate) out.push(candidate);
    } else if (c.health === 'unhealthy') {
      const since = parsePodmanTime(c.healthSince) ?? parsePodmanTime(c.startedAt);
      const candidate = judge(c, 'unhealthy', since, opts.unhealthyAfterMs, opts.nowMs);
      if (candidate) out.push(candidate);
    }
  }
  return out;
}

/** At most one on-demand recheck (and so at most one removal) per container per window. */
export function shouldRecheck(
  candidateId: string,
  lastRecheckAtMsById: ReadonlyMap<string, number>,
  nowMs: number,
  windowMs: number,
): boolean {
  const last = lastRecheckAtMsById.get(candidateId);
  return last === undefined || nowMs - last >= windowMs;
}

function judge(
  container: ObservedContainer,
  health: 'starting' | 'unhealthy',
  sinceMs: number | undefined,
  thresholdMs: number,
  nowMs: number,
): StaleCandidate | undefined {
  if (sinceMs === undefined) return undefined;
  const forMs = nowMs - sinceMs;
  if (forMs <= thresholdMs) return undefined;
  const reason = `health ${health} for ${Math.round(forMs / 1000)}s, longer than ${Math.round(thresholdMs / 1000)}s`;
  return { container, health, sinceMs, forMs, thresholdMs, reason };
}

// --- candidates from inspected containers (was stale-candidates.ts) ---
// Stale-health candidates from inspected containers. The threshold uses each container's OWN healthcheck
// (inspect's Config.Healthcheck): the image may define one the compose file does not mention, and compose's
// one may have been overridden. The compose model's healthcheck is only the fallback.

export interface InspectedContainer {
  /** parseInspect of GET /libpod/containers/{id}/json: health, healthSince, startedAt */
  container: ObservedContainer;
  /** parseInspectHealthcheck of the same answer */
  healthcheck: HealthcheckSpec | undefined;
}

/** Worth an inspect: running and `starting` or `unhealthy` in the list (the list has no failing-since). */
export function mayBeStale(c: ObservedContainer): boolean {
  return c.state === 'running' && (c.health === 'starting' || c.health === 'unhealthy');
}

export function findStaleInspected(
  inspected: readonly InspectedContainer[],
  model: ComposeModel | undefined,
  opts: StaleOptions,
): StaleCandidate[] {
  const out: StaleCandidate[] = [];
  // one call per container, so two replicas of a service may carry different specs (one not yet recreated)
  for (const { container, healthcheck } of inspected) {
    const fromModel = model?.services.find((s) => s.name === container.service)?.healthcheck;
    out.push(...findStaleContainers([container], { [container.service]: healthcheck ?? fromModel }, opts));
  }
  return out;
}

// --- the on-demand recheck's verdict and rate-limit key (was health-recheck.ts) ---
// The verdict of one on-demand healthcheck (GET /libpod/containers/{id}/healthcheck) on a stale candidate,
// and the key its rate limit is kept under. Fixtures: test/fixtures/libpod-healthcheck-run.*.json.

export interface RecheckVerdict {
  passed: boolean;
  /** what podman answered, for the log line: "healthy", "unhealthy", … */
  status: string;
}

/**
 * The answer's Status is the result of THIS run, not the container's health: a failed run answers
 * "unhealthy" even while the container itself still shows `starting` (seen in the lab). Only "healthy"
 * passes; anything else, including an answer we cannot read, is "still bad".
 */
export function judgeRecheck(raw: unknown): RecheckVerdict {
  const status = typeof raw === 'object' && raw !== null && 'Status' in raw && typeof raw.Status === 'string' ? raw.Status : '';
  return { passed: status === 'healthy', status: status || 'unreadable answer' };
}

/**
 * Rate-limit key: the stack's service, not the container id. Removing a stale container makes compose
 * create a new one with a new id; keyed by id, every replacement would be removable again as soon as it went
 * stale, and a dead dependency would still drive a delete-recreate loop. A container without a compose
 * service label falls back to its id.
 */
export function recheckKey(stack: string, container: Pick<ObservedContainer, 'id' | 'service'>): string {
  return container.service ? `${stack}/${container.service}` : `${stack}/#${container.id}`;
}
