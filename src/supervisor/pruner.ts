// The daily prune (cleanup.pruneEvery) and the second half of `stackctl gc`: stopped containers older than
// cleanup.maxAge that no configured stack owns, dangling images no container uses (except rollback targets),
// and the failed state of podman's transient units. Decisions are src/core/prune.ts; this only acts on them.
import type { Logger } from 'pino';
import type { Config } from '../core/config-types.js';
import { selectDanglingImages, selectFailedTransientUnits, selectPrunableContainers, toPruneContainer } from '../core/prune-plan.js';
import { parseListUnits } from '../core/timer-orphans.js';
import type { PodmanPort, SystemctlPort } from './ports.js';

export interface PrunerDeps {
  podman: Pick<PodmanPort, 'listContainers' | 'removeContainer' | 'listImages' | 'removeImage'>;
  systemctl: Pick<SystemctlPort, 'listUnits' | 'resetFailed'>;
  config: () => Pick<Config, 'cleanup' | 'stacks'>;
  now: () => number;
  /** image ids kept as rollback targets (none exist before the updater does) */
  keepImageIds?: () => ReadonlySet<string>;
  /** projects of stacks that left the config: removedStacks decides their fate, not the prune */
  keepProjects?: () => ReadonlySet<string>;
}

export interface PruneReport {
  containers: { id: string; name: string; ageMs: number }[];
  images: { id: string; wasNamed?: string }[];
  resetUnits: string[];
  /** found but left in place, with podman's or systemctl's reason (e.g. started meanwhile, image in use) */
  skipped: { what: string; why: string }[];
  lines: string[];
}

export class Pruner {
  constructor(private readonly deps: PrunerDeps) {}

  async run(log: Logger): Promise<PruneReport> {
    const report: PruneReport = { containers: [], images: [], resetUnits: [], skipped: [], lines: [] };
    await this.containers(report, log);
    await this.images(report, log);
    await this.units(report, log);
    report.lines = renderLines(report);
    return report;
  }

  private async containers(report: PruneReport, log: Logger): Promise<void> {
    const cfg = this.deps.config();
    const owned = new Set([...cfg.stacks.map((s) => s.project), ...(this.deps.keepProjects?.() ?? [])]);
    const all = (await this.deps.podman.listContainers({ all: true })).map((raw, i) => toPruneContainer(raw, i));
    for (const { container: c, ageMs } of selectPrunableContainers(all, owned, this.deps.now(), cfg.cleanup.maxAgeMs)) {
      try {
        // not forced: a container started since the list answers 409 and stays
        await this.deps.podman.removeContainer(c.id, { force: false });
        report.containers.push({ id: c.id, name: c.name, ageMs });
        log.info({ container: c.name, id: c.id, state: c.state, ageMs, projects: c.projects }, 'pruned stopped container of no configured stack');
      } catch (err) {
        report.skipped.push({ what: `container ${c.name}`, why: message(err) });
        log.warn({ container: c.name, id: c.id, err }, 'could not prune stopped container');
      }
    }
  }

  private async images(report: PruneReport, log: Logger): Promise<void> {
    const keep = this.deps.keepImageIds?.() ?? new Set<string>();
    for (const img of selectDanglingImages(await this.deps.podman.listImages(), keep)) {
      try {
        await this.deps.podman.removeImage(img.id);
        report.images.push({ id: img.id, ...(img.wasNamed ? { wasNamed: img.wasNamed } : {}) });
        log.info({ image: img.id, wasNamed: img.wasNamed }, 'pruned dangling image');
      } catch (err) {
        // typically 409: a container made since the list uses it, or it is another image's parent
        report.skipped.push({ what: `image ${img.id.slice(0, 12)}`, why: message(err) });
        log.debug({ image: img.id, err }, 'dangling image not removed');
      }
    }
  }

  private async units(report: PruneReport, log: Logger): Promise<void> {
    const failed = selectFailedTransientUnits(parseListUnits(await this.deps.systemctl.listUnits()));
    if (failed.length === 0) return;
    const r = await this.deps.systemctl.resetFailed(failed);
    if (r.ok) {
      report.resetUnits.push(...failed);
      log.info({ units: failed }, "reset the failed state of podman's transient units");
    } else {
      report.skipped.push({ what: `reset-failed of ${failed.length} units`, why: r.stderr.trim() || `exit ${r.exitCode}` });
      log.warn({ units: failed, stderr: r.stderr.trim() }, "could not reset-failed podman's transient units");
    }
  }
}

function renderLines(r: PruneReport): string[] {
  const lines = [
    ...r.containers.map((c) => `removed stopped container ${c.name} (${c.id.slice(0, 12)}; stopped ${Math.round(c.ageMs / 60_000)}m ago, no configured stack owns it)`),
    ...r.images.map((i) => `removed dangling image ${i.id.slice(0, 12)}${i.wasNamed ? ` (was ${i.wasNamed})` : ''}`),
    ...r.resetUnits.map((u) => `reset failed unit ${u}`),
    ...r.skipped.map((s) => `left ${s.what}: ${s.why}`),
  ];
  if (lines.length === 0) lines.push('nothing to prune');
  return lines;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
