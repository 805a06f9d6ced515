// Podman's transient healthcheck units that outlived their container (owner's notes, Appendix F): they fire
// every interval and fill the journal with "no such container". Names: <64-hex id>[-startup][-<hex>].timer
// and .service (the random suffix since podman 5.1). Fixtures: test/fixtures/systemctl-list-units.*.txt.

export const HEALTHCHECK_UNIT_RE = /^[0-9a-f]{64}(-startup)?(-[0-9a-f]{1,16})?\.(timer|service)$/;

/** One line of `systemctl --user list-units --all --plain --no-legend --full`. */
export interface ListedUnit {
  name: string;
  load: string;
  active: string;
  sub: string;
  description: string;
}

export interface OrphanUnit {
  name: string;
  containerId: string;
  ageMs: number;
}

export function parseListUnits(text: string): ListedUnit[] {
  const units: ListedUnit[] = [];
  for (const raw of text.split('\n')) {
    // Without --plain systemd marks failed units with a leading "●" (or "*" on a non-UTF-8 terminal).
    const line = raw.replace(/^\s*[●*]?\s*/, '');
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (!m || !m[1] || !m[2] || !m[3] || !m[4]) continue;
    units.push({ name: m[1], load: m[2], active: m[3], sub: m[4], description: (m[5] ?? '').trim() });
  }
  return units;
}

/** The container id a healthcheck unit belongs to; undefined for every other unit. */
export function healthcheckContainerId(unitName: string): string | undefined {
  return HEALTHCHECK_UNIT_RE.test(unitName) ? unitName.slice(0, 64) : undefined;
}

/**
 * Healthcheck units whose container is gone and which are older than minAgeMs. List the units BEFORE the
 * containers: a container created in between then has its id in the set. The age guard covers the other
 * race (podman may start a new container's timer before the container shows in a list). A unit of unknown
 * age is kept. Anything not matching HEALTHCHECK_UNIT_RE is never selected.
 */
export function selectOrphanUnits(
  units: readonly ListedUnit[],
  existingContainerIds: ReadonlySet<string>,
  unitAgeMs: (unit: ListedUnit) => number | undefined,
  minAgeMs: number,
): OrphanUnit[] {
  const out: OrphanUnit[] = [];
  const seen = new Set<string>();
  for (const unit of units) {
    const containerId = healthcheckContainerId(unit.name);
    if (containerId === undefined || seen.has(unit.name)) continue;
    if (containerExists(containerId, existingContainerIds)) continue;
    const ageMs = unitAgeMs(unit);
    if (ageMs === undefined || ageMs <= minAgeMs) continue;
    seen.add(unit.name);
    out.push({ name: unit.name, containerId, ageMs });
  }
  return out;
}

// Full ids are what the libpod list returns; a short id (12+ hex) in the set still protects its timers,
// because removing a live container's timer silently stops its healthchecks.
function containerExists(id: string, existing: ReadonlySet<string>): boolean {
  if (existing.has(id)) return true;
  for (const e of existing) {
    const lower = e.toLowerCase();
    if (lower.length >= 12 && id.startsWith(lower)) return true;
  }
  return false;
}
