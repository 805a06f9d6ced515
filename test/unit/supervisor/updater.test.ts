// The Updater (src/supervisor/updater.ts) against an in-memory world of images, a registry and containers
// (image-world.ts): what a run reports, what it pulls, tags and recreates, the health gate, the rollback and its
// memory, resuming an apply a killed stackd left behind, and how it shares a stack's slot with reconciles.
import { describe, expect, it } from 'vitest';
import type { ReconcileResult } from '../../../src/core/model.js';
import type { UpdateReport, UpdateRow } from '../../../src/core/update/types.js';
import { ReconcileQueue } from '../../../src/supervisor/reconcile-queue.js';
import { PIN_REPOSITORY, Updater } from '../../../src/supervisor/updater.js';
import { deferred, settle, T0, until } from './fakes.js';
import { behave, digestOf, imageId, ImageWorld, short, type Behaviour, type ServiceSpec } from './image-world.js';

const APP = 'localhost:5000/app:v1';
const APP_REPO = 'localhost:5000/app';
const DB = 'docker.io/library/postgres:16';
/** the pin tag an apply started at T0 (2026-11-26T12:00:00Z) writes for shop/app */
const PIN = `${PIN_REPOSITORY}/shop-app:20261126120000`;
const OK: ReconcileResult = { result: 'ok', startedAt: '', finishedAt: '', durationMs: 0 };

/** shop: app (labelled registry, healthcheck unless told) on app-v1, and an unlabelled db. */
function shop(opts: { healthcheck?: boolean; v1?: Behaviour } = {}) {
  const w = new ImageWorld();
  w.image('app-v1', opts.v1 ?? (opts.healthcheck === false ? behave.runs() : behave.healthyAfter(1)), { tags: [APP] });
  w.image('postgres-16', behave.runs(), { tags: [DB] });
  const stack = w.addStack('shop', [
    { name: 'app', reference: APP, policy: 'registry', healthcheck: opts.healthcheck ?? true },
    { name: 'db', reference: DB },
  ]);
  return { w, stack };
}

/** An Updater over the world, collecting every report and its log tails. */
function updater(w: ImageWorld, update: Parameters<ImageWorld['config']>[0] = {}) {
  const reports: { report: UpdateReport; tails: Map<string, string> }[] = [];
  const u = new Updater(w.deps(w.config(update), { onReport: (report, tails) => reports.push({ report, tails }) }));
  return { u, reports };
}

const cols = (r: UpdateRow) => ({ stack: r.stack, service: r.service, Updated: r.Updated, ...(r.Reason !== undefined ? { Reason: r.Reason } : {}) });
const pulls = (w: ImageWorld) => w.log.filter((l) => l.startsWith('pull '));
const tagsOf = (w: ImageWorld) => w.log.filter((l) => l.startsWith('tag '));
const ups = (w: ImageWorld) => w.upSpecs.map((s) => `${s.project}${s.pullNever ? ' --pull never' : ''}`);

/** The stack is not half-applied: each container runs the image its reference points to, and is running. */
function expectConsistent(w: ImageWorld, project: string, service: string, reference: string, image: string) {
  const c = w.container(project, service);
  expect(w.nameOf(c?.imageId), `${project}/${service} runs`).toBe(image);
  expect(w.nameOf(w.tagged(reference)), `${reference} points to`).toBe(image);
  expect(c?.condition.state).toBe('running');
}

describe('a run with nothing to apply', () => {
  it('nothing new: rows false; no pull, no tag, no compose call, no slot taken, nothing saved', async () => {
    const { w } = shop();
    const { u, reports } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'false' }]); // db is not labelled: not in the report
    expect(r).toMatchObject({ ok: true, dryRun: false, rateLimited: [], startedAt: new Date(T0).toISOString() });
    expect(r.rows[0]).toMatchObject({ Unit: 'shop.service', Image: APP, Policy: 'registry', ContainerName: 'shop-app-1' });
    expect(w.checks).toEqual([APP]);
    expect(pulls(w)).toEqual([]);
    expect(tagsOf(w)).toEqual([]);
    expect(w.upSpecs).toEqual([]);
    expect(w.exclusiveCalls).toEqual([]);
    expect(w.updateState.saves).toEqual([]);
    expect(reports.map((x) => x.report)).toEqual([r]);
  });

  it('redacts what the rows show: an image reference built from an env value, in the report and in the reasons', async () => {
    const secretRef = 'localhost:5000/app-s3cret-name:v1';
    const w = new ImageWorld();
    w.image('app-v1', behave.healthyAfter(1), { tags: [secretRef] });
    w.files.set('/run/secrets/shop.env', 'SUFFIX=name\nAPP_NAME="app-s3cret-${SUFFIX}"\n');
    w.addStack('shop', [{ name: 'app', reference: secretRef, policy: 'registry', container: false }], { envFiles: ['/run/secrets/shop.env'] });
    const { u, reports } = updater(w);
    const r = await u.run({ dryRun: true });
    expect(r.rows.map((row) => row.Image)).toEqual(['localhost:5000/***:v1']);
    expect(JSON.stringify(r)).not.toContain('s3cret');
    expect(JSON.stringify(reports.map((x) => x.report))).not.toContain('s3cret');
  });

  const AT_DIGEST = `${APP_REPO}@${digestOf('app-v1')}`;
  it.each<[string, UpdateRow['Updated'], RegExp, ServiceSpec[], { update?: 'off' | 'monitor' | 'apply'; model?: boolean }]>([
    ['update: off for the stack', 'skipped', /^update: off for this stack$/, [{ name: 'app', reference: APP, policy: 'registry' }], { update: 'off' }],
    ['pinned by digest', 'skipped', /^pinned by digest; change the digest/, [{ name: 'app', reference: AT_DIGEST, policy: 'registry', runs: 'app-v1' }], {}],
    ['build-only (no image)', 'skipped', /^no image: the service is built from source/, [{ name: 'app', policy: 'registry', build: true }], {}],
    ['built with an image name, registry policy', 'skipped', /^built from source \(build:\)/, [{ name: 'app', reference: APP, policy: 'registry', build: true }], {}],
    ['no container (stack stopped)', 'skipped', /^no container for this service/, [{ name: 'app', reference: APP, policy: 'registry', container: false }], {}],
    ['podman\'s old spelling image= is registry', 'false', /^$/, [{ name: 'app', reference: APP, policy: 'image' }], {}],
    ['a stack never reconciled (no model)', 'failed', /has not been reconciled yet.*run: stackctl up shop$/, [{ name: 'app', reference: APP, policy: 'registry' }], { model: false }],
  ])('%s → %s', async (_what, updated, reason, services, opts) => {
    const w = new ImageWorld();
    w.image('app-v1', behave.healthyAfter(1), { tags: [APP] });
    w.publish(APP, 'app-v2', behave.healthyAfter(1)); // something newer exists: only the skip keeps it out
    w.addStack('shop', services, opts.update ? { update: opts.update } : {}, opts.model === false ? { model: false } : {});
    if (updated === 'false') w.publish(APP, 'app-v1', behave.healthyAfter(1));
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]?.Updated).toBe(updated);
    expect(r.rows[0]?.Reason ?? '').toMatch(reason);
    expect(r.ok).toBe(updated !== 'failed');
    if (updated !== 'false') expect(w.checks).toEqual([]); // a skipped or unknown service costs no registry request
    expect(pulls(w)).toEqual([]);
    expect(tagsOf(w)).toEqual([]);
    expect(w.upSpecs).toEqual([]);
    expect(w.updateState.saves).toEqual([]);
  });

  it('only the stack asked for is looked at', async () => {
    const { w } = shop();
    w.image('web-1', behave.runs(), { tags: ['localhost:5000/web:1'] });
    w.addStack('blog', [{ name: 'web', reference: 'localhost:5000/web:1', policy: 'registry' }]);
    const { u } = updater(w);
    const r = await u.run({ stack: 'blog', dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'blog', service: 'web', Updated: 'false' }]);
    expect(w.checks).toEqual(['localhost:5000/web:1']);
  });
});

describe('an update that passes its health gate', () => {
  it('is kept: row true, the container on the pulled image, every step saved in order, then cleared; the pin points at the previous image', async () => {
    const { w } = shop();
    const before = w.container('shop', 'app');
    const db = w.container('shop', 'db');
    const v2 = w.publish(APP, 'app-v2', behave.healthyAfter(3));
    const { u, reports } = updater(w);
    const r = await u.run({ dryRun: false });

    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'true' }]);
    expect(r.rows[0]?.remoteDigest).toBe(v2.digest);
    expect(r.ok).toBe(true);
    const after = w.container('shop', 'app');
    expect(after?.id).not.toBe(before?.id);
    expect(after?.imageId).toBe(v2.id);
    expect(after?.condition).toEqual({ state: 'running', health: 'healthy' });
    expectConsistent(w, 'shop', 'app', APP, 'app-v2');
    expect(w.container('shop', 'db')?.id).toBe(db?.id); // an unlabelled service is left alone

    expect(w.updateState.steps('shop')).toEqual(['pinned', 'pulled', 'retagged', 'up', 'cleared']);
    expect(w.updateState.saves[0]?.inProgress).toEqual([{
      stack: 'shop', step: 'pinned', startedAt: new Date(T0).toISOString(),
      services: [{ service: 'app', reference: APP, previousImageId: imageId('app-v1'), pinTag: PIN, targetDigest: v2.digest }],
    }]);
    expect(w.updateState.state).toEqual({ badDigests: [], inProgress: [] });
    expect(w.pins()).toEqual({ [PIN]: 'app-v1' });

    // in the stack's slot: pin, pull by digest, re-tag, up (pulling allowed), recreate
    expect(w.log).toEqual([
      'exclusive shop start',
      `tag app-v1 ${PIN}`,
      `pull ${v2.pullRef}`,
      `tag app-v2 ${APP}`,
      'up shop',
      `recreate shop/app app-v2 ${short(after?.id ?? '')}`,
      'exclusive shop end',
    ]);
    expect(w.upSpecs[0]).toMatchObject({ project: 'shop', composeFiles: ['/srv/shop/compose.yml'], pullNever: false, timeoutMs: 300_000 });
    expect(w.clock.ms - T0).toBe(3 * 2_000); // starting for 3 polls, 2s apart
    expect(u.keepImageIds().size).toBe(0);
    expect(reports[0]?.tails.size).toBe(0);

    // the registry has nothing newer now
    const again = await u.run({ dryRun: false });
    expect(again.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'false' }]);
    expect(pulls(w)).toHaveLength(1);
  });

  it('is a deploy: its `up` opens the stack\'s health watch window (deployFinishedAtMs), as a reconcile\'s does', async () => {
    const { w } = shop();
    expect(w.store.get('shop').deployFinishedAtMs).toBeUndefined();
    w.publish(APP, 'app-v2', behave.healthyAfter(3));
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'true' }]);
    // set when compose up returned, before the gate's polls (3 × 2 s) moved the clock on
    expect(w.store.get('shop').deployFinishedAtMs).toBe(T0);
    expect(w.clock.ms).toBeGreaterThan(T0);
    // and the stack's status shows the run's outcome (the status page's "update" column)
    expect(w.store.get('shop').lastUpdate).toEqual({ result: 'updated', finishedAt: new Date(w.clock.ms).toISOString() });
  });

  it('podman 19326 (no healthcheck timer): the gate runs the check on demand and the update passes', async () => {
    const { w } = shop();
    const v2 = w.publish(APP, 'app-v2', behave.healthyWhenChecked());
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'true' }]);
    expect(w.log.filter((l) => l.startsWith('healthcheck '))).toHaveLength(1);
    expect(w.container('shop', 'app')?.imageId).toBe(v2.id);
    // interval 5s + timeout 3s of `starting` before the check is run
    expect(w.clock.ms - T0).toBeGreaterThanOrEqual(8_000);
    expect(w.clock.ms - T0).toBeLessThan(28_000);
  });

  it('the local policy: a rebuilt image under the reference is run without a pull or a re-tag', async () => {
    const w = new ImageWorld();
    const LOCAL = 'localhost/tool:dev';
    w.image('tool-1', behave.runs(), { tags: [LOCAL], local: true });
    w.addStack('lab', [{ name: 'tool', reference: LOCAL, policy: 'local' }]);
    w.image('tool-2', behave.runs(), { tags: [LOCAL], local: true }); // rebuilt: the tag moves on
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'lab', service: 'tool', Updated: 'true' }]);
    expect(w.runs('lab', 'tool')).toBe('tool-2');
    expect(pulls(w)).toEqual([]);
    expect(tagsOf(w)).toEqual([`tag tool-1 ${PIN_REPOSITORY}/lab-tool:20261126120000`]);
    expect(w.checks).toEqual([]); // the local policy never asks a registry
    const again = await u.run({ dryRun: false });
    expect(again.rows.map(cols)).toEqual([{ stack: 'lab', service: 'tool', Updated: 'false' }]);
  });
});

describe('an update that fails its health gate', () => {
  // healthcheck interval 5s, timeout 3s, retries 3, no start period, slack 10s: healthy by 28s or not at all
  it.each<[string, Behaviour, RegExp, { ignoreUp?: boolean; tail?: string }]>([
    ['still starting past the deadline', behave.staysStarting(), /^service app: still starting after 28s \(start_period \+ retries × interval \+ timeout \+ slack\)$/, { tail: 'app-v2' }],
    ['unhealthy', behave.unhealthyAfter(2), /^service app: its healthcheck failed \(unhealthy\)$/, { tail: 'app-v2' }],
    ['exits', behave.exitsAfter(2, 3, 'starting'), /^service app: the container is exited \(exit 3\)$/, { tail: 'app-v2' }],
    ['restarts', behave.restartsAfter(2, 'starting'), /^service app: the container restarted 1 time\(s\)$/, { tail: 'app-v2' }],
    ['sits in restarting', behave.restartingAfter(2), /^service app: the container is restarting$/, { tail: 'app-v2' }],
    ['is removed', behave.goneAfter(2), /^service app: the container is gone$/, {}],
    ['runs another image (compose did not recreate it)', behave.healthyAfter(1),
      new RegExp(`^service app: the container runs image ${short(imageId('app-v1'))}, not ${short(imageId('app-v2'))}$`), { ignoreUp: true, tail: 'app-v1' }],
  ])('%s → rolled back, the bad digest remembered, skipped next time, a newer digest tried again', async (_what, v2behaviour, reason, opts) => {
    const { w } = shop();
    const v2 = w.publish(APP, 'app-v2', v2behaviour);
    if (opts.ignoreUp) w.upIgnores.add('shop/app');
    const { u, reports } = updater(w);
    const r = await u.run({ dryRun: false });

    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]?.Updated).toBe('rolled back');
    expect(r.rows[0]?.Reason).toMatch(reason);
    expect(r.ok).toBe(false);
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
    expect(w.container('shop', 'app')?.condition.health).toBe('healthy'); // the rollback passed its own gate
    expect(ups(w)).toEqual(['shop', 'shop --pull never']);
    expect(w.updateState.steps('shop')).toEqual(['pinned', 'pulled', 'retagged', 'up', 'rolling-back', 'cleared']);
    const state = w.updateState.state;
    expect(state.inProgress).toEqual([]);
    expect(state.badDigests).toHaveLength(1);
    expect(state.badDigests[0]).toMatchObject({ reference: APP, digest: v2.digest, stack: 'shop', service: 'app', at: expect.any(String) });
    expect(state.badDigests[0]?.reason).toMatch(reason);
    // the failing container's last words go with the report
    const tail = reports[0]?.tails.get('shop/app');
    if (opts.tail) expect(tail).toContain(`on ${opts.tail}`);
    else expect(tail).toBeUndefined();

    // the same digest again: skipped, never pulled again
    w.upIgnores.clear();
    const second = await u.run({ dryRun: false });
    expect(second.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'skipped', Reason: expect.stringMatching(/^bad digest sha256:[0-9a-f]{12}… \(rolled back 2026-11-26T.*\); waiting for a newer one$/) }]);
    expect(second.ok).toBe(true);
    expect(pulls(w)).toEqual([`pull ${v2.pullRef}`]);
    expect(w.upSpecs).toHaveLength(2);
    // a run that only skipped the stack leaves its last update as the rollback
    expect(w.store.get('shop').lastUpdate).toEqual({ result: 'rolled back', finishedAt: r.finishedAt });

    // the registry moves on: the newer digest is tried (and this one is fine)
    const v3 = w.publish(APP, 'app-v3', behave.healthyAfter(1));
    const third = await u.run({ dryRun: false });
    expect(third.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'true' }]);
    expect(pulls(w)).toEqual([`pull ${v2.pullRef}`, `pull ${v3.pullRef}`]);
    expectConsistent(w, 'shop', 'app', APP, 'app-v3');
    expect(w.updateState.state.badDigests.map((b) => b.digest)).toEqual([v2.digest]);
  });

  it('compose up itself fails: rolled back with compose\'s error as the reason', async () => {
    const { w } = shop();
    const v2 = w.publish(APP, 'app-v2', behave.healthyAfter(1));
    w.scriptUp({ kind: 'fail', stderr: 'Error response from daemon: crun: executable file `/app` not found' });
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'rolled back', Reason: 'compose up failed: Error response from daemon: crun: executable file `/app` not found' }]);
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
    expect(w.updateState.state.badDigests.map((b) => b.digest)).toEqual([v2.digest]);
  });
});

describe('a network holder (network_mode: "service:app" in another service)', () => {
  const dependents = (holder: string, dependent: string) =>
    `Error response from daemon: container ${holder} has dependent containers which must be removed before it: ${dependent}: container already exists`;

  it('WAS A BUG: podman refuses to replace the holder while a dependent exists; the update was rolled back and the digest blamed → the dependent is removed and `up` runs again, as a reconcile does', async () => {
    const { w } = shop();
    const v2 = w.publish(APP, 'app-v2', behave.healthyAfter(1));
    const app = w.container('shop', 'app');
    const db = w.container('shop', 'db');
    if (!app || !db) throw new Error('no containers');
    w.scriptUp({ kind: 'fail', stderr: dependents(app.id, db.id) });
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'true' }]);
    expect(ups(w)).toEqual(['shop', 'shop']);
    expect(w.log).toContain(`rm ${short(db.id)}`);
    expectConsistent(w, 'shop', 'app', APP, 'app-v2');
    // the dependent was made again, joined to the new holder
    expect(w.container('shop', 'db')?.id).not.toBe(db.id);
    expect(w.container('shop', 'db')?.condition.state).toBe('running');
    expect(w.updateState.state.badDigests.map((b) => b.digest)).not.toContain(v2.digest);
  });

  it('the rollback meets the same refusal and is repaired the same way', async () => {
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.unhealthyAfter(1));
    const { u } = updater(w);
    // the update's own `up` goes through; the rollback's waits, then is refused once for the dependent
    const rollbackUp = deferred();
    w.scriptUp({ kind: 'ok' }, { kind: 'hold', until: rollbackUp.promise });
    const first = u.run({ dryRun: false });
    await until(() => w.upSpecs.length === 2, 'the rollback\'s up', 20_000);
    const app = w.container('shop', 'app');
    const db = w.container('shop', 'db');
    if (!app || !db) throw new Error('no containers');
    expect(w.nameOf(app.imageId)).toBe('app-v2');
    w.scriptUp({ kind: 'fail', stderr: dependents(app.id, db.id) });
    rollbackUp.resolve();
    const r = await first;
    expect(r.rows.map((x) => x.Updated)).toEqual(['rolled back']);
    expect(ups(w)).toEqual(['shop', 'shop --pull never', 'shop --pull never']);
    expect(w.log).toContain(`rm ${short(db.id)}`);
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
  });

  it('a dependent of another project is never removed: the update is rolled back with podman\'s refusal', async () => {
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.healthyAfter(1));
    const app = w.container('shop', 'app');
    if (!app) throw new Error('no app container');
    const foreign = 'f'.repeat(64);
    w.scriptUp({ kind: 'fail', stderr: dependents(app.id, foreign) });
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map((x) => x.Updated)).toEqual(['rolled back']);
    expect(r.rows[0]?.Reason).toMatch(/has dependent containers/);
    expect(w.log.filter((l) => l.startsWith('rm '))).toEqual([]);
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
  });
});

describe('a rollback that fails too', () => {
  it.each<[string, (w: ImageWorld) => void, RegExp]>([
    ['compose up fails on the rollback', (w) => w.scriptUp({ kind: 'ok' }, { kind: 'fail', stderr: 'Error response from daemon: netavark: port 8080 in use' }),
      /; rollback failed: compose up failed: Error response from daemon: netavark: port 8080 in use$/],
    ['compose up times out on the rollback', (w) => w.scriptUp({ kind: 'ok' }, { kind: 'timeout' }), /; rollback failed: compose up did not finish within 300s$/],
    ['re-tagging the previous image fails', (w) => w.fail('tagImage', new Error('image not known'), (arg) => arg === `${imageId('app-v1')} ${APP}`),
      /; rollback failed: image not known$/],
  ])('%s → failed with both reasons; the stack\'s lastResult is update-rollback-failed', async (_what, arrange, rollbackReason) => {
    const { w } = shop();
    const v2 = w.publish(APP, 'app-v2', behave.unhealthyAfter(1));
    arrange(w);
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]?.Updated).toBe('failed');
    expect(r.rows[0]?.Reason).toMatch(/^update failed: service app: its healthcheck failed \(unhealthy\); rollback failed: /);
    expect(r.rows[0]?.Reason).toMatch(rollbackReason);
    expect(r.ok).toBe(false);
    const last = w.store.get('shop').lastResult;
    expect(last).toMatchObject({ result: 'failed', reasonCode: 'update-rollback-failed', startedAt: new Date(T0).toISOString() });
    expect(last?.reason).toMatch(/^stack "shop": update failed: service app: its healthcheck failed \(unhealthy\); rollback failed: /);
    expect(last?.reason).toMatch(rollbackReason);
    expect(w.updateState.state.inProgress).toEqual([]);
    expect(w.updateState.state.badDigests.map((b) => b.digest)).toEqual([v2.digest]);
  });
});

describe('reporting without applying', () => {
  it.each([
    ['a dry run', { dryRun: true, update: 'apply' as const }, 'update available (dry run)'],
    ['update: monitor', { dryRun: false, update: 'monitor' as const }, 'update available (update: monitor)'],
  ])('%s → pending; nothing pulled, tagged or recreated', async (_what, { dryRun, update }, reason) => {
    const w = new ImageWorld();
    w.image('app-v1', behave.healthyAfter(1), { tags: [APP] });
    w.addStack('shop', [{ name: 'app', reference: APP, policy: 'registry', healthcheck: true }], { update });
    const before = w.container('shop', 'app')?.id;
    const v2 = w.publish(APP, 'app-v2', behave.healthyAfter(1));
    const { u } = updater(w);
    const r = await u.run({ dryRun });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'pending', Reason: reason }]);
    expect(r.rows[0]?.remoteDigest).toBe(v2.digest);
    expect(r).toMatchObject({ ok: true, dryRun });
    expect(pulls(w)).toEqual([]);
    expect(tagsOf(w)).toEqual([]);
    expect(w.upSpecs).toEqual([]);
    expect(w.exclusiveCalls).toEqual([]);
    expect(w.updateState.saves).toEqual([]);
    expect(w.container('shop', 'app')?.id).toBe(before);
    expect(w.nameOf(w.tagged(APP))).toBe('app-v1');
    // a dry run is not an update run: the stack's last update stays as it was; monitor's finding is news
    expect(w.store.get('shop').lastUpdate).toEqual(dryRun ? undefined : { result: 'available', finishedAt: r.finishedAt });
  });

  it('one reference shared by two services and two stacks is checked once per run (and applied to each)', async () => {
    const w = new ImageWorld();
    w.image('app-v1', behave.healthyAfter(1), { tags: [APP] });
    w.addStack('shop', [{ name: 'app', reference: APP, policy: 'registry', healthcheck: true }, { name: 'worker', reference: APP, policy: 'registry', healthcheck: true }]);
    w.addStack('blog', [{ name: 'web', reference: APP, policy: 'registry', healthcheck: true }]);
    w.publish(APP, 'app-v2', behave.healthyAfter(2));
    const { u } = updater(w);
    const dry = await u.run({ dryRun: true });
    expect(dry.rows.map((r) => `${r.stack}/${r.service} ${r.Updated}`)).toEqual(['shop/app pending', 'shop/worker pending', 'blog/web pending']);
    expect(w.checks).toEqual([APP]);
    const real = await u.run({ dryRun: false });
    expect(real.rows.map((r) => `${r.stack}/${r.service} ${r.Updated}`)).toEqual(['shop/app true', 'shop/worker true', 'blog/web true']);
    expect(w.checks).toEqual([APP, APP]);
    for (const [p, s] of [['shop', 'app'], ['shop', 'worker'], ['blog', 'web']] as const) expectConsistent(w, p, s, APP, 'app-v2');
    expect(w.exclusiveCalls).toEqual(['shop', 'blog']);
  });

  it('a rate-limited registry → failed rows and the registry in report.rateLimited; other registries go on', async () => {
    const w = new ImageWorld();
    const WEB = 'ghcr.io/acme/web:1';
    w.image('app-v1', behave.healthyAfter(1), { tags: [APP] });
    w.image('web-1', behave.runs(), { tags: [WEB] });
    w.addStack('shop', [{ name: 'app', reference: APP, policy: 'registry' }, { name: 'worker', reference: APP, policy: 'registry' }]);
    w.addStack('blog', [{ name: 'web', reference: WEB, policy: 'registry' }]);
    w.publish(APP, 'app-v2', behave.runs());
    w.scriptCheck(APP, { kind: 'failed', reason: 'localhost:5000 answered 429 Too Many Requests; retry after 60s', rateLimitedRegistry: 'localhost:5000' });
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([
      { stack: 'shop', service: 'app', Updated: 'failed', Reason: 'localhost:5000 answered 429 Too Many Requests; retry after 60s' },
      { stack: 'shop', service: 'worker', Updated: 'failed', Reason: 'localhost:5000 answered 429 Too Many Requests; retry after 60s' },
      { stack: 'blog', service: 'web', Updated: 'false' },
    ]);
    expect(r.rateLimited).toEqual(['localhost:5000']);
    expect(r.ok).toBe(false);
    expect(w.checks).toEqual([APP, WEB]);
    expect(pulls(w)).toEqual([]);
  });

  // a second reference on a rate-limited registry is not checked this run; its row says when the registry is
  // asked again: the end of the wait the 429 asked for (the registry client holds to it), else the next run
  const WAIT_ENDS = Date.parse('2026-11-26T13:00:00Z');
  it.each([
    ['a wait in force', { retryAtMs: WAIT_ENDS }, 'localhost:5000 rate-limited this run (429); stackd asks localhost:5000 again in the first run after 2026-11-26T13:00:00.000Z'],
    ['no wait asked for', {}, 'localhost:5000 rate-limited this run (429); the next run tries again'],
  ] as const)('another reference on a rate-limited registry, %s: failed, not checked, the row says when it is asked again', async (_what, wait, reason) => {
    const w = new ImageWorld();
    const WORKER = 'localhost:5000/worker:1';
    w.image('app-v1', behave.runs(), { tags: [APP] });
    w.image('worker-1', behave.runs(), { tags: [WORKER] });
    w.addStack('shop', [{ name: 'app', reference: APP, policy: 'registry' }, { name: 'worker', reference: WORKER, policy: 'registry' }]);
    w.scriptCheck(APP, { kind: 'failed', reason: 'localhost:5000 answered 429', rateLimitedRegistry: 'localhost:5000', ...wait });
    const r = await updater(w).u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([
      { stack: 'shop', service: 'app', Updated: 'failed', Reason: 'localhost:5000 answered 429' },
      { stack: 'shop', service: 'worker', Updated: 'failed', Reason: reason },
    ]);
    expect(w.checks).toEqual([APP]);
    expect(r.rateLimited).toEqual(['localhost:5000']);
  });

  it('a checker that throws → a failed row with its message, nothing applied', async () => {
    const { w } = shop();
    const u = new Updater(w.deps(w.config(), { check: async () => { throw new Error('registry unreachable: ECONNREFUSED'); } }));
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'failed', Reason: 'registry unreachable: ECONNREFUSED' }]);
    expect(w.upSpecs).toEqual([]);
  });
});

describe('concurrent runs', () => {
  it('a second run() while one runs joins it: the same report, one check per reference', async () => {
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.healthyAfter(1));
    const { u, reports } = updater(w);
    const held = w.holdCheck();
    const first = u.run({ dryRun: false });
    await until(() => w.checks.length === 1, 'the first check');
    const second = u.run({ dryRun: true });
    expect(second).toBe(first);
    held.resolve();
    const [a, b] = await Promise.all([first, second]);
    expect(b).toBe(a);
    expect(a.dryRun).toBe(false); // the joiner gets the running run's answer
    expect(a.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'true' }]);
    expect(w.checks).toEqual([APP]);
    expect(pulls(w)).toHaveLength(1);
    expect(reports).toHaveLength(1);
    // once it is over, a run is a new one
    const third = await u.run({ dryRun: false });
    expect(third).not.toBe(a);
    expect(w.checks).toEqual([APP, APP]);
  });
});

describe('concurrent runs that the running one does not cover', () => {
  it('WAS A BUG: an apply asked for while a dry run runs joined it: nothing applied, exit 0 → it waits, then applies', async () => {
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.healthyAfter(1));
    const { u, reports } = updater(w);
    const held = w.holdCheck();
    const dry = u.run({ dryRun: true });
    await until(() => w.checks.length === 1, 'the dry run\'s check');
    const real = u.run({ dryRun: false });
    expect(real).not.toBe(dry);
    await settle();
    expect(w.checks).toEqual([APP]); // one run at a time: the apply has not started yet
    held.resolve();
    const [d, r] = await Promise.all([dry, real]);
    expect(d.dryRun).toBe(true);
    expect(d.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'pending', Reason: 'update available (dry run)' }]);
    expect(r.dryRun).toBe(false);
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'true' }]);
    expect(pulls(w)).toHaveLength(1);
    expect(reports.map((x) => x.report.dryRun)).toEqual([true, false]);
  });

  it('WAS A BUG: a run for another stack joined the running one and answered with none of its rows → it waits and runs its own', async () => {
    const { w } = shop();
    w.image('web-1', behave.runs(), { tags: ['localhost:5000/web:1'] });
    w.addStack('blog', [{ name: 'web', reference: 'localhost:5000/web:1', policy: 'registry' }]);
    const { u } = updater(w);
    const held = w.holdCheck();
    const shopRun = u.run({ stack: 'shop', dryRun: false });
    await until(() => w.checks.length === 1, 'the shop run\'s check');
    const blogRun = u.run({ stack: 'blog', dryRun: false });
    // a third request for blog joins the queued blog run; one for everything waits behind it
    expect(u.run({ stack: 'blog', dryRun: true })).toBe(blogRun);
    const all = u.run({ dryRun: false });
    expect(all).not.toBe(blogRun);
    held.resolve();
    const [a, b, c] = await Promise.all([shopRun, blogRun, all]);
    expect(a.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'false' }]);
    expect(b.rows.map(cols)).toEqual([{ stack: 'blog', service: 'web', Updated: 'false' }]);
    expect(c.rows.map((x) => x.stack).sort()).toEqual(['blog', 'shop']);
    expect(w.checks).toEqual([APP, 'localhost:5000/web:1', APP, 'localhost:5000/web:1']);
  });
});

describe('resume() after stackd was killed mid-apply', () => {
  const V2_HEALTHY = behave.healthyAfter(1);
  const V2_FAILING = behave.unhealthyAfter(1);
  it.each<[string, { step: 'pinned' | 'pulled' | 'retagged' | 'up' | 'gated' | 'rolling-back'; pulled: boolean; retagged: boolean; upRan: boolean; v2: Behaviour; ends: 'app-v1' | 'app-v2' }]>([
    ['pinned (pin tag written, nothing else)', { step: 'pinned', pulled: false, retagged: false, upRan: false, v2: V2_HEALTHY, ends: 'app-v1' }],
    ['pulled (the new image is here, not tagged)', { step: 'pulled', pulled: true, retagged: false, upRan: false, v2: V2_HEALTHY, ends: 'app-v1' }],
    ['retagged (the reference points to the new image, old container)', { step: 'retagged', pulled: true, retagged: true, upRan: false, v2: V2_HEALTHY, ends: 'app-v1' }],
    ['up, the new container healthy → kept', { step: 'up', pulled: true, retagged: true, upRan: true, v2: V2_HEALTHY, ends: 'app-v2' }],
    ['up, the new container failing → rolled back', { step: 'up', pulled: true, retagged: true, upRan: true, v2: V2_FAILING, ends: 'app-v1' }],
    ['gated, healthy → kept', { step: 'gated', pulled: true, retagged: true, upRan: true, v2: V2_HEALTHY, ends: 'app-v2' }],
    ['rolling-back (the new container failing) → rolled back', { step: 'rolling-back', pulled: true, retagged: true, upRan: true, v2: V2_FAILING, ends: 'app-v1' }],
  ])('at %s: ends on a healthy image, never half-applied, progress cleared', async (_what, c) => {
    const { w, stack } = await killedAt(c);
    const { u } = updater(w);
    expect(u.keepImageIds().size).toBe(0); // nothing loaded yet
    await u.resume();
    expectConsistent(w, 'shop', 'app', APP, c.ends);
    expect(w.container('shop', 'app')?.condition.health).toBe('healthy');
    expect(w.updateState.state.inProgress).toEqual([]);
    expect(w.updateState.steps('shop').at(-1)).toBe('cleared');
    expect(u.keepImageIds().size).toBe(0);
    expect(pulls(w)).toEqual([]); // resume never pulls
    expect(w.upSpecs.every((s) => s.pullNever)).toBe(true); // and never lets compose pull
    if (c.ends === 'app-v1') expect(w.updateState.steps('shop')).toContain('rolling-back');
    expect(w.exclusiveCalls).toEqual([stack.name]);
  });

  it('a progress record of a stack no longer configured is forgotten', async () => {
    const { w } = shop();
    w.seedState({ badDigests: [], inProgress: [w.progress('gone', 'retagged', [{ service: 'app', reference: APP, previous: 'app-v1', target: 'app-v2' }])] });
    const { u } = updater(w);
    await u.resume();
    expect(w.updateState.state.inProgress).toEqual([]);
    expect(w.upSpecs).toEqual([]);
    expect(w.exclusiveCalls).toEqual([]);
  });

  it('WAS A BUG: killed after saving step "up" but before compose up ran → kept half-applied (reference on the new image, container on the old)', async () => {
    // Fixed; before the fix: src/supervisor/updater.ts:107 — resume gates the 'up' step with `pulled` undefined, so gate() (line 353)
    // expects '' and judgeGate accepts whatever image the container runs (expectedImageId falls back to the
    // sample's own). A kill between step('up') (line 261, saved BEFORE `up`) and compose up leaves the old
    // container healthy: resume keeps the update and clears the progress, while APP points at app-v2 that
    // never passed a gate — the next reconcile's `compose up` deploys it ungated. It should gate against the
    // image the reference points to (or the target digest) and bring it up or roll back.
    const { w } = await killedAt({ step: 'up', pulled: true, retagged: true, upRan: false, v2: V2_FAILING });
    const { u } = updater(w);
    await u.resume();
    expect(w.updateState.state.inProgress).toEqual([]);
    expect(w.nameOf(w.tagged(APP))).toBe(w.runs('shop', 'app'));
  });

  it('WAS A BUG: a resumed update that fails its gate is rolled back but its digest is not remembered (the next run pulls it again)', async () => {
    // Fixed; before the fix: src/supervisor/updater.ts:113 — resume() calls rollBack() without withBadDigest (apply() does, at
    // lines 274-278), so the digest that just failed is not in badDigests and the next run applies it again
    // (and rolls back again, every run). It should be remembered like in apply().
    const { w } = await killedAt({ step: 'up', pulled: true, retagged: true, upRan: true, v2: V2_FAILING });
    const { u } = updater(w);
    await u.resume();
    expectConsistent(w, 'shop', 'app', APP, 'app-v1'); // the rollback itself works
    const next = await u.run({ dryRun: false });
    expect(next.rows.map((r) => r.Updated)).toEqual(['skipped']);
    expect(w.updateState.state.badDigests.map((b) => b.digest)).toEqual([digestOf('app-v2')]);
  });

  it('WAS A BUG: resume before the first reconcile (no model in the store) gates a healthchecked service by settle only → an unhealthy update is kept', async () => {
    // Fixed; before the fix: src/supervisor/updater.ts:330-334 — gate() takes the healthcheck from the ObservedStore's model, which only
    // a reconcile's `compose config` fills (reconciler.ts resolveModel). At start, before any reconcile (and a
    // reconcile must not run first: its `compose up` would deploy the re-tagged image ungated), the model is
    // undefined, gateSpec() falls back to settle, and judgeGate's settle path never looks at health: a running
    // but `unhealthy` app-v2 passes after settleMs and is kept. resume should resolve the model (or read the
    // container's own healthcheck) before gating.
    const { w } = await killedAt({ step: 'up', pulled: true, retagged: true, upRan: true, v2: V2_FAILING });
    w.store.delete('shop'); // a fresh stackd: nothing observed, no model
    const { u } = updater(w);
    await u.resume();
    // the gate read the container's own healthcheck (inspect) and saw it unhealthy: rolled back, digest remembered
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
    expect(w.updateState.state.badDigests.map((b) => b.digest)).toEqual([digestOf('app-v2')]);
  });
});

/** The world a stackd killed at `c.step` leaves: shop on app-v1, app-v2 published, the progress record saved. */
async function killedAt(c: { step: 'pinned' | 'pulled' | 'retagged' | 'up' | 'gated' | 'rolling-back'; pulled: boolean; retagged: boolean; upRan: boolean; v2: Behaviour }) {
  const { w, stack } = shop();
  const v2 = w.publish(APP, 'app-v2', c.v2);
  await w.podman.tagImage(imageId('app-v1'), PIN_REPOSITORY + '/shop-app', '20261126115000');
  if (c.pulled) await w.podman.pullImage(v2.pullRef);
  if (c.retagged) await w.podman.tagImage(v2.id, APP_REPO, 'v1');
  if (c.upRan) {
    await w.compose.up({ project: 'shop', composeFiles: stack.compose, envFiles: [], timeoutMs: 1 });
    expect(w.runs('shop', 'app')).toBe('app-v2');
  }
  w.seedState({ badDigests: [], inProgress: [w.progress('shop', c.step, [{ service: 'app', reference: APP, previous: 'app-v1', target: 'app-v2' }])] });
  w.log.length = 0;
  w.upSpecs.length = 0;
  return { w, stack, v2 };
}

describe('sharing the stack\'s slot with reconciles (a real ReconcileQueue)', () => {
  function queueOf(w: ImageWorld, run: (stack: string) => Promise<ReconcileResult> = async () => OK) {
    const q = new ReconcileQueue({
      concurrency: 2, retryBaseMs: 3_600_000, retryMaxMs: 3_600_000, now: w.clock.now, setTimer: () => ({ cancel: () => undefined }),
      run: async (ctx) => {
        w.log.push(`reconcile ${ctx.stack} start`);
        const r = await run(ctx.stack);
        w.log.push(`reconcile ${ctx.stack} end`);
        return r;
      },
    });
    w.queue = q;
    return q;
  }

  it('a reconcile triggered while the update holds the slot runs only after the update finished; another stack\'s is not held up', async () => {
    const { w } = shop();
    w.image('web-1', behave.runs(), { tags: ['localhost:5000/web:1'] });
    w.addStack('blog', [{ name: 'web', reference: 'localhost:5000/web:1' }]);
    const v2 = w.publish(APP, 'app-v2', behave.healthyAfter(2));
    const q = queueOf(w);
    const pull = w.hold('pullImage');
    const { u } = updater(w);
    const run = u.run({ dryRun: false });
    await until(() => w.log.includes(`tag app-v1 ${PIN}`), 'the pin');
    expect(q.phase('shop').phase).toBe('updating');
    const shopVerdict = q.trigger('shop', 'request');
    const blogVerdict = q.trigger('blog', 'request');
    await blogVerdict;
    await settle();
    expect(w.log).not.toContain('reconcile shop start');
    expect(w.log).toContain('reconcile blog end');
    pull.resolve();
    const report = await run;
    await shopVerdict;
    expect(report.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'true' }]);
    const at = (s: string) => w.log.indexOf(s);
    expect(at('exclusive shop end')).toBeGreaterThan(at(`pull ${v2.pullRef}`));
    expect(at('reconcile shop start')).toBeGreaterThan(at('exclusive shop end'));
    expect(w.log.slice(at('exclusive shop start'), at('exclusive shop end') + 1).filter((l) => l.startsWith('reconcile shop'))).toEqual([]);
    await until(() => q.phase('shop').phase === 'idle', 'shop idle');
  });

  it('an update asked for while a reconcile of the stack runs waits for it', async () => {
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.healthyAfter(1));
    const gate = deferred();
    const q = queueOf(w, async () => {
      await gate.promise;
      return OK;
    });
    const verdict = q.trigger('shop', 'request');
    await until(() => w.log.includes('reconcile shop start'), 'the reconcile');
    const { u } = updater(w);
    const run = u.run({ dryRun: false });
    await until(() => w.exclusiveCalls.length === 1, 'the update asking for the slot');
    await settle();
    expect(w.log).not.toContain('exclusive shop start');
    gate.resolve();
    await verdict;
    const r = await run;
    expect(r.rows.map((x) => x.Updated)).toEqual(['true']);
    expect(w.log.indexOf('exclusive shop start')).toBeGreaterThan(w.log.indexOf('reconcile shop end'));
  });

  it('WAS A BUG: the plan is made outside the slot; a reconcile that ran meanwhile (new image tag in compose) turns a healthy stack into update-rollback-failed', async () => {
    // Fixed; before the fix: src/supervisor/updater.ts:133-137 plan()s every stack (model, containers, previousImageId) BEFORE
    // exclusive() (line 142) gets the slot. When a reconcile holds the slot and changes the stack (here the
    // owner bumped app:v1 → app:v1.1 and `stackctl up` recreated the container), apply() runs the stale plan:
    // it re-tags app:v1 (no longer used), gates the app:v1.1 container against the pulled id ("runs another
    // image"), "rolls back" to the pinned v1 id, whose gate fails the same way → row failed and lastResult
    // update-rollback-failed for a stack that is healthy on v1.1. The plan (or at least a re-check of the
    // model and containers) belongs inside the slot.
    const { w, stack } = shop();
    const V11 = 'localhost:5000/app:v1.1';
    w.image('app-v1.1', behave.healthyAfter(1), { tags: [V11] });
    w.publish(APP, 'app-v2', behave.healthyAfter(1));
    const gate = deferred();
    const q = queueOf(w, async () => {
      await gate.promise;
      const svc = w.services.get('shop')?.find((s) => s.name === 'app');
      if (svc) svc.reference = V11;
      w.resolveModel(stack);
      await w.compose.up({ project: 'shop', composeFiles: stack.compose, envFiles: [], timeoutMs: 1 });
      w.observeNow(stack);
      return OK;
    });
    const verdict = q.trigger('shop', 'request');
    await until(() => w.log.includes('reconcile shop start'), 'the reconcile');
    const { u } = updater(w);
    const run = u.run({ dryRun: false });
    await until(() => w.exclusiveCalls.length === 1, 'the planned update waiting for the slot');
    gate.resolve();
    await verdict;
    const r = await run;
    expectConsistent(w, 'shop', 'app', V11, 'app-v1.1'); // holds either way
    expect(w.store.get('shop').lastResult?.reasonCode).toBeUndefined();
    expect(r.rows.map((x) => x.Updated)).not.toContain('failed');
  });
});

describe('keepImageIds()', () => {
  it('holds the pinned previous image while an apply is in progress, and nothing once it is done', async () => {
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.healthyAfter(1));
    const { u } = updater(w);
    expect(u.keepImageIds().size).toBe(0);
    const pull = w.hold('pullImage');
    const run = u.run({ dryRun: false });
    await until(() => w.log.includes(`tag app-v1 ${PIN}`), 'the pin');
    expect([...u.keepImageIds()]).toEqual([imageId('app-v1')]);
    pull.resolve();
    await run;
    expect(u.keepImageIds().size).toBe(0);
  });

  it('holds it during a resume too (loaded from the saved progress)', async () => {
    const { w } = await killedAt({ step: 'up', pulled: true, retagged: true, upRan: true, v2: behave.healthyAfter(3) });
    const { u } = updater(w);
    const held = w.hold('inspectContainer');
    const resumed = u.resume();
    await until(() => u.keepImageIds().size > 0, 'the progress loaded');
    expect([...u.keepImageIds()]).toEqual([imageId('app-v1')]);
    held.resolve();
    await resumed;
    expect(u.keepImageIds().size).toBe(0);
  });
});

describe('without a healthcheck: the settle time (update.settleMs)', () => {
  it('passes once the container ran settleMs without a restart', async () => {
    const { w } = shop({ healthcheck: false });
    w.publish(APP, 'app-v2', behave.runs());
    const { u } = updater(w, { settleMs: 30_000 });
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'true' }]);
    expectConsistent(w, 'shop', 'app', APP, 'app-v2');
    expect(w.clock.ms - T0).toBe(30_000); // 15 polls 2s apart: not a poll less
    expect(w.log.filter((l) => l.startsWith('healthcheck '))).toEqual([]);
  });

  it.each([
    ['restarts', behave.restartsAfter(5), /^service app: the container restarted 1 time\(s\)$/],
    ['exits', behave.exitsAfter(5, 137), /^service app: the container is exited \(exit 137\)$/],
  ])('%s before it settled → rolled back (and the rollback settles too)', async (_what, v2behaviour, reason) => {
    const { w } = shop({ healthcheck: false });
    w.publish(APP, 'app-v2', v2behaviour);
    const { u } = updater(w, { settleMs: 30_000 });
    const r = await u.run({ dryRun: false });
    expect(r.rows[0]?.Updated).toBe('rolled back');
    expect(r.rows[0]?.Reason).toMatch(reason);
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
    // the 6th poll (10s after up) sees it, then 30s of settle for the rolled-back container
    expect(w.clock.ms - T0).toBe(10_000 + 30_000);
  });
});

describe('failures in the middle of an apply', () => {
  it('a pull that fails → failed row; nothing re-tagged or recreated', async () => {
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.healthyAfter(1));
    w.fail('pullImage', new Error('localhost:5000: connection reset by peer'));
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'failed', Reason: 'update failed: localhost:5000: connection reset by peer' }]);
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
    expect(w.upSpecs).toEqual([]);
    expect(w.updateState.state.badDigests).toEqual([]); // a network failure says nothing about the digest
  });

  it('WAS A BUG: a pull that fails leaves the progress record behind (the pinned image kept, a rollback at the next start)', async () => {
    // Fixed; before the fix: src/supervisor/updater.ts:142-145 — when apply() throws, runOnce only marks the rows failed; the progress
    // saved at step 'pulled' (line 247) stays in the update state (and in memory), so keepImageIds() pins the
    // previous image until a restart, and the next start's resume() "rolls back" an apply that never changed
    // anything (re-tagging an image that may be long outdated by then). A failed apply should clear (or undo)
    // its progress.
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.healthyAfter(1));
    w.fail('pullImage', new Error('localhost:5000: connection reset by peer'));
    const { u } = updater(w);
    await u.run({ dryRun: false });
    expect(w.updateState.state.inProgress).toEqual([]);
    expect(u.keepImageIds().size).toBe(0);
  });

  it('WAS A BUG: an error after the re-tag (compose file unreadable at `up`) leaves the reference on the new, ungated image', async () => {
    // Fixed; before the fix: src/supervisor/updater.ts:261-262 — composeUp() calls readStackInputs(), whose FilesPort errors propagate
    // (stack-inputs.ts), as do compose.up() errors and a failing save at step('up'). apply() then throws past
    // the rollback (no try/finally), runOnce (line 142-145) marks the rows failed, and APP stays re-tagged to
    // app-v2 with the old container running: the next reconcile's `compose up` deploys app-v2 without a gate.
    // Any failure after step('retagged') should roll the re-tag back.
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.unhealthyAfter(1));
    w.files.failNextRead(Object.assign(new Error('EACCES: permission denied, open \'/srv/shop/compose.yml\''), { code: 'EACCES' }));
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows[0]?.Updated).toBe('failed');
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
  });

  it('WAS A BUG: a failing save of the "rolling-back" progress aborts the rollback: the failing image stays', async () => {
    // Fixed; before the fix: src/supervisor/updater.ts:285 — rollBack() saves the rolling-back progress BEFORE its try block; when that
    // save throws (disk full), the re-tag and `up --pull never` never run: the unhealthy app-v2 keeps running,
    // APP points at it, and the row says "update failed: ENOSPC…" (not rolled back, not update-rollback-failed).
    // The rollback should go ahead (the save is bookkeeping) or at least be reported as a failed rollback.
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.unhealthyAfter(1));
    w.updateState.failSave((s) => s.inProgress.some((p) => p.step === 'rolling-back'));
    const { u } = updater(w);
    await u.run({ dryRun: false });
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
  });

  it('a failing save before anything changed → failed row, nothing touched', async () => {
    const { w } = shop();
    w.publish(APP, 'app-v2', behave.healthyAfter(1));
    w.updateState.failSave((s) => s.inProgress.some((p) => p.step === 'pinned'));
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.map(cols)).toEqual([{ stack: 'shop', service: 'app', Updated: 'failed', Reason: 'update failed: ENOSPC: no space left on device, write' }]);
    expect(tagsOf(w)).toEqual([]);
    expect(pulls(w)).toEqual([]);
  });
});

describe('more than one stack', () => {
  it('WAS A BUG: a reference shared by two stacks: the second stack\'s rollback re-tags it under the first, which passed', async () => {
    // Fixed; before the fix: src/supervisor/updater.ts:289-292 — rollBack() re-tags the SHARED reference to its own stack's previous
    // image. shop applied app-v2 and passed (row true); blog's gate then fails and its rollback points APP back
    // at app-v1 while shop's container runs app-v2: shop is half-applied and its next reconcile's `compose up`
    // silently downgrades it. (The bad digest, remembered per reference, also blocks shop's working version.)
    // A rollback must not move a reference other stacks run the new image under (or must roll them back too).
    const w = new ImageWorld();
    w.image('app-v1', behave.healthyAfter(1), { tags: [APP] });
    w.addStack('shop', [{ name: 'app', reference: APP, policy: 'registry', healthcheck: true }]);
    w.addStack('blog', [{ name: 'web', reference: APP, policy: 'registry', healthcheck: true }]);
    // app-v2 needs a setting blog's compose file lacks
    w.publish(APP, 'app-v2', (poll, ctx) => ({ state: 'running', health: poll < 1 ? 'starting' : ctx.project === 'blog' ? 'unhealthy' : 'healthy' }));
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    // one tag cannot point at two images: shop, which took app-v2 earlier in the run, is rolled back with blog
    expect(r.rows.map((x) => `${x.stack} ${x.Updated}`)).toEqual(['shop rolled back', 'blog rolled back']);
    expect(r.rows[0]?.Reason).toContain('failed its health gate in stack "blog"');
    expectConsistent(w, 'blog', 'web', APP, 'app-v1');
    expectConsistent(w, 'shop', 'app', APP, 'app-v1');
  });

  it('WAS A BUG: a stack with update: off that was never reconciled fails the run', async () => {
    // Fixed; before the fix: src/supervisor/updater.ts:158-163 — plan() reports "has not been reconciled yet … run: stackctl up" as a
    // FAILED row before it looks at stack.update, so a stack the owner turned updates off for (types.ts: "off =
    // never looked at") and that has no model (stopped or removed since stackd started: only bringUp resolves
    // the model) makes every run not ok and `stackctl update` exit non-zero. It should be skipped (or left out).
    const { w } = shop();
    w.addStack('archive', [{ name: 'app', reference: APP, policy: 'registry', container: false }], { update: 'off' }, { model: false });
    const { u } = updater(w);
    const r = await u.run({ dryRun: false });
    expect(r.rows.find((x) => x.stack === 'archive')?.Updated).not.toBe('failed');
    expect(r.ok).toBe(true);
  });
});
