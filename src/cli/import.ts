// `stackctl import [--from-podman] [DIR…]`: prints a draft stackd config (src/core/import-plan.ts) from the
// compose labels of the host's containers (--from-podman: the podman API socket, STACKD_PODMAN_SOCKET or the
// rootless default $XDG_RUNTIME_DIR/podman/podman.sock) and/or from directories holding a compose file. Changes nothing; validate the result with `stackd --check-config`.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { draftStacks, renderDraftConfig, type ImportSource } from '../core/import-plan.js';
import type { OfflineCheckIo } from './offline-check.js';

const COMPOSE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export interface ImportDeps {
  /** the label sets of all containers; default: the podman API */
  listContainerLabels?: () => Promise<Record<string, string>[]>;
}

export async function importConfig(io: OfflineCheckIo & { uid: number }, opts: { fromPodman: boolean; dirs: string[] }, deps: ImportDeps = {}): Promise<number> {
  const sources: ImportSource[] = [];
  if (opts.fromPodman) {
    try {
      const labels = await (deps.listContainerLabels ?? (() => podmanLabels(io)))();
      sources.push(...labels.map((l) => ({ labels: l })));
    } catch (err) {
      io.stderr.write(`stackctl import: cannot list podman's containers (${err instanceof Error ? err.message : String(err)}); is podman.socket running?\n`);
      return 3;
    }
  }
  for (const d of opts.dirs) {
    const dir = path.resolve(io.cwd, d);
    let found: string | undefined;
    for (const n of COMPOSE_NAMES) {
      if (await access(path.join(dir, n)).then(() => true, () => false)) {
        found = path.join(dir, n);
        break;
      }
    }
    if (found === undefined) {
      io.stderr.write(`stackctl import: ${dir} holds none of ${COMPOSE_NAMES.join(', ')}; skipped\n`);
      continue;
    }
    sources.push({ dir: { path: dir, composeFile: found } });
  }
  const stacks = draftStacks(sources);
  if (stacks.length === 0) {
    // a draft without stacks is one stackd refuses: say what was looked at instead
    io.stderr.write('stackctl import: found no compose project (no container with compose labels, no compose file in the directories given); nothing to draft\n');
    return 1;
  }
  io.stdout.write(renderDraftConfig(stacks));
  return 0;
}

async function podmanLabels(io: OfflineCheckIo & { uid: number }): Promise<Record<string, string>[]> {
  const { PodmanClient } = await import('../adapters/podman-client.js');
  const socketPath = io.env.STACKD_PODMAN_SOCKET ?? `${io.env.XDG_RUNTIME_DIR || `/run/user/${io.uid}`}/podman/podman.sock`;
  const client = new PodmanClient({ socketPath });
  try {
    const list = await client.listContainers({ all: true });
    return list.map((c) => {
      const labels = typeof c === 'object' && c !== null && 'Labels' in c ? c.Labels : undefined;
      const out: Record<string, string> = {};
      if (typeof labels === 'object' && labels !== null) {
        for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
      }
      return out;
    });
  } finally {
    await client.close();
  }
}
