import { describe, expect, it } from 'vitest';
import { AfterQuiet } from '../../../src/supervisor/after-quiet.js';

/** A hand-driven clock: timers fire only when advance() passes their time. */
function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; live: boolean }[] = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return { cancel: () => { t.live = false; } };
    },
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const next = timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        now = next.at;
        next.live = false;
        next.fn();
      }
      now = until;
      timers = timers.filter((t) => t.live);
    },
  };
}

function setup(quietMs = 2_000, maxWaitMs = 30_000) {
  const clock = fakeClock();
  const runsAt: number[] = [];
  let finish: () => void = () => undefined;
  const q = new AfterQuiet({
    quietMs, maxWaitMs, now: clock.now, setTimer: clock.setTimer,
    run: () => { runsAt.push(clock.now()); return new Promise<void>((r) => { finish = r; }); },
  });
  return { clock, runsAt, q, finish: () => finish() };
}

describe('AfterQuiet', () => {
  it.each([
    // pokes at these times → runs at these times (quiet 2 s, max wait 30 s)
    { pokes: [0], until: 10_000, runs: [2_000] },
    { pokes: [0, 1_000, 2_500], until: 10_000, runs: [4_500] },
    { pokes: [0, 5_000], until: 10_000, runs: [2_000, 7_000] },
    // a poke every second for a minute: the max wait forces a run every 30 s (the last one comes after the last poke)
    { pokes: Array.from({ length: 60 }, (_, i) => i * 1_000), until: 70_000, runs: [30_000, 60_000] },
    { pokes: Array.from({ length: 61 }, (_, i) => i * 1_000), until: 70_000, runs: [30_000, 60_000, 62_000] },
  ])('pokes $pokes → runs $runs', ({ pokes, until, runs }) => {
    const { clock, runsAt, q, finish } = setup();
    let t = 0;
    for (const at of pokes) {
      clock.advance(at - t);
      t = at;
      q.poke();
      finish();
    }
    clock.advance(until - t);
    expect(runsAt).toEqual(runs);
  });

  it('stop drops a pending run, waits for a running one, and later pokes do nothing', async () => {
    const { clock, runsAt, q, finish } = setup();
    q.poke();
    clock.advance(2_000);
    expect(runsAt).toEqual([2_000]);
    let stopped = false;
    q.poke();
    const stopping = q.stop().then(() => { stopped = true; });
    await Promise.resolve();
    expect(stopped).toBe(false); // the first run has not finished
    finish();
    await stopping;
    clock.advance(10_000);
    q.poke();
    clock.advance(10_000);
    expect(runsAt).toEqual([2_000]);
  });

  it('a failing run does not stop later runs', async () => {
    const clock = fakeClock();
    let calls = 0;
    const q = new AfterQuiet({ quietMs: 10, maxWaitMs: 100, now: clock.now, setTimer: clock.setTimer, run: () => { calls++; return Promise.reject(new Error('systemctl failed')); } });
    q.poke();
    clock.advance(10);
    await Promise.resolve();
    q.poke();
    clock.advance(10);
    expect(calls).toBe(2);
    await q.stop();
  });
});
