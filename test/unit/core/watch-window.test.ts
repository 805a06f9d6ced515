import { describe, expect, it } from 'vitest';
import type { ExpectedService, ObservedContainer } from '../../../src/core/model.js';
import { IDLE_WATCH, openWindow, stepWatch, unwellServices, type WatchInput, type WatchState } from '../../../src/core/watch-window.js';
import { NOW, container } from '../../support/builders.js';

const MIN = 60_000;
const service = (name: string, oneShot = false): ExpectedService => ({ name, labels: {}, oneShot, profiles: [] });
const web = service('web');
const db = service('db');
const migrate = service('migrate', true);
const ctr = container;

describe('unwellServices: which services a deploy left not fine', () => {
  it.each<[string, ExpectedService[], ObservedContainer[], [string, string, string][]]>([
    ['all running, no healthchecks', [web, db], [ctr('web'), ctr('db')], []],
    ['healthy, and podman\'s reset/stopped health count as no verdict', [web, db], [ctr('web', { health: 'healthy' }), ctr('db', { health: 'reset' })], []],
    ['unhealthy', [web, db], [ctr('web', { health: 'unhealthy' }), ctr('db')], [['web', 'unhealthy', 'unhealthy']]],
    ['still starting', [web], [ctr('web', { health: 'starting' })], [['web', 'starting', 'not healthy yet (starting)']]],
    ['exited (killed)', [web, db], [ctr('web'), ctr('db', { state: 'exited', exitCode: 137 })], [['db', 'stopped', 'exited (code 137)']]],
    ['created, never started', [web], [ctr('web', { state: 'created' })], [['web', 'stopped', 'not running (created)']]],
    ['no container at all', [web, db], [ctr('web')], [['db', 'missing', 'no container']]],
    ['one-shot exited 0 is fine', [web, migrate], [ctr('web'), ctr('migrate', { state: 'exited', exitCode: 0 })], []],
    ['one-shot exited 1 is not', [web, migrate], [ctr('web'), ctr('migrate', { state: 'exited', exitCode: 1 })], [['migrate', 'stopped', 'exited (code 1)']]],
    ['an old exited container beside a running new one: fine', [web], [ctr('web', { id: 'old', state: 'exited', exitCode: 137 }), ctr('web')], []],
    ['unhealthy wins over exited in the reason', [web], [ctr('web', { id: 'a', state: 'exited' }), ctr('web', { id: 'b', health: 'unhealthy' })], [['web', 'unhealthy', 'unhealthy']]],
    ['a service the model does not name counts while it runs', [web], [ctr('web'), ctr('extra', { health: 'unhealthy' })], [['extra', 'unhealthy', 'unhealthy']]],
    ['… and not once it stopped (leftover)', [web], [ctr('web'), ctr('extra', { state: 'exited', exitCode: 1 })], []],
    ['several at once, in the model\'s order', [web, db], [ctr('db', { health: 'unhealthy' })], [['web', 'missing', 'no container'], ['db', 'unhealthy', 'unhealthy']]],
  ])('%s', (_name, expected, containers, want) => {
    expect(unwellServices(expected, containers).map((u) => [u.service, u.kind, u.why])).toEqual(want);
  });
});

const DEPLOY = NOW - 10 * MIN;
const WINDOW = 5 * MIN;
const open = (over: Partial<WatchState> = {}): WatchState => ({ ...openWindow(IDLE_WATCH, DEPLOY, WINDOW), ...over });
const at = (nowMs: number, containers: ObservedContainer[] | undefined, over: Partial<WatchInput> = {}): WatchInput => ({
  nowMs, desired: 'running', expected: [web], containers, ...over,
});
const sick = [ctr('web', { health: 'starting' })];
const dead = [ctr('web', { state: 'exited', exitCode: 137 })];
const well = [ctr('web', { health: 'healthy' })];

describe('stepWatch: one alert per deploy left unwell, one recovery', () => {
  it.each<[string, WatchState, WatchInput, string, Partial<WatchState>, number | undefined]>([
    // [name, state, input, verdict, expected next state (subset), checkAtMs]
    ['no deploy yet: nothing, nothing to wait for', IDLE_WATCH, at(NOW, sick), 'none', { judged: true, alerted: false }, undefined],
    ['inside the window, starting: nothing yet, look again at its end', open(), at(DEPLOY + MIN, sick), 'none', { judged: false }, DEPLOY + WINDOW],
    ['inside the window, even dead: deploys never wait, the window judges at its end', open(), at(DEPLOY + MIN, dead), 'none', { judged: false }, DEPLOY + WINDOW],
    ['at the end, still starting: alert', open(), at(DEPLOY + WINDOW, sick), 'alert', { judged: true, alerted: true }, undefined],
    ['after the end, exited: alert', open(), at(DEPLOY + WINDOW + 1, dead), 'alert', { judged: true, alerted: true }, undefined],
    ['at the end, healthy: judged, no alert', open(), at(DEPLOY + WINDOW, well), 'none', { judged: true, alerted: false }, undefined],
    ['healthy inside the window: still judged at the end only', open(), at(DEPLOY + MIN, well), 'none', { judged: false }, DEPLOY + WINDOW],
    ['judged healthy, unwell later: not the window\'s business (StackdStackDegraded is)', open({ judged: true }), at(NOW, dead), 'none', { judged: true, alerted: false }, undefined],
    ['alerted, still unwell: nothing more', open({ judged: true, alerted: true }), at(NOW, sick), 'none', { alerted: true }, undefined],
    ['alerted, healthy: recover', open({ judged: true, alerted: true }), at(NOW, well), 'recover', { alerted: false, judged: true }, undefined],
    ['alerted, a new deploy still unwell at its end: no second alert', open({ alerted: true }), at(DEPLOY + WINDOW, sick), 'none', { alerted: true, judged: true }, undefined],
    ['alerted, a new deploy healthy inside its window: recover at once', open({ alerted: true }), at(DEPLOY + MIN, well), 'recover', { alerted: false }, undefined],
    ['not observed yet inside the window: wait for the end', open(), at(DEPLOY + MIN, undefined), 'none', { judged: false }, DEPLOY + WINDOW],
    ['not observed yet after the end: wait for an observation (no timer in the past)', open(), at(DEPLOY + WINDOW, undefined), 'none', { judged: false }, undefined],
    ['stopped by the owner while alerted: cleared, no recovery message', open({ alerted: true, judged: true }), at(NOW, dead, { desired: 'stopped' }), 'cleared', { alerted: false, judged: true }, undefined],
    ['stopped by the owner inside the window: no alert at its end', open(), at(DEPLOY + WINDOW, dead, { desired: 'stopped' }), 'none', { alerted: false, judged: true }, undefined],
    ['removed by the owner, nothing out: nothing', open({ judged: true }), at(NOW, [], { desired: 'removed' }), 'none', { alerted: false }, undefined],
  ])('%s', (_name, state, input, verdict, next, checkAtMs) => {
    const step = stepWatch(state, input);
    expect(step.verdict.kind).toBe(verdict);
    expect(step.next).toMatchObject(next);
    expect(step.checkAtMs).toBe(checkAtMs);
  });

  it('the alert names every unwell service and why', () => {
    const step = stepWatch(open(), at(DEPLOY + WINDOW, [ctr('web', { health: 'unhealthy' })], { expected: [web, db] }));
    expect(step.verdict).toEqual({
      kind: 'alert',
      unwell: [{ service: 'web', kind: 'unhealthy', why: 'unhealthy' }, { service: 'db', kind: 'missing', why: 'no container' }],
    });
  });

  it('a window of 0 is no window: nothing is judged, but an alert already out still recovers', () => {
    const none = openWindow(IDLE_WATCH, DEPLOY, 0);
    expect(none).toEqual({ deployAtMs: DEPLOY, windowMs: 0, judged: true, alerted: false });
    expect(stepWatch(none, at(NOW, dead)).verdict.kind).toBe('none');
    const out = openWindow({ ...IDLE_WATCH, alerted: true }, DEPLOY, 0);
    expect(stepWatch(out, at(NOW, well)).verdict.kind).toBe('recover');
  });

  it('over a whole story: deploy, never healthy → one alert; still sick → silence; healthy → one recovery; sick again → silence', () => {
    let s = openWindow(IDLE_WATCH, DEPLOY, WINDOW);
    const verdicts: string[] = [];
    for (const [t, c] of [
      [DEPLOY + 1_000, sick], [DEPLOY + 2 * MIN, sick], [DEPLOY + WINDOW, sick], [DEPLOY + WINDOW + MIN, sick],
      [DEPLOY + WINDOW + 2 * MIN, well], [DEPLOY + WINDOW + 3 * MIN, well], [DEPLOY + WINDOW + 4 * MIN, dead],
    ] as const) {
      const step = stepWatch(s, at(t, [...c]));
      s = step.next;
      verdicts.push(step.verdict.kind);
    }
    expect(verdicts).toEqual(['none', 'none', 'alert', 'none', 'recover', 'none', 'none']);
  });
});
