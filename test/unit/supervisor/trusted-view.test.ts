// A requested `up` of an unchanged, converged stack decides "nothing to do" from the event-fed view, without a
// podman list, only while that view is trusted (core/observed-trust.ts); everything else lists as before. Over
// the production pipeline on the fakes, with the event watcher's two calls (eventStream, eventIsNews +
// refreshProject) made by hand.
import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../../src/supervisor/api.js';
import type { Supervisor } from '../../../src/supervisor/supervisor.js';
import { makeConfig, silentLogger, World } from './fakes.js';

const running: Supervisor[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((s) => s.stop())); });

function setup() {
  const w = new World();
  const stack = w.addStack('app', { services: ['web', 'db'] });
  const p = w.pipeline(makeConfig([stack]));
  running.push(p.supervisor);
  return { w, stack, ...p, sup: p.supervisor };
}

async function up(sup: Supervisor): Promise<Job> {
  const job = await sup.request('app', 'up');
  const done = await sup.waitJob(job.id, 5_000);
  if (!done || done.status === 'queued' || done.status === 'running') throw new Error(`no verdict: ${JSON.stringify(done)}`);
  return done;
}

const lists = (w: World) => w.podman.calls.filter((c) => c.startsWith('listProjectContainers')).length;

/** podman's `died` event of the app's web container */
function died(w: World) {
  const web = w.podman.project('app').find((c) => c.service === 'web');
  if (!web) throw new Error('no web container');
  const entry = w.podman.containers.get(web.id);
  if (entry) entry.State = 'exited';
  return { Type: 'container', Action: 'died', Actor: { ID: web.id, Attributes: { 'com.docker.compose.project': 'app' } } };
}

/** Converged, with the event stream up since before the last list: the next `up` may trust the view. */
async function converged(t: ReturnType<typeof setup>) {
  await t.sup.load();
  expect((await up(t.sup)).result?.result).toBe('ok');
  t.sup.eventStream(true);
  // listed after the stream answered: from here on the view is as good as a list
  expect((await up(t.sup)).result?.reasonCode).toBe('unchanged');
}

describe('a requested up of an unchanged stack', () => {
  it('trusted view: skipped with no podman call at all', async () => {
    const t = setup();
    await converged(t);
    const callsBefore = t.w.podman.calls.length;
    const job = await up(t.sup);
    expect(job.result).toMatchObject({ result: 'skipped', reasonCode: 'unchanged' });
    expect(t.w.podman.calls.slice(callsBefore)).toEqual([]);
    expect(t.w.compose.verbs()).toEqual(['config', 'up']);
  });

  it('a container killed behind stackd\'s back (event seen, project re-listed): the next up does real work', async () => {
    const t = setup();
    await converged(t);
    const ev = died(t.w);
    expect(t.sup.eventIsNews(ev, 'app')).toBe(true);
    await t.sup.refreshProject('app'); // the watcher's re-list
    const job = await up(t.sup);
    expect(job.result?.result).toBe('ok');
    expect(t.w.compose.verbs()).toEqual(['config', 'up', 'up']);
    expect(t.w.podman.states('app')).toEqual({ web: 'running', db: 'running' });
  });

  it('event seen but its re-list not done yet: the up lists podman and does real work', async () => {
    const t = setup();
    await converged(t);
    const before = lists(t.w);
    expect(t.sup.eventIsNews(died(t.w), 'app')).toBe(true);
    const job = await up(t.sup);
    expect(lists(t.w)).toBeGreaterThan(before);
    expect(job.result?.result).toBe('ok');
    expect(t.w.compose.count('up')).toBe(2);
  });

  it('a health_status event that repeats what stackd knows is not news: the view stays trusted', async () => {
    const t = setup();
    await converged(t);
    const web = t.w.podman.project('app').find((c) => c.service === 'web');
    const same = { Type: 'container', Action: 'health_status', HealthStatus: web?.health, Actor: { ID: web?.id, Attributes: { 'com.docker.compose.project': 'app' } } };
    expect(t.sup.eventIsNews(same, 'app')).toBe(false);
    const before = lists(t.w);
    expect((await up(t.sup)).result?.reasonCode).toBe('unchanged');
    expect(lists(t.w)).toBe(before);
  });

  it.each([
    { what: 'the event stream is down', change: (sup: Supervisor) => sup.eventStream(false) },
    { what: 'the event stream reconnected after the last list', change: (sup: Supervisor) => { sup.eventStream(false); sup.eventStream(true); } },
  ])('$what: the up lists podman (and, still unchanged, skips)', async ({ change }) => {
    const t = setup();
    await converged(t);
    change(t.sup);
    const before = lists(t.w);
    expect((await up(t.sup)).result?.reasonCode).toBe('unchanged');
    expect(lists(t.w)).toBe(before + 1);
  });

  it('a container stopped with no event seen: a trusted view still skips, and the next list (resync, reconcile) finds it', async () => {
    // what the periodic resync is for: the view is only as good as the events podman sent
    const t = setup();
    await converged(t);
    died(t.w); // no event reaches stackd
    expect((await up(t.sup)).result?.reasonCode).toBe('unchanged');
    // a reconcile that does not answer requests alone lists podman, so the missed change is found
    const r = await t.reconciler.reconcile(t.stack, 'running', silentLogger);
    expect(r.result).toBe('ok');
    expect(t.w.podman.states('app')).toEqual({ web: 'running', db: 'running' });
  });

  it('without the event stream ever answering (no watcher), every up lists podman', async () => {
    const t = setup();
    await t.sup.load();
    await up(t.sup);
    const before = lists(t.w);
    expect((await up(t.sup)).result?.reasonCode).toBe('unchanged');
    expect((await up(t.sup)).result?.reasonCode).toBe('unchanged');
    expect(lists(t.w)).toBe(before + 2);
  });
});
