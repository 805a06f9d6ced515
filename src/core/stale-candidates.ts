// Stale-health candidates from inspected containers. The threshold uses each container's OWN healthcheck
// (inspect's Config.Healthcheck): the image may define one the compose file does not mention, and compose's
// one may have been overridden. The compose model's healthcheck is only the fallback.
import type { ComposeModel, HealthcheckSpec, ObservedContainer } from './model.js';
import { findStaleContainers, type StaleCandidate, type StaleOptions } from './stale-health.js';

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
