// Adopting a project podman-compose created: docker-compose will not reuse the project's network, because
// podman-compose never wrote the `com.docker.compose.network` label compose checks ("network X was found but
// has incorrect label …"), so the first `up` after the switch fails. When that network is labelled with this
// very project and podman-compose made it, stackd removes the project's podman-compose containers (compose
// would recreate them anyway: their config hash is podman-compose's, not compose's), then the network, and
// `up` runs once more and creates both again. Named volumes are never touched, so their data stays.
import type { Logger } from 'pino';
import { parseForeignNetwork } from '../core/compose-errors.js';
import type { ObservedContainer } from '../core/model.js';
import type { PodmanPort } from './ports.js';
import { removeProjectContainer } from './remove-container.js';

const PODMAN_COMPOSE_PROJECT = 'io.podman.compose.project';

/** true when the network compose refused was replaced and `up` is worth one more try */
export async function replacePodmanComposeNetwork(
  podman: Pick<PodmanPort, 'listProjectNetworks' | 'removeNetwork' | 'removeContainer'>,
  project: string,
  stderr: string,
  observe: () => Promise<ObservedContainer[]>,
  log: Logger,
): Promise<boolean> {
  const refused = parseForeignNetwork(stderr);
  if (!refused) return false;
  if (!(await podman.listProjectNetworks(project)).includes(refused.network)) {
    log.warn({ network: refused.network }, 'compose refused a network that is not labelled with this project; not touching it');
    return false;
  }
  const containers = await observe();
  const fromPodmanCompose = containers.filter((c) => c.labels[PODMAN_COMPOSE_PROJECT] === project);
  log.warn({ network: refused.network, containers: fromPodmanCompose.map((c) => c.name) },
    'the project\'s network was made by podman-compose and docker-compose will not reuse it; removing the project\'s podman-compose containers and the network so compose recreates them (volumes kept)');
  for (const c of fromPodmanCompose) await removeProjectContainer(podman, c.id, containers, log);
  try {
    await podman.removeNetwork(refused.network);
  } catch (err) {
    // still in use (a container of another project joined it): the compose failure stands, with this line
    log.warn({ network: refused.network, err }, 'could not remove the podman-compose network; remove what still uses it, then run stackctl up');
    return false;
  }
  return true;
}
