// The benchmarks' stack (issue 9): 3 busybox services, one healthchecked with a 10 s interval.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadState, saveState } from '../src/adapters/state-file.js';
import { Systemctl } from '../src/adapters/systemctl.js';
import type { Config } from '../src/core/config-types.js';
import { CONFIG_DEFAULTS } from '../src/core/config-schema.js';
import { buildPipeline, type PipelineDeps } from '../src/supervisor/pipeline.js';

export const COMPOSE = `services:
  web:
    image: localhost/busybox:lab
    init: true
    command: ["sh", "-c", "echo ok > /tmp/i; exec httpd -f -p 80 -h /tmp"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:80/i"]
      interval: 10s
      timeout: 5s
      retries: 3
  worker:
    image: localhost/busybox:lab
    init: true
    command: ["sleep", "1000000"]
  cron:
    image: localhost/busybox:lab
    init: true
    command: ["sleep", "1000000"]
`;

/** `n` stacks of COMPOSE in their own folders under `dir`, named `${prefix}-0` … */
export async function writeWorkload(dir: string, prefix: string, n: number): Promise<{ names: string[]; composeFile: (name: string) => string }> {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const composeFile = (name: string) => join(dir, name, 'compose.yml');
  for (const name of names) {
    await mkdir(join(dir, name));
    await writeFile(composeFile(name), COMPOSE);
  }
  return { names, composeFile };
}

/**
 * The config the in-process benches hand the production pipeline: `names` stacks, each with its compose file,
 * at `concurrency` (a number: fixed; 'auto': adaptive, as stackd's default), retries far off (a bench run that fails must show as failed, not be retried away).
 */
export function benchConfig(o: {
  socket: string; dir: string; stateFile: string; concurrency: number | 'auto'; names: string[]; composeFile: (name: string) => string; retryMs?: number;
}): Config {
  const retryMs = o.retryMs ?? 600_000;
  return {
    source: 'bench', podman: { socket: o.socket, composeCommand: ['podman', 'compose'], composeInfoCacheMs: 60_000 }, api: { socket: join(o.dir, 'api.sock') },
    queue: { concurrency: o.concurrency === 'auto' ? { min: 1, max: CONFIG_DEFAULTS.queue.maxConcurrency } : { min: o.concurrency, max: o.concurrency }, retryBaseMs: retryMs, retryMaxMs: retryMs, resyncMs: 3_600_000 },
    defaults: { startupTimeoutMs: 300_000, envWaitMs: 0, healthWindowMs: 0, repair: 'none' },
    staleHealth: { startingFloorMs: 120_000, unhealthyAfterMs: 300_000, recheckWindowMs: 1_800_000 },
    cleanup: { maxAgeMs: 14_400_000, timerMinAgeMs: 60_000, gcEveryMs: 3_600_000, pruneEveryMs: 86_400_000 },
    stateFile: o.stateFile, removedStacks: 'keep', notify: [],
    update: { mode: 'off', settleMs: 120_000, gateSlackMs: 30_000, notifyOnSuccess: false },
    stacks: o.names.map((name) => ({
      name, project: name, compose: [o.composeFile(name)], envFiles: [], unit: `${name}.service`,
      startupTimeoutMs: 300_000, envWaitMs: 0, healthWindowMs: 0, repair: 'none', update: 'off',
    })),
  };
}

/**
 * The production pipeline (src/supervisor/pipeline.ts) on the given adapters: all of the config's stacks
 * requested at once, timed from the first request until every job has its verdict; the supervisor is stopped.
 */
export async function upAll(deps: Omit<PipelineDeps, 'systemctl' | 'stateStore' | 'probeComposeProvider'>, timeoutMs: number): Promise<{ ms: number; failed: string[] }> {
  const stateFile = deps.config.stateFile;
  const { supervisor, housekeeping } = buildPipeline({
    ...deps,
    systemctl: new Systemctl({ parentEnv: process.env }),
    stateStore: { load: (projectOf) => loadState(stateFile, projectOf), save: (st) => saveState(stateFile, st) },
    probeComposeProvider: async () => ({ ok: true, provider: 'docker-compose', version: '', detail: 'assumed by the bench' }),
  });
  await supervisor.load();
  const names = deps.config.stacks.map((s) => s.name);
  const t0 = performance.now();
  const jobs = await Promise.all(names.map((n) => supervisor.request(n, 'up')));
  const done = await Promise.all(jobs.map((j) => supervisor.waitJob(j.id, timeoutMs)));
  const ms = performance.now() - t0;
  await supervisor.stop();
  // the timer GC a reconcile started runs beside the queue: let it end before the caller closes podman
  await housekeeping.stop();
  return { ms, failed: done.filter((j) => j?.status !== 'done').map((j) => j?.error ?? 'no verdict') };
}
