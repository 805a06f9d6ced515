// `compose up` with the repairs stackd knows, shared by the reconciler and the updater (an update's `up` and its
// rollback's recreate a changed service just as a reconcile does, and meet the same failures). Each repair, in
// this order, reads the stderr of the latest failed `up` and, when it is its case and it cleared it, `up` runs
// once more; anything else is the verdict:
//   - a network holder (network_mode: "service:…") podman will not remove while its dependents exist
//   - a network podman-compose created, which docker-compose refuses to reuse
import type { Logger } from 'pino';
import { parseDependentContainers } from '../core/compose-errors.js';
import type { StackConfig } from '../core/config-types.js';
import type { ObservedContainer } from '../core/model.js';
import { replacePodmanComposeNetwork } from './adopt-network.js';
import { removeDependents, removeRecreateLeftover } from './remove-container.js';
import type { ComposeOutcome, ComposePort, ComposeSpec, PodmanPort } from './ports.js';

/** The podman calls the repairs make. */
export type UpRepairPodman = Pick<PodmanPort, 'removeContainer' | 'listProjectNetworks' | 'removeNetwork'>;

export async function upWithRepairs(
  compose: Pick<ComposePort, 'up'>,
  podman: UpRepairPodman,
  stack: StackConfig,
  spec: ComposeSpec,
  observe: () => Promise<ObservedContainer[]>,
  /** the caller's logger: it already carries the stack (and the reconcile id) */
  log: Logger,
): Promise<ComposeOutcome> {
  let up = await compose.up(spec);
  if (!up.ok && (await freeNamespaceHolder(podman, up.stderr, observe, log))) up = await compose.up(spec);
  // the second repair reads the stderr of the latest `up`: the retry after the first may have met it
  if (!up.ok && (await replacePodmanComposeNetwork(podman, stack.project, up.stderr, observe, log))) up = await compose.up(spec);
  return up;
}

/**
 * compose could not recreate a container because others of the SAME project share its namespaces
 * (the network-holder pattern): remove those dependents so the one retry of `up` recreates them too.
 * Containers of other projects are never removed; then the failure stands.
 */
async function freeNamespaceHolder(podman: UpRepairPodman, stderr: string, observe: () => Promise<ObservedContainer[]>, log: Logger): Promise<boolean> {
  const dep = parseDependentContainers(stderr);
  if (!dep) return false;
  const containers = await observe();
  if (!(await removeDependents(podman, dep, containers, log))) return false;
  await removeRecreateLeftover(podman, dep.container, containers, log);
  return true;
}
