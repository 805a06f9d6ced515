// TimerGc against a fake systemctl/podman: the order of the look-ups, what is stopped, and what never is.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { TimerGc } from '../../../src/supervisor/timer-gc.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const LIVE = 'c'.repeat(64);
const NOW = 1_000_000_000;
const unit = (name: string) => `${name} loaded active waiting [systemd-run] /usr/bin/podman healthcheck run x`;

function setup(ages: Record<string, number>, stopFails: string[] = [], vanished: string[] = []) {
  const calls: string[] = [];
  const gc = new TimerGc({
    systemctl: {
      listUnits: async () => { calls.push('list-units'); return Object.keys(ages).map(unit).join('\n'); },
      unitActiveEnterTimestamps: async (units) => Object.fromEntries(units.filter((u) => ages[u] !== undefined).map((u) => [u, NOW - (ages[u] ?? 0)])),
      stop: async ([u = '']) => {
        calls.push(`stop ${u}`);
        if (vanished.includes(u)) return { ok: false, exitCode: 5, stderr: `Failed to stop ${u}: Unit ${u} not loaded.` };
        return { ok: !stopFails.includes(u), exitCode: stopFails.includes(u) ? 5 : 0, stderr: 'denied' };
      },
      resetFailed: async (units = []) => { calls.push(`reset-failed ${units.join(' ')}`); return { ok: true, exitCode: 0, stderr: '' }; },
    },
    podman: { listContainers: async () => { calls.push('list-containers'); return [{ Id: LIVE }]; } },
    config: () => ({ cleanup: { maxAgeMs: 0, timerMinAgeMs: 60_000, gcEveryMs: 0, pruneEveryMs: 0 } }),
    now: () => NOW,
    logger: pino({ level: 'silent' }),
  });
  return { gc, calls };
}

describe('TimerGc', () => {
  it('lists units before containers, stops old orphans (timers first), resets them, and nothing else', async () => {
    const { gc, calls } = setup({
      [`${A}.service`]: 120_000,
      [`${A}.timer`]: 120_000,
      [`${B}-startup-1f.timer`]: 90_000,
      [`${B}-0123456789abcdef.timer`]: 10_000, // too young
      [`${LIVE}-58a6d0e5bb3d3a52.timer`]: 999_000, // live container
      'podman-auto-update.timer': 999_000, // not podman's healthcheck unit
      'backup.timer': 999_000,
    });
    const r = await gc.run();
    expect(calls).toEqual([
      'list-units', 'list-containers',
      `stop ${A}.timer`, `stop ${B}-startup-1f.timer`, `stop ${A}.service`,
      `reset-failed ${A}.timer ${B}-startup-1f.timer ${A}.service`,
    ]);
    expect(r.removed.map((o) => o.name)).toEqual([`${A}.timer`, `${B}-startup-1f.timer`, `${A}.service`]);
    expect(r.lines[0]).toMatch(new RegExp(`^stopped orphaned healthcheck unit ${A}.timer \\(container aaaaaaaaaaaa is gone; unit 120s old\\)$`));
  });

  it('reports a unit it could not stop, with the command to try', async () => {
    const { gc } = setup({ [`${A}.timer`]: 120_000 }, [`${A}.timer`]);
    const r = await gc.run();
    expect(r.removed).toEqual([]);
    expect(r.failed).toEqual([{ unit: `${A}.timer`, error: 'denied' }]);
    expect(r.lines).toEqual([`could not stop ${A}.timer: denied; try: systemctl --user stop ${A}.timer`]);
  });

  it('a service that vanished with its timer is neither removed nor failed (seen in the lab)', async () => {
    const { gc } = setup({ [`${A}.timer`]: 120_000, [`${A}.service`]: 100_000 }, [], [`${A}.service`]);
    const r = await gc.run();
    expect(r.removed.map((o) => o.name)).toEqual([`${A}.timer`]);
    expect(r.failed).toEqual([]);
  });

  it('find() changes nothing', async () => {
    const { gc, calls } = setup({ [`${A}.timer`]: 120_000 });
    expect((await gc.find()).map((o) => o.name)).toEqual([`${A}.timer`]);
    expect(calls).toEqual(['list-units', 'list-containers']);
  });

  it('calls during a run share one more run', async () => {
    const { gc, calls } = setup({ [`${A}.timer`]: 120_000 });
    await Promise.all([gc.run(), gc.run(), gc.run(), gc.run()]);
    expect(calls.filter((c) => c === 'list-units')).toHaveLength(2);
  });
});
