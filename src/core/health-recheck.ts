// The verdict of one on-demand healthcheck (GET /libpod/containers/{id}/healthcheck) on a stale candidate,
// and the key its rate limit is kept under. Fixtures: test/fixtures/libpod-healthcheck-run.*.json.
import type { ObservedContainer } from './model.js';

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
