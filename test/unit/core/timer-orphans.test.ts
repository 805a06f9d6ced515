import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  HEALTHCHECK_UNIT_RE,
  healthcheckContainerId,
  parseListUnits,
  selectOrphanUnits,
  type ListedUnit,
} from '../../../src/core/timer-orphans.js';

const text = (name: string): string => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
const ID = '8e9286b1ed35c395fb0f9ad77bc7fb988234491d36f4181fcdf5aa270d208552';
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('HEALTHCHECK_UNIT_RE', () => {
  it.each([
    [`${ID}.timer`, true],
    [`${ID}.service`, true],
    [`${ID}-58a6d0e5bb3d3a52.timer`, true],
    [`${ID}-startup.timer`, true],
    [`${ID}-startup-0a1b2c3d4e5f6071.service`, true],
    [`${ID}-1.timer`, true],
    [`${ID}-58a6d0e5bb3d3a521.timer`, false], // 17 hex
    [`${ID.slice(1)}.timer`, false], // 63 hex
    [`${ID}0.timer`, false], // 65 hex
    [`${ID.toUpperCase()}.timer`, false],
    [`${ID}-startup-.timer`, false],
    [`${ID}-xyz.timer`, false],
    [`${ID}.scope`, false],
    [`${ID}.timer.bak`, false],
    ['podman-auto-update.timer', false],
    ['stackd-fx-unrelated.timer', false],
    [`run-${ID}.timer`, false],
  ])('%s → %s', (name, matches) => {
    expect(HEALTHCHECK_UNIT_RE.test(name)).toBe(matches);
    expect(healthcheckContainerId(name)).toBe(matches ? ID.slice(0, 64) : undefined);
  });
});

describe('parseListUnits', () => {
  it('reads the demo fixture: every line, names intact', () => {
    const fixture = text('systemctl-list-units.demo.txt');
    const units = parseListUnits(fixture);
    expect(units).toHaveLength(fixture.split('\n').filter((l) => l.trim()).length);
    expect(units.find((u) => u.name === `${ID}-58a6d0e5bb3d3a52.service`)).toEqual({
      name: `${ID}-58a6d0e5bb3d3a52.service`,
      load: 'loaded',
      active: 'inactive',
      sub: 'dead',
      description: `[systemd-run] /usr/bin/podman healthcheck run ${ID}`,
    });
    expect(units.find((u) => u.name === 'podman.service')).toMatchObject({ active: 'active', sub: 'running', description: 'Podman API Service' });
  });

  it('reads failed units and the three orphan forms from the orphans fixture', () => {
    const units = parseListUnits(text('systemctl-list-units.orphans.txt'));
    const hc = units.filter((u) => HEALTHCHECK_UNIT_RE.test(u.name)).map((u) => u.name);
    expect(hc).toContain(`${A}.timer`);
    expect(hc).toContain(`${B}-1f2e3d4c5b6a7988.timer`);
    expect(hc).toContain(`${C}-startup-0a1b2c3d4e5f6071.timer`);
    expect(hc).toHaveLength(14); // 7 ids × (timer + service)
    expect(units.find((u) => u.name.startsWith('14778c8b123d') && u.name.endsWith('.service'))).toMatchObject({ active: 'failed', sub: 'failed' });
  });

  it('drops the ● marker systemd prints without --plain, and blank lines', () => {
    const units = parseListUnits(`\n● ${ID}.service loaded failed failed [systemd-run] /usr/bin/podman healthcheck run ${ID}\n  x.timer loaded active waiting\n\n`);
    expect(units.map((u) => [u.name, u.active, u.description])).toEqual([
      [`${ID}.service`, 'failed', `[systemd-run] /usr/bin/podman healthcheck run ${ID}`],
      ['x.timer', 'active', ''],
    ]);
  });
});

describe('selectOrphanUnits', () => {
  const units = parseListUnits(text('systemctl-list-units.orphans.txt'));
  // Containers that existed when the orphans fixture was taken (demo + fxtest); a, b, c never did.
  const live = new Set([
    ID,
    '14778c8b123d1b38dc2c52445d6c5372aad6aa9f14fb42170267f8ece2ce9ebc',
    '249cfec591a01ebe4f212fa851eec14b82140acb733c824a9c644fa7d68c3c5c',
    '9d9df0a3c4062890481c55485339530b75964529f01a3b200a68ee6eadbab085',
  ]);
  const oldAge = () => 10 * 60_000;

  it('selects exactly the orphans of all three forms, timers and services', () => {
    const names = selectOrphanUnits(units, live, oldAge, 60_000).map((o) => o.name).sort();
    expect(names).toEqual([
      `${A}.service`,
      `${A}.timer`,
      `${B}-1f2e3d4c5b6a7988.service`,
      `${B}-1f2e3d4c5b6a7988.timer`,
      `${C}-startup-0a1b2c3d4e5f6071.service`,
      `${C}-startup-0a1b2c3d4e5f6071.timer`,
    ]);
  });

  it('never selects a unit outside the healthcheck pattern, however old', () => {
    const names = selectOrphanUnits(units, new Set(), oldAge, 0).map((o) => o.name);
    expect(names.every((n) => HEALTHCHECK_UNIT_RE.test(n))).toBe(true);
    expect(names).not.toContain('stackd-fx-unrelated.timer');
    expect(names).not.toContain('podman.service');
    expect(names).toHaveLength(14);
  });

  it('keeps a live container\'s units, also when only its short id is known', () => {
    const names = selectOrphanUnits(units, new Set([ID.slice(0, 12)]), oldAge, 0).map((o) => o.name);
    expect(names.some((n) => n.startsWith(ID))).toBe(false);
    // 11 characters are too few to stand for a container
    const tooShort = selectOrphanUnits(units, new Set([ID.slice(0, 11)]), oldAge, 0).map((o) => o.name);
    expect(tooShort.some((n) => n.startsWith(ID))).toBe(true);
  });

  it.each<[string, number | undefined, boolean]>([
    ['older than the minimum', 61_000, true],
    ['exactly the minimum', 60_000, false],
    ['brand new', 1_000, false],
    ['age unknown', undefined, false],
  ])('age %s → selected %s', (_label, age, selected) => {
    const one: ListedUnit[] = [{ name: `${A}.timer`, load: 'loaded', active: 'active', sub: 'elapsed', description: '' }];
    expect(selectOrphanUnits(one, new Set(), () => age, 60_000)).toEqual(selected ? [{ name: `${A}.timer`, containerId: A, ageMs: age }] : []);
  });

  it('lists a unit once even if systemctl printed it twice', () => {
    const u: ListedUnit = { name: `${A}.timer`, load: 'loaded', active: 'active', sub: 'elapsed', description: '' };
    expect(selectOrphanUnits([u, u], new Set(), oldAge, 0)).toHaveLength(1);
  });
});
