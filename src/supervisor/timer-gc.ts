// Orphaned podman healthcheck units (owner's notes, Appendix F): `<64-hex id>[-startup][-<hex>].timer|.service`
// whose container is gone keep firing and fill the journal. Runs once reconciles have been quiet (2 s), every
// cleanup.gcEvery, and in `stackctl gc`. Only units matching HEALTHCHECK_UNIT_RE are ever stopped.
import type { Logger } from 'pino';
import type { Config } from '../core/config-types.js';
import { healthcheckContainerId, parseListUnits, selectOrphanUnits, type OrphanUnit } from '../core/timer-orphans.js';
import type { PodmanPort, SystemctlPort } from './ports.js';

export interface TimerGcDeps {
  systemctl: Pick<SystemctlPort, 'listUnits' | 'unitActiveEnterTimestamps' | 'stop' | 'resetFailed'>;
  podman: Pick<PodmanPort, 'listContainers'>;
  config: () => Pick<Config, 'cleanup'>;
  now: () => number;
  logger: Logger;
  onRemoved?: (count: number) => void;
}

const NOT_LOADED = /not loaded|not found/i;

export interface TimerGcReport {
  removed: OrphanUnit[];
  failed: { unit: string; error: string }[];
  lines: string[];
}

export class TimerGc {
  private running?: Promise<TimerGcReport>;
  private next?: Promise<TimerGcReport>;

  constructor(private readonly deps: TimerGcDeps) {}

  /**
   * One GC at a time. A call while one runs gets the NEXT run (that one lists after the call was made, so a
   * container removed just before the call has its timer judged); all calls during a run share that next run.
   */
  run(log: Logger = this.deps.logger): Promise<TimerGcReport> {
    if (!this.running) {
      this.running = this.once(log).finally(() => { this.running = undefined; });
      return this.running;
    }
    this.next ??= this.running.catch(() => undefined).then(() => {
      this.next = undefined;
      return this.run(log);
    });
    return this.next;
  }

  /**
   * The orphans as of now, changing nothing (for `stackctl check`). The units are listed FIRST, then the
   * containers: a container created in between is then in the list, so its brand-new timer is not an orphan.
   */
  async find(): Promise<OrphanUnit[]> {
    const units = parseListUnits(await this.deps.systemctl.listUnits(['*.timer', '*.service']));
    const containers = await this.deps.podman.listContainers({ all: true });
    const ids = new Set(containers.map(idOf).filter((id): id is string => id !== undefined));
    const healthcheckUnits = units.filter((u) => healthcheckContainerId(u.name) !== undefined).map((u) => u.name);
    const since = await this.deps.systemctl.unitActiveEnterTimestamps(healthcheckUnits);
    const now = this.deps.now();
    return selectOrphanUnits(
      units,
      ids,
      (u) => {
        const at = since[u.name];
        return at === undefined ? undefined : now - at;
      },
      this.deps.config().cleanup.timerMinAgeMs,
    );
  }

  private async once(log: Logger): Promise<TimerGcReport> {
    const orphans = await this.find();
    // timers first: a service stopped before its timer could be started again by it
    orphans.sort((a, b) => Number(a.name.endsWith('.service')) - Number(b.name.endsWith('.service')) || a.name.localeCompare(b.name));
    const removed: OrphanUnit[] = [];
    const failed: TimerGcReport['failed'] = [];
    for (const o of orphans) {
      const r = await this.deps.systemctl.stop([o.name]);
      if (r.ok) {
        removed.push(o);
        log.info({ unit: o.name, containerId: o.containerId, ageMs: o.ageMs }, 'stopped orphaned healthcheck unit (its container is gone)');
      } else if (NOT_LOADED.test(r.stderr)) {
        // A transient .service vanishes (systemd garbage-collects it) once its timer is stopped: the goal.
        log.debug({ unit: o.name }, 'orphaned healthcheck unit already gone');
      } else {
        failed.push({ unit: o.name, error: r.stderr.trim() || `exit ${r.exitCode}` });
        log.warn({ unit: o.name, exitCode: r.exitCode, stderr: r.stderr.trim() }, 'could not stop orphaned healthcheck unit');
      }
    }
    if (removed.length > 0) {
      // A stopped transient unit usually vanishes at once; one that failed earlier stays "failed" until reset.
      // "not loaded" answers for the vanished ones are expected, so the outcome only goes to the debug log.
      const reset = await this.deps.systemctl.resetFailed(removed.map((o) => o.name));
      if (!reset.ok) log.debug({ stderr: reset.stderr.trim() }, 'reset-failed of stopped healthcheck units');
      this.deps.onRemoved?.(removed.length);
    }
    return { removed, failed, lines: renderLines(removed, failed) };
  }
}

function renderLines(removed: readonly OrphanUnit[], failed: TimerGcReport['failed']): string[] {
  const lines = removed.map((o) => `stopped orphaned healthcheck unit ${o.name} (container ${o.containerId.slice(0, 12)} is gone; unit ${Math.round(o.ageMs / 1000)}s old)`);
  for (const f of failed) lines.push(`could not stop ${f.unit}: ${f.error}; try: systemctl --user stop ${f.unit}`);
  if (lines.length === 0) lines.push('no orphaned healthcheck units');
  return lines;
}

function idOf(raw: unknown): string | undefined {
  return typeof raw === 'object' && raw !== null && 'Id' in raw && typeof raw.Id === 'string' ? raw.Id : undefined;
}
