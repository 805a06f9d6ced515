// Issue 3 on the real lab: the owner's failure modes (label invariant, drifted labels, stale health,
// orphaned healthcheck timers, prune, check), each reproduced with real rootless podman, real
// docker-compose and the real systemd user manager. Assertions read podman and systemctl themselves.
// The tests run in order: each sets up what the next one needs (see the comments at each step).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE, Daemon, cleanup, configYaml, daemonMetrics, inspectContainer, podman, podmanOk, projectContainers, randomHex,
  removeProject, run, scratch, systemctlUser, unitActiveSinceMs, userUnitNames, waitFor, writeFiles,
} from './harness.js';

const SLEEP = `    image: ${BASE_IMAGE}\n    command: ["sleep", "100000"]\n`;

// `app` opts into auto-update without naming its unit: the owner's 52-errors-a-night case.
const BADLABEL = `services:
  ok:
${SLEEP}    labels:
      io.containers.autoupdate: registry
      PODMAN_SYSTEMD_UNIT: fm-badlabel.service
  app:
${SLEEP}    labels:
      io.containers.autoupdate: registry
`;

// `web` has a healthcheck, so it has a live `<id>-<hex>.timer` for the GC test.
const DRIFT = `services:
  web:
    image: ${BASE_IMAGE}
    command: ["sh", "-c", "echo ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
    labels:
      io.containers.autoupdate: registry
      PODMAN_SYSTEMD_UNIT: fm-drift.service
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 5s
      retries: 3
`;

// Both fail their check until /tmp/ready exists; inside the start period that keeps them `starting`. Their
// timers are stopped at once, so no check runs again: truly stuck. Threshold: 20s + 2s × 4 + 2s = 30s.
const STUCK_HC = `    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 2s
      timeout: 2s
      retries: 3
      start_period: 20s
`;
const STUCK = `services:
  stuck:
${SLEEP}${STUCK_HC}  keep:
${SLEEP}${STUCK_HC}`;
const STUCK_THRESHOLD_MS = 30_000;

// A dependency that is down: nothing listens on 127.0.0.1:1, so the check fails forever.
const DEPDOWN = `services:
  app:
${SLEEP}    healthcheck:
      test: ["CMD", "wget", "-q", "-T", "1", "-O", "/dev/null", "http://127.0.0.1:1/"]
      interval: 2s
      timeout: 2s
      retries: 1
`;

const OWNED = `services:
  main:
${SLEEP}`;

// never brought up (desired stopped): only `check` reads it
const WARN = `version: "3.8"
services:
  web:
    image: busybox
    command: ["sleep", "100000"]
  proxy:
    image: library/nginx:1.27
`;

const PROJECTS = ['fm-badlabel', 'fm-drift', 'fm-stuck', 'fm-depdown', 'fm-owned', 'fm-warn', 'fm-gone'];
const LOOSE_CONTAINERS = ['fm-old-x', 'fm-old-y', 'fm-badlabel-pre', 'fm-owned-x', 'fm-prune-old'];
const PRUNE_IMAGE = 'localhost/fm-prune-img:1';
const TIMER_MIN_AGE_MS = 30_000;
const MAX_AGE_MS = 120_000;

/** A podman-compose-era container: project label, podman-compose's unit label, auto-update on. */
function podmanComposeRun(name: string, project: string, service: string): Promise<string> {
  return podmanOk('run', '-d', '--name', name,
    '--label', `com.docker.compose.project=${project}`, '--label', `com.docker.compose.service=${service}`,
    '--label', `PODMAN_SYSTEMD_UNIT=podman-compose@${project}.service`, '--label', 'io.containers.autoupdate=registry',
    BASE_IMAGE, 'sleep', '100000');
}

async function foreignStoppedNearMaxAge(): Promise<string[]> {
  const list = JSON.parse((await podmanOk('ps', '-a', '--format', 'json')) || '[]') as
    { Names: string[]; State: string; ExitedAt: number; Created: number | string; Labels: Record<string, string> | null }[];
  const now = Date.now();
  return list.filter((c) => {
    const name = c.Names[0] ?? '';
    const labels = c.Labels ?? {};
    if (c.State === 'running' || c.State === 'paused' || LOOSE_CONTAINERS.includes(name)) return false;
    if (PROJECTS.includes(labels['com.docker.compose.project'] ?? '') || PROJECTS.includes(labels['io.podman.compose.project'] ?? '')) return false;
    const created = typeof c.Created === 'number' ? c.Created * 1000 : Date.parse(c.Created);
    const since = c.ExitedAt > 0 ? c.ExitedAt * 1000 : created;
    return now - since > MAX_AGE_MS - 30_000 && now - since < 15 * 60_000;
  }).map((c) => c.Names[0] ?? '?');
}

const ids = async (project: string): Promise<string[]> => (await projectContainers(project)).map((c) => c.id).sort();
const byService = async (project: string, service: string) =>
  (await projectContainers(project)).find((c) => c.labels['com.docker.compose.service'] === service);
const timersOf = (units: string[], id: string): string[] => units.filter((u) => u.startsWith(id) && u.endsWith('.timer'));
const epochMs = (rfc3339: string): number => Date.parse(rfc3339.replace(/(\.\d{3})\d+/, '$1'));

describe('failure modes: preflight, stale health, timer GC, prune, check on the real lab', () => {
  let dir: string;
  let daemon: Daemon;
  let autoUpdateTimerBefore = '';
  const madeUnits: string[] = [];
  const gcOutputs: string[] = [];
  const transcript: string[] = [];

  async function userRun(unit: string, ...args: string[]): Promise<void> {
    const r = await run(['systemd-run', '--user', '--unit', unit, ...args, '/bin/true']);
    if (r.code !== 0) throw new Error(`systemd-run ${unit} failed (${r.code}): ${r.stderr}`);
    madeUnits.push(`${unit}.timer`, `${unit}.service`);
  }

  /**
   * `stackctl gc` prunes EVERY stopped container older than cleanup.maxAge that this daemon's stacks do not
   * own, and the lab is shared with other test runs. Before each gc, wait until no other run's recently
   * stopped container is about to qualify (one stopped longer than 15 min is abandoned and fair game).
   */
  async function gc(beforeGc?: () => Promise<void>): Promise<string> {
    let atRisk: string[] = [];
    await waitFor(async () => {
      atRisk = await foreignStoppedNearMaxAge();
      return atRisk.length === 0;
    }, 300_000, 'stopped containers of other test runs to be restarted or removed before gc prunes them', () => atRisk.join(', '));
    // after the wait above, which may be long: whatever must be "brand new" at gc time is made now
    await beforeGc?.();
    const r = await daemon.ctl('gc');
    transcript.push(`$ stackctl gc → ${r.code}`, r.stdout, r.stderr);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    gcOutputs.push(r.stdout);
    return r.stdout;
  }

  beforeAll(async () => {
    for (const p of PROJECTS) await removeProject(p);
    await podman('rm', '-f', '-t', '0', ...LOOSE_CONTAINERS);
    await podman('rmi', '-f', PRUNE_IMAGE);
    dir = await scratch('failure-modes');

    // Made before the daemon starts: they age while the other tests run (prune needs > cleanup.maxAge).
    await podmanOk('run', '--name', 'fm-prune-old', '--label', 'com.docker.compose.project=fm-gone', BASE_IMAGE, 'true');
    // owned through podman-compose's project label only: ownership must read both label schemes
    await podmanOk('run', '--name', 'fm-owned-x', '--label', 'io.podman.compose.project=fm-owned', '--label', 'io.podman.compose.service=main', BASE_IMAGE, 'true');
    // podman-compose's labels on containers of two stacks (see the tests)
    await podmanComposeRun('fm-old-x', 'fm-drift', 'web');
    await podmanComposeRun('fm-badlabel-pre', 'fm-badlabel', 'app');

    await writeFiles(dir, {
      'badlabel/compose.yml': BADLABEL, 'drift/compose.yml': DRIFT, 'stuck/compose.yml': STUCK,
      'depdown/compose.yml': DEPDOWN, 'owned/compose.yml': OWNED, 'warn/compose.yml': WARN,
      // fm-owned and fm-warn stay stopped: the daemon never runs compose up for them
      'state.json': JSON.stringify({ version: 1, desired: { 'fm-owned': 'stopped', 'fm-warn': 'stopped' } }),
    });
    const stacks = ['badlabel', 'drift', 'stuck', 'depdown', 'owned', 'warn']
      .map((s) => `  - { name: fm-${s}, compose: [${dir}/${s}/compose.yml] }`).join('\n');
    const extra = `staleHealth: { startingFloor: 5s, unhealthyAfter: 3s, recheckWindow: 10m }
cleanup: { maxAge: ${MAX_AGE_MS / 1000}s, timerMinAge: ${TIMER_MIN_AGE_MS / 1000}s }`;
    // No periodic resync during the run: a reconcile it started would also run the timer GC, and the GC
    // test must see that `stackctl gc` is what removed the orphans.
    const yaml = configYaml(dir, stacks, { extra }).replace('  retryBase: 60s\n', '  retryBase: 60s\n  resync: 1h\n');
    expect(yaml).toContain('  resync: 1h\n');
    await writeFile(join(dir, 'stackd.yaml'), yaml);
    daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
    await daemon.start();

    // Make fm-stuck's containers truly stuck: stop their healthcheck timers while still in the start period.
    let stuckIds: string[] = [];
    await waitFor(async () => {
      stuckIds = (await projectContainers('fm-stuck')).filter((c) => c.state === 'running').map((c) => c.id);
      const units = await userUnitNames();
      return stuckIds.length === 2 && stuckIds.every((id) => timersOf(units, id).length === 1);
    }, 120_000, 'fm-stuck containers and their healthcheck timers');
    const units = await userUnitNames();
    for (const id of stuckIds) for (const t of timersOf(units, id)) expect((await systemctlUser('stop', t)).code).toBe(0);
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    // the daemon's log, for whoever reads a failure (the scratch dir is removed below)
    if (daemon) await writeFile(join(dir, '..', 'failure-modes-daemon.log'), daemon.logs);
    await writeFile(join(dir, '..', 'failure-modes-cli.txt'), transcript.join('\n'));
    if (autoUpdateTimerBefore && autoUpdateTimerBefore !== 'enabled') await systemctlUser('disable', 'podman-auto-update.timer');
    const left = new Set(await userUnitNames());
    const mine = madeUnits.filter((u) => left.has(u));
    if (mine.length) await systemctlUser('stop', ...mine);
    for (const p of PROJECTS) await removeProject(p);
    await podman('rm', '-f', '-t', '0', ...LOOSE_CONTAINERS);
    await podman('rmi', '-f', PRUNE_IMAGE);
    if (dir) await cleanup(dir);
  });

  it('label invariant: the stack fails naming the service and the line to add; nothing of it is created or removed; others converge', async () => {
    const s = await daemon.waitStack('fm-badlabel', (x) => x.lastResult !== undefined, 'a verdict');
    expect(s.state).toBe('failed');
    expect(s.lastResult?.reasonCode).toBe('label-invariant');
    expect(s.lastResult?.reason).toContain('service "app" has no PODMAN_SYSTEMD_UNIT label');
    expect(s.lastResult?.reason).toContain('`PODMAN_SYSTEMD_UNIT: fm-badlabel.service`');
    expect(s.lastResult?.reason).toContain(join(dir, 'badlabel/compose.yml'));
    expect(s.lastResult?.reason).not.toContain('service "ok"');
    // only the container made beforehand, untouched (even though its label is wrong): nothing created, nothing removed
    const left = await projectContainers('fm-badlabel');
    expect(left.map((c) => c.name)).toEqual(['fm-badlabel-pre']);
    expect(left[0]?.state).toBe('running');

    const drift = await daemon.waitStack('fm-drift', (x) => x.state === 'converged', 'converged');
    expect(drift.lastResult?.result).toBe('ok');
    for (const name of ['fm-stuck', 'fm-depdown']) {
      expect((await daemon.waitStack(name, (x) => x.lastResult !== undefined, 'a verdict')).lastResult?.result).toBe('ok');
    }
    expect(await daemonMetrics(daemon.socket)).toMatch(/stackd_preflight_violations_total\{stack="fm-badlabel",kind="label-invariant"\} [1-9]/);
  });

  it('drift: a podman-compose-labelled container made beforehand is removed and its service recreated with the right label', async () => {
    await daemon.waitStack('fm-drift', (x) => x.state === 'converged', 'converged');
    expect(await inspectContainer('fm-old-x')).toBeUndefined();
    const web = await byService('fm-drift', 'web');
    expect(web?.name).not.toBe('fm-old-x');
    expect(web?.labels['PODMAN_SYSTEMD_UNIT']).toBe('fm-drift.service');
    expect((await projectContainers('fm-drift')).every((c) => c.labels['PODMAN_SYSTEMD_UNIT'] === 'fm-drift.service')).toBe(true);
    // one log line: container, found, expected
    const line = daemon.logs.split('\n').find((l) => l.includes('wrong PODMAN_SYSTEMD_UNIT') && l.includes('"fm-old-x"'));
    expect(line, daemon.logs.slice(-3000)).toBeDefined();
    expect(JSON.parse(line ?? '{}')).toMatchObject({ stack: 'fm-drift', container: 'fm-old-x', found: 'podman-compose@fm-drift.service', expected: 'fm-drift.service' });
    expect(await daemonMetrics(daemon.socket)).toMatch(/stackd_preflight_violations_total\{stack="fm-drift",kind="drifted"\} 1\b/);
  });

  // Orphans of all three forms, old enough; made here so `check` sees them and the next test can GC them.
  const orphan = { bare: randomHex(64), suffixed: `${randomHex(64)}-${randomHex(16)}`, startup: `${randomHex(64)}-startup-${randomHex(8)}` };
  const fresh = `${randomHex(64)}-${randomHex(12)}`;
  const unrelated = `fm-unrelated-${randomHex(6)}`;
  let liveTimer = '';

  it('check reports the violation (with the line), drifted and stale containers, warnings and orphans, changing nothing', async () => {
    for (const u of Object.values(orphan)) await userRun(u, '--on-unit-inactive=30s');
    await userRun(unrelated, '--on-active=1h');
    // a drifted container of a converged stack, and podman's own auto-update timer enabled
    await podmanComposeRun('fm-old-y', 'fm-drift', 'web');
    autoUpdateTimerBefore = (await systemctlUser('is-enabled', 'podman-auto-update.timer')).stdout.trim() || 'unknown';
    expect((await systemctlUser('enable', 'podman-auto-update.timer')).code).toBe(0);

    // wait (on the real clocks) until the orphans are past timerMinAge and fm-stuck past its threshold
    await waitFor(async () => {
      const since = await Promise.all(Object.values(orphan).map((u) => unitActiveSinceMs(`${u}.timer`)));
      return since.every((t) => t !== undefined && Date.now() - t > TIMER_MIN_AGE_MS + 1500);
    }, 120_000, 'orphan timers older than timerMinAge');
    const stuck = await inspectContainer((await byService('fm-stuck', 'stuck'))?.id ?? 'missing');
    await waitFor(async () => Date.now() > epochMs(stuck?.State.StartedAt ?? '') + STUCK_THRESHOLD_MS + 2000, 60_000, 'fm-stuck past its threshold');
    expect(stuck?.State.Health?.Status).toBe('starting');
    await waitFor(async () => {
      const app = await inspectContainer((await byService('fm-depdown', 'app'))?.id ?? 'missing');
      return app?.State.Health?.Status === 'unhealthy' && app.State.Health.FailingStreak >= 3;
    }, 60_000, 'fm-depdown unhealthy for a while');
    // brand new: must survive the GC below
    await userRun(fresh, '--on-unit-inactive=30s');
    const web = await byService('fm-drift', 'web');
    liveTimer = timersOf(await userUnitNames(), web?.id ?? 'missing')[0] ?? '';
    expect(liveTimer).not.toBe('');

    // only what is ours: other tests may be creating and removing containers and timers meanwhile
    const snapshot = async () => {
      const containers = await Promise.all(PROJECTS.map(ids));
      const mine = new Set([...madeUnits]);
      const units = (await userUnitNames()).filter((u) => mine.has(u) || containers.flat().some((id) => u.startsWith(id))).sort();
      return { containers, units };
    };
    const before = await snapshot();
    const r = await daemon.ctl('check');
    transcript.push(`$ stackctl check → ${r.code}`, r.stdout, r.stderr);
    const after = await snapshot();
    expect(after).toEqual(before);

    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stderr).toContain('check: failed: fm-badlabel: 1 label-invariant violation(s)');
    const out = r.stdout;
    expect(out).toMatch(/^fm-badlabel: FAILED \(1 violation/m);
    expect(out).toMatch(/violation: service "app" .* sets io.containers.autoupdate=registry but has no PODMAN_SYSTEMD_UNIT label; add under its labels:/);
    expect(out).toContain('\n      PODMAN_SYSTEMD_UNIT: fm-badlabel.service\n');
    expect(out).toMatch(/drifted: container fm-old-y has PODMAN_SYSTEMD_UNIT=podman-compose@fm-drift.service, expected fm-drift.service/);
    // the container made beforehand for fm-badlabel is drifted too; check says so, the failed reconcile left it
    expect(out).toMatch(/drifted: container fm-badlabel-pre has PODMAN_SYSTEMD_UNIT=podman-compose@fm-badlabel.service/);
    expect(out).toMatch(/stale: container fm-stuck-stuck-1 \(service stuck\): health starting for \d+s, longer than 30s/);
    expect(out).toMatch(/stale: container fm-stuck-keep-1 \(service keep\): health starting/);
    expect(out).toMatch(/stale: container fm-depdown-app-1 \(service app\): health unhealthy/);
    expect(out).toMatch(/^fm-warn: ok \(.*warnings?\)$/m);
    expect(out).toMatch(/warning: .*warn\/compose.yml: top-level `version: "3.8"` is obsolete/);
    expect(out).toMatch(/warning: service "web": image "busybox" names no registry/);
    expect(out).toMatch(/warning: service "proxy": image "library\/nginx:1.27" names no registry/);
    expect(out).toMatch(/warning: service "web" has no healthcheck/);
    expect(out).toMatch(/warning: podman-auto-update.timer is enabled \(user scope\)/);
    for (const u of Object.values(orphan)) expect(out).toContain(`${u}.timer`);
    expect(out).not.toContain(fresh);
    expect(out).not.toContain(liveTimer);

    // one stack with warnings only: exit 0; --json carries the same findings as data
    const warnOnly = await daemon.ctl('check', 'fm-warn', '--json');
    expect(warnOnly.code, warnOnly.stderr).toBe(0);
    const report = (JSON.parse(warnOnly.stdout) as { output: { ok: boolean; stacks: { stack: string; warnings: { code: string }[] }[]; host: { databaseBackend: string } } }).output;
    expect(report.ok).toBe(true);
    expect(report.stacks.map((s) => s.stack)).toEqual(['fm-warn']);
    expect(report.stacks[0]?.warnings.map((w) => w.code).sort()).toEqual(
      ['image-no-registry', 'image-no-registry', 'no-healthcheck', 'no-healthcheck', 'obsolete-version'],
    );
    expect(report.host.databaseBackend).toBe('sqlite');
  });

  it('gc stops orphaned timers of all three forms; a live container\'s timer, a brand-new orphan and an unrelated timer survive', async () => {
    // `fresh` (made for check) may be past timerMinAge by now; this one is made right before gc runs
    const freshAtGc = `${randomHex(64)}-${randomHex(12)}`;
    const out = await gc(() => userRun(freshAtGc, '--on-unit-inactive=30s'));
    const units = await userUnitNames();
    for (const u of Object.values(orphan)) {
      expect(out).toContain(`stopped orphaned healthcheck unit ${u}.timer`);
      expect(units).not.toContain(`${u}.timer`);
    }
    expect(units).toContain(`${freshAtGc}.timer`);
    expect(out).not.toContain(freshAtGc);
    expect(units).toContain(liveTimer);
    expect(units).toContain(`${unrelated}.timer`);
    expect(await daemonMetrics(daemon.socket)).toMatch(/stackd_healthcheck_timers_removed_total ([3-9]|\d\d)/);
  });

  it('stale health: the next reconcile recreates the stuck container and keeps the one whose on-demand check passes', async () => {
    const stuckBefore = await byService('fm-stuck', 'stuck');
    const keepBefore = await byService('fm-stuck', 'keep');
    // keep's check would pass now, but its timer is stopped: only the on-demand check can tell
    await podmanOk('exec', keepBefore?.id ?? 'missing', 'touch', '/tmp/ready');
    expect((await inspectContainer(keepBefore?.id ?? 'missing'))?.State.Health?.Status).toBe('starting');

    const up = await daemon.ctl('up', 'fm-stuck');
    expect(up.code, up.stderr + up.stdout).toBe(0);
    const stuckAfter = await byService('fm-stuck', 'stuck');
    const keepAfter = await byService('fm-stuck', 'keep');
    expect(stuckAfter?.id).toBeDefined();
    expect(stuckAfter?.id).not.toBe(stuckBefore?.id);
    expect(await inspectContainer(stuckBefore?.id ?? 'missing')).toBeUndefined();
    expect(keepAfter?.id).toBe(keepBefore?.id);
    expect((await inspectContainer(keepAfter?.id ?? 'missing'))?.State.Health?.Status).toBe('healthy');
    expect(daemon.logs).toMatch(/"container":"fm-stuck-keep-1".*the on-demand healthcheck passed; keeping the container/);
    expect(daemon.logs).toMatch(/"container":"fm-stuck-stuck-1".*still failing; removing the container/);
  });

  it('drift appearing after convergence (the container check reported) is removed by the next reconcile', async () => {
    const up = await daemon.ctl('up', 'fm-drift');
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(await inspectContainer('fm-old-y')).toBeUndefined();
    expect((await byService('fm-drift', 'web'))?.labels['PODMAN_SYSTEMD_UNIT']).toBe('fm-drift.service');
  });

  it('a dead dependency: the unhealthy container is recreated once, not again within recheckWindow', async () => {
    const seen = new Set<string>();
    const unhealthyAWhile = async (): Promise<string> => {
      let id = '';
      await waitFor(async () => {
        const c = await byService('fm-depdown', 'app');
        const i = c ? await inspectContainer(c.id) : undefined;
        id = c?.id ?? '';
        return i?.State.Health?.Status === 'unhealthy' && i.State.Health.FailingStreak >= 3;
      }, 60_000, 'fm-depdown unhealthy for a while');
      seen.add(id);
      return id;
    };
    const first = await unhealthyAWhile();
    expect((await daemon.ctl('up', 'fm-depdown')).code).toBe(0);
    const second = await unhealthyAWhile();
    expect(second).not.toBe(first);
    for (let i = 0; i < 2; i++) {
      expect((await daemon.ctl('up', 'fm-depdown')).code).toBe(0);
      expect(await unhealthyAWhile()).toBe(second);
    }
    expect([...seen]).toEqual([first, second]);
    const skipped = daemon.logs.split('\n').filter((l) => l.includes('"stack":"fm-depdown"') && l.includes('again within recheckWindow'));
    expect(skipped.length).toBeGreaterThanOrEqual(2);
  });

  it('gc prunes an old stopped container of no stack and a dangling image; it keeps a stopped container a stack owns', async () => {
    // a dangling image: the same tag built twice
    const ctx = join(dir, 'img');
    await writeFiles(ctx, { Containerfile: `FROM ${BASE_IMAGE}\nRUN echo one > /v\n` });
    await podmanOk('build', '-q', '-t', PRUNE_IMAGE, ctx);
    const danglingId = (await podmanOk('image', 'inspect', '--format', '{{.Id}}', PRUNE_IMAGE)).trim();
    await writeFiles(ctx, { Containerfile: `FROM ${BASE_IMAGE}\nRUN echo two > /v\n` });
    await podmanOk('build', '-q', '-t', PRUNE_IMAGE, ctx);
    expect((await podmanOk('image', 'inspect', '--format', '{{.Id}}', PRUNE_IMAGE)).trim()).not.toBe(danglingId);

    // fm-prune-old may already be gone: an earlier gc (the timer test's) prunes it once it is old enough,
    // and the assertions below read every gc's output
    await waitFor(async () => {
      const ages = await Promise.all(['fm-prune-old', 'fm-owned-x'].map(async (n) => {
        const c = await inspectContainer(n);
        return c === undefined && n === 'fm-prune-old' ? 0 : epochMs(c?.State.FinishedAt ?? '');
      }));
      return ages.every((t) => Date.now() - t > MAX_AGE_MS + 2000);
    }, 240_000, 'the stopped containers older than cleanup.maxAge');
    const out = await gc();

    expect(await inspectContainer('fm-prune-old')).toBeUndefined();
    expect(gcOutputs.join('\n')).toMatch(/removed stopped container fm-prune-old \(/);
    expect((await inspectContainer('fm-owned-x'))?.State.Status).toBe('exited');
    expect(out).not.toContain('fm-owned-x');
    expect(out).toContain(`removed dangling image ${danglingId.slice(0, 12)}`);
    expect((await podman('image', 'exists', danglingId)).code).not.toBe(0);
    expect((await podman('image', 'exists', PRUNE_IMAGE)).code).toBe(0);
  });
});
