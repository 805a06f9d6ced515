// Removing a container that others share namespaces with (network_mode: "service:holder", or podman-compose's
// `--network container:holder`): podman refuses — "container X has dependent containers which must be removed
// before it: Y". When every dependent belongs to the same project, compose recreates them anyway, so they are
// removed first. Containers of other projects are never removed: then the refusal stands.
import type { Logger } from 'pino';
import { parseDependentContainers, type DependentContainersError } from '../core/compose-errors.js';
import type { ObservedContainer } from '../core/model.js';
import type { PodmanPort } from './ports.js';

/** The project's container that an id (full or short) names, if any. */
export function ownedBy(projectContainers: readonly ObservedContainer[], id: string): ObservedContainer | undefined {
  return projectContainers.find((c) => c.id.startsWith(id) || id.startsWith(c.id));
}

/** Removes the dependents podman named, if all are the project's; false when it would not. */
export async function removeDependents(
  podman: Pick<PodmanPort, 'removeContainer'>,
  dep: DependentContainersError,
  projectContainers: readonly ObservedContainer[],
  /** the reconcile's logger: it already carries the stack and the reconcile id */
  log: Logger,
): Promise<boolean> {
  if (!dep.dependents.every((id) => ownedBy(projectContainers, id))) {
    log.warn({ container: dep.container, dependents: dep.dependents }, 'containers sharing its namespaces belong to another project; not removing them');
    return false;
  }
  for (const id of dep.dependents) {
    log.warn({ container: ownedBy(projectContainers, id)?.name, holder: dep.container.slice(0, 12) },
      'removing a container that shares the namespace of one that must be replaced; compose recreates it');
    await podman.removeContainer(id, { force: true });
  }
  return true;
}

/** Force-removes a container of the project, first removing same-project dependents podman names. */
export async function removeProjectContainer(
  podman: Pick<PodmanPort, 'removeContainer'>,
  id: string,
  projectContainers: readonly ObservedContainer[],
  log: Logger,
): Promise<void> {
  try {
    await podman.removeContainer(id, { force: true });
  } catch (err) {
    const dep = parseDependentContainers(err instanceof Error ? err.message : String(err));
    if (!dep || !(await removeDependents(podman, dep, projectContainers, log))) throw err;
    await podman.removeContainer(id, { force: true });
  }
}

/**
 * compose recreates a container by first creating the new one as `<old id, 12 hex>_<name>`, then removing the
 * old one and renaming the new. When podman refused the removal (dependents), that new container stays behind
 * under the temporary name, and the retried `up` wants the same name again ("the container name
 * "2f01d07cf9df_f-holder-holder-1" is already in use"), unless compose happens to scale it away first. So it is
 * removed with the dependents: compose makes it again.
 */
export async function removeRecreateLeftover(
  podman: Pick<PodmanPort, 'removeContainer'>,
  holderId: string,
  projectContainers: readonly ObservedContainer[],
  log: Logger,
): Promise<void> {
  const holder = ownedBy(projectContainers, holderId);
  if (!holder) return;
  const temporary = `${holder.id.slice(0, 12)}_${holder.name}`;
  for (const c of projectContainers) {
    if (c.name !== temporary || c.id === holder.id) continue;
    log.warn({ container: c.name, id: c.id }, 'removing the container compose left under its temporary name when the recreate failed; compose makes it again');
    await podman.removeContainer(c.id, { force: true });
  }
}
