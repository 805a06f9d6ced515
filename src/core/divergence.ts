// Does what podman shows differ from what the stack should be? Used by the periodic resync so that a
// stack is only reconciled (compose run) when something actually drifted, not every few minutes.
import type { DesiredState, ExpectedService, ObservedContainer } from './model.js';

export type Divergence =
  | { kind: 'none' }
  | { kind: 'missing'; services: string[] }
  | { kind: 'should-be-stopped'; containers: string[] }
  | { kind: 'should-be-removed'; containers: string[] };

export function findDivergence(desired: DesiredState, expected: readonly ExpectedService[], containers: readonly ObservedContainer[]): Divergence {
  switch (desired) {
    case 'removed': {
      // `compose down` leaves nothing of the project: any container, in any state and of any service (one
      // the model no longer names too), is left over.
      const left = containers.map((c) => c.name);
      return left.length > 0 ? { kind: 'should-be-removed', containers: left } : { kind: 'none' };
    }
    case 'stopped': {
      // Stopped containers (exited, created) are what `compose stop` leaves; only a running one drifted.
      const running = containers.filter((c) => c.state === 'running').map((c) => c.name);
      return running.length > 0 ? { kind: 'should-be-stopped', containers: running } : { kind: 'none' };
    }
    case 'running': {
      // Only a service with no container at all counts: a container that exited is podman's restart policy's
      // business (and the health alerts'), so a crash-looping service never turns into a recreate loop here.
      const missing = expected.filter((svc) => !containers.some((c) => c.service === svc.name)).map((s) => s.name);
      return missing.length > 0 ? { kind: 'missing', services: missing } : { kind: 'none' };
    }
    default:
      return unreachable(desired);
  }
}

/** A new DesiredState must get its own branch above; this fails the type-check until it does. */
function unreachable(desired: never): never {
  throw new Error(`findDivergence: unknown desired state ${JSON.stringify(desired)}`);
}

export interface UpToDateInput {
  /** fingerprint of the inputs now */
  fingerprint?: string;
  /** fingerprint of the inputs at the last successful `up` */
  upFingerprint?: string;
  lastResultFailed: boolean;
  expected: readonly ExpectedService[];
  containers: readonly ObservedContainer[];
}

/**
 * For a stack whose desired state is running only (stop and down look at the containers alone).
 * True when running `compose up` again could change nothing: the inputs are those of the last successful
 * `up`, every long-running service has a running container, one-shots have one, and nothing is starting
 * or unhealthy (those go through preflight's stale-health check instead of being skipped).
 */
export function isUpToDate(i: UpToDateInput): boolean {
  if (!i.fingerprint || i.fingerprint !== i.upFingerprint || i.lastResultFailed) return false;
  if (i.containers.some((c) => c.health === 'unhealthy' || c.health === 'starting')) return false;
  return i.expected.every((svc) => {
    const mine = i.containers.filter((c) => c.service === svc.name);
    return svc.oneShot ? mine.length > 0 : mine.some((c) => c.state === 'running');
  });
}
