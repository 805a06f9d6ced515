// Inspect the containers that may be stale (core's staleInspectTargets): the list has neither the healthcheck
// spec nor when the failing streak began. Shared by preflight and check.
import type { ObservedContainer } from '../core/model.js';
import { parseInspect, parseInspectHealthcheck } from '../core/podman-parse.js';
import type { InspectedContainer } from '../core/stale-health.js';
import type { PodmanPort } from './ports.js';

export async function inspectForHealth(
  podman: Pick<PodmanPort, 'inspectContainer'>,
  targets: readonly ObservedContainer[],
): Promise<InspectedContainer[]> {
  const out: InspectedContainer[] = [];
  for (const c of targets) {
    const raw = await podman.inspectContainer(c.id);
    // gone since the list: nothing to judge
    if (raw === undefined) continue;
    out.push({ container: parseInspect(raw), healthcheck: parseInspectHealthcheck(raw) });
  }
  return out;
}
