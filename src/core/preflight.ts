// The PODMAN_SYSTEMD_UNIT invariant (owner's "Decision (Applied)", DESIGN.md verified facts). docker-compose
// never turns the PODMAN_SYSTEMD_UNIT environment variable into a label, so the label has to be in the
// compose file; a container that auto-update may touch must name the unit that owns it.
import type { ComposeModel, ObservedContainer } from './model.js';
import { findStaleInspected, mayBeStale, type InspectedContainer, type StaleCandidate, type StaleOptions } from './stale-health.js';

export const AUTOUPDATE_LABEL = 'io.containers.autoupdate';
export const UNIT_LABEL = 'PODMAN_SYSTEMD_UNIT';
/** `image` is the deprecated spelling of `registry`; podman still honours it. */
export const AUTOUPDATE_POLICIES: readonly string[] = ['registry', 'local', 'image'];

export interface LabelViolation {
  service: string;
  /** the service's io.containers.autoupdate value, when set */
  autoupdate?: string;
  problem: 'missing' | 'wrong-unit';
  /** the PODMAN_SYSTEMD_UNIT value found, when there is one */
  found?: string;
  expected: string;
  /** the exact YAML line to put under the service's `labels:` */
  line: string;
  /** the compose files the service may be defined in (compose merged them) */
  files: string[];
}

export interface DriftedContainer {
  container: ObservedContainer;
  /** PODMAN_SYSTEMD_UNIT on the container; undefined when it has none */
  found: string | undefined;
  expected: string;
}

export function isAutoupdateEnabled(labels: Readonly<Record<string, string>>): boolean {
  const policy = labels[AUTOUPDATE_LABEL];
  return policy !== undefined && AUTOUPDATE_POLICIES.includes(policy);
}

/**
 * Every service that opts into auto-update without naming `unit` as its owner, and every service whose
 * PODMAN_SYSTEMD_UNIT names another unit even without auto-update: findDriftedContainers removes such
 * containers, and compose would recreate them with the same wrong label on every reconcile.
 */
export function checkLabelInvariant(model: ComposeModel, unit: string, composeFiles: readonly string[]): LabelViolation[] {
  const violations: LabelViolation[] = [];
  for (const s of model.services) {
    const found = s.labels[UNIT_LABEL];
    if (!hasWrongOwner(s.labels, unit)) continue;
    const v: LabelViolation = {
      service: s.name,
      problem: found === undefined ? 'missing' : 'wrong-unit',
      expected: unit,
      line: `${UNIT_LABEL}: ${unit}`,
      files: [...composeFiles],
    };
    if (found !== undefined) v.found = found;
    const policy = s.labels[AUTOUPDATE_LABEL];
    if (policy !== undefined) v.autoupdate = policy;
    violations.push(v);
  }
  return violations;
}

/**
 * One line a human can act on: which services, which file, what to add. Example:
 * stack "immich": every service that sets io.containers.autoupdate (or any PODMAN_SYSTEMD_UNIT) must carry
 * PODMAN_SYSTEMD_UNIT=immich.service; 1 service does not, so nothing was started or removed; in
 * /srv/immich/compose.yml: service "server" has no PODMAN_SYSTEMD_UNIT label: add
 * `PODMAN_SYSTEMD_UNIT: immich.service` under its `labels:` (`- PODMAN_SYSTEMD_UNIT=immich.service` if they
 * are a list)
 */
export function formatInvariantReason(
  stackName: string,
  violations: readonly LabelViolation[],
  composeFiles: readonly string[],
): string {
  const first = violations[0];
  if (!first) return `stack "${stackName}": no label violations`;
  const unit = first.expected;
  const count = violations.length === 1 ? '1 service does not' : `${violations.length} services do not`;
  const where =
    composeFiles.length === 1 ? `in ${composeFiles[0]}` : `in ${composeFiles.join(' or ')} (compose merges them; fix the file that defines the service)`;
  const fixes = violations.map((v) => {
    const what =
      v.problem === 'missing'
        ? `has no ${UNIT_LABEL} label: add`
        : `has ${UNIT_LABEL}=${v.found ?? ''}: change it to`;
    return `service "${v.service}" ${what} \`${v.line}\` under its \`labels:\` (\`- ${UNIT_LABEL}=${v.expected}\` if they are a list)`;
  });
  return (
    `stack "${stackName}": every service that sets ${AUTOUPDATE_LABEL} (or any ${UNIT_LABEL}) must carry ` +
    `${UNIT_LABEL}=${unit}; ${count}, so nothing was started or removed; ` +
    `${where}: ${fixes.join('; ')}`
  );
}

/**
 * Containers that carry the wrong owner: PODMAN_SYSTEMD_UNIT names another unit (podman-compose's
 * `podman-compose@<project>.service`, an old stack name), or is missing while auto-update is on. They are
 * removed before `up` so compose recreates them with the label from the file.
 */
export function findDriftedContainers(containers: readonly ObservedContainer[], unit: string): DriftedContainer[] {
  const drifted: DriftedContainer[] = [];
  for (const c of containers) {
    if (hasWrongOwner(c.labels, unit)) drifted.push({ container: c, found: c.labels[UNIT_LABEL], expected: unit });
  }
  return drifted;
}

// One predicate for the file and the containers, so what preflight accepts is exactly what drift keeps.
function hasWrongOwner(labels: Readonly<Record<string, string>>, unit: string): boolean {
  const found = labels[UNIT_LABEL];
  return found !== undefined ? found !== unit : isAutoupdateEnabled(labels);
}

/** What preflight found for one stack: `check` reports it, the preflight runner acts on it. One plan, so the two never disagree. */
export interface PreflightPlan {
  /** label-invariant violations of the files: the stack fails before anything is touched */
  violations: LabelViolation[];
  /** containers with the wrong owner: removed so compose recreates them */
  drifted: DriftedContainer[];
  /** containers stuck in starting/unhealthy: rechecked once, removed only if still bad (rate-limited) */
  stale: StaleCandidate[];
}

export interface PreflightInput {
  model: ComposeModel;
  unit: string;
  composeFiles: readonly string[];
  containers: readonly ObservedContainer[];
  /** inspect answers of staleInspectTargets(containers, unit) */
  inspected: readonly InspectedContainer[];
  stale: StaleOptions;
}

/** The containers worth an inspect for stale health: maybe stale, and not about to be removed as drifted. */
export function staleInspectTargets(containers: readonly ObservedContainer[], unit: string): ObservedContainer[] {
  const drifted = new Set(findDriftedContainers(containers, unit).map((d) => d.container.id));
  return containers.filter((c) => !drifted.has(c.id) && mayBeStale(c));
}

export function planPreflight(input: PreflightInput): PreflightPlan {
  const drifted = findDriftedContainers(input.containers, input.unit);
  const driftedIds = new Set(drifted.map((d) => d.container.id));
  return {
    violations: checkLabelInvariant(input.model, input.unit, input.composeFiles),
    drifted,
    stale: findStaleInspected(input.inspected.filter((i) => !driftedIds.has(i.container.id)), input.model, input.stale),
  };
}
