import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  isPodmanTransientUnit, selectDanglingImages, selectFailedTransientUnits, selectPrunableContainers, toPruneContainer, type PruneContainer,
} from '../../../src/core/prune-plan.js';
import { parseListUnits } from '../../../src/core/timer-orphans.js';

const text = (name: string): string => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
const json = (name: string): unknown[] => JSON.parse(text(name)) as unknown[];

const EXITED_AT = 1795688108_000; // fm-cap-exited's ExitedAt in the fixture
const CREATED_AT = Date.parse('2026-11-26T10:15:08.608Z'); // fm-cap-created, never started
const HOUR = 3_600_000;

describe('toPruneContainer (libpod list captured in the lab)', () => {
  const [exited, created] = json('libpod-containers-json.prune.json').map((raw, i) => toPruneContainer(raw, i));
  it('counts an exited container from ExitedAt and keeps its project label', () => {
    expect(exited).toMatchObject({ name: 'fm-cap-exited', state: 'exited', projects: ['fm-cap-orphan'], stoppedSinceMs: EXITED_AT, isInfra: false });
  });
  it('counts a never-started container from Created (ExitedAt is Go\'s zero time)', () => {
    expect(created).toMatchObject({ name: 'fm-cap-created', state: 'created', projects: [], isInfra: false });
    expect(created?.stoppedSinceMs).toBe(CREATED_AT);
  });
});

describe('toPruneContainer keeps toolbox and distrobox containers', () => {
  const entry = (labels: Record<string, string>) => ({ Id: 'a'.repeat(64), Names: ['x'], State: 'exited', Labels: labels, ExitedAt: 1 });
  it.each([
    [{ 'com.github.containers.toolbox': 'true' }, 'com.github.containers.toolbox=true'],
    [{ manager: 'distrobox' }, 'manager=distrobox'],
    [{ manager: 'someone' }, undefined],
    [{}, undefined],
  ])('%j → keptBy %s', (labels, keptBy) => {
    expect(toPruneContainer(entry(labels)).keptBy).toBe(keptBy);
  });
});

describe('selectPrunableContainers', () => {
  const c = (over: Partial<PruneContainer>): PruneContainer => ({
    id: over.name ?? 'x', name: 'x', state: 'exited', projects: [], stoppedSinceMs: 0, isInfra: false, ...over,
  });
  const now = 10 * HOUR;
  const maxAge = 4 * HOUR;
  it.each([
    ['old exited, no project', c({ name: 'a' }), true],
    ['old exited, project of no stack', c({ name: 'b', projects: ['gone'] }), true],
    ['old created (never started)', c({ name: 'c', state: 'created' }), true],
    ['old exited, owned by docker-compose label', c({ name: 'd', projects: ['immich'] }), false],
    ['old exited, owned through its second label', c({ name: 'e', projects: ['old-name', 'immich'] }), false],
    ['running', c({ name: 'f', state: 'running' }), false],
    ['paused', c({ name: 'g', state: 'paused' }), false],
    ['young exited', c({ name: 'h', stoppedSinceMs: now - HOUR }), false],
    ['exactly maxAge', c({ name: 'i', stoppedSinceMs: now - maxAge }), false],
    ['unknown age', c({ name: 'j', stoppedSinceMs: undefined }), false],
    ['pod infra', c({ name: 'k', isInfra: true }), false],
    ['toolbox', c({ name: 'l', keptBy: 'com.github.containers.toolbox=true' }), false],
  ])('%s → %s', (_what, container, pruned) => {
    const out = selectPrunableContainers([container], new Set(['immich']), now, maxAge);
    expect(out.map((p) => p.container.name)).toEqual(pruned ? [container.name] : []);
  });

  it('reports the age it judged', () => {
    const [p] = selectPrunableContainers([c({ stoppedSinceMs: now - 5 * HOUR })], new Set(), now, maxAge);
    expect(p?.ageMs).toBe(5 * HOUR);
  });
});

describe('selectDanglingImages (libpod images list captured in the lab)', () => {
  const images = json('libpod-images-json.dangling.json');
  const DANGLING = '26fa9fd516f8a85ddff45137bff3a2de415aec5ade438af791a3c41fa2a50057';
  it('selects the untagged, unused image only (not the tagged one in use, not the tagged unused one)', () => {
    expect(selectDanglingImages(images, new Set())).toEqual([{ id: DANGLING, createdMs: 1795688106_000, wasNamed: 'localhost/fm-fixture:1' }]);
  });
  it.each([[DANGLING], [`sha256:${DANGLING}`]])('keeps a rollback target given as %s', (keep) => {
    expect(selectDanglingImages(images, new Set([keep]))).toEqual([]);
  });
  it.each([
    [{ Id: 'a', RepoTags: null, Containers: 1 }, false],
    [{ Id: 'b', RepoTags: ['<none>:<none>'], Containers: 0 }, true],
    [{ Id: 'c', RepoTags: [], Containers: 0 }, true],
    [{ Id: 'd', RepoTags: null }, false], // container count unknown
    [{ Id: 'e', RepoTags: ['x/y:1'], Dangling: false, Containers: 0 }, false],
    [{ RepoTags: null, Containers: 0 }, false], // no id
  ])('%j → %s', (img, selected) => {
    expect(selectDanglingImages([img], new Set()).length).toBe(selected ? 1 : 0);
  });
});

describe('podman transient units and reset-failed', () => {
  it.each([
    [`${'a'.repeat(64)}-58a6d0e5bb3d3a52.service`, true],
    [`${'a'.repeat(64)}.timer`, true],
    ['podman-10433.scope', true],
    [`libpod-${'b'.repeat(64)}.scope`, true],
    [`libpod-conmon-${'b'.repeat(64)}.scope`, true],
    ['podman.service', false],
    ['podman-auto-update.service', false],
    ['immich.service', false],
    ['fmcapfail.service', false],
    ['podman-pause-fdcdc86e.scope', false],
  ])('%s → %s', (name, transient) => {
    expect(isPodmanTransientUnit(name)).toBe(transient);
  });

  it('resets only the failed healthcheck service of the fixture, not the unrelated failed unit', () => {
    const units = parseListUnits(text('systemctl-list-units.failed.txt'));
    expect(units.filter((u) => u.active === 'failed').map((u) => u.name)).toContain('fmcapfail.service');
    expect(selectFailedTransientUnits(units)).toEqual(['f50f37911091e75938215fc732f5a0f5bac7e76d28a64670f4ff62786ffcd851-f203091e03defb.service']);
  });
});
