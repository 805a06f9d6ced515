// Inspect the containers that may be stale (list says running + starting/unhealthy): the list has neither
// the healthcheck spec nor when the failing streak began. Shared by preflight and check.
import type { ObservedContainer } from '../core/model.js';
import { parseInspect, parseInspectHealthcheck } from '../core/podman-parse.js';
import { mayBeStale, type InspectedContainer } from '../core/stale-candidates.js';
import type { PodmanHousekeepingPort } from './housekeeping-ports.js';

export async function inspectMaybeStale(
  podman: Pick<PodmanHousekeepingPort, 'inspectContainer'>,
  containers: readonly ObservedContainer[],
): Promise<InspectedContainer[]> {
  const out: InspectedContainer[] = [];
  for (const c of containers.filter(mayBeStale)) {
    const raw = await podman.inspectContainer(c.id);
    // gone since the list: nothing to judge
    if (raw === undefined) continue;
    out.push({ container: parseInspect(raw), healthcheck: parseInspectHealthcheck(raw) });
  }
  return out;
}
