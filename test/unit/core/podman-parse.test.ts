import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ObservedContainer } from '../../../src/core/model.js';
import {
  PodmanParseError,
  parseContainerList,
  parseInspect,
  parseInspectHealthcheck,
  parseListEntry,
  selectProjectContainers,
} from '../../../src/core/podman-parse.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')) as unknown;

const demoList = parseContainerList(fixture('libpod-containers-json.demo.json'));
const fxList = parseContainerList(fixture('libpod-containers-json.fxtest-fxold.json'));
const byName = (list: ObservedContainer[], name: string): ObservedContainer => {
  const c = list.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} in fixture`);
  return c;
};

describe('parseContainerList (libpod /containers/json?all=true)', () => {
  it('reads the demo project, docker-compose labels', () => {
    const holder = byName(demoList, 'demo-holder-1');
    expect(holder).toMatchObject({
      id: '8e9286b1ed35c395fb0f9ad77bc7fb988234491d36f4181fcdf5aa270d208552',
      service: 'holder',
      project: 'demo',
      state: 'running',
      exitCode: 0,
      health: 'healthy',
      image: 'localhost/busybox:lab',
      imageId: '07676f0a81b077ec90bc907ca86525ac184e7f1dfafd81787fcf2cfcadf69061',
      startedAt: '2026-11-26T09:57:37.000Z',
      createdAt: '2026-11-26T09:57:22.738Z',
    });
    expect(holder.labels['PODMAN_SYSTEMD_UNIT']).toBe('demo.service');
    expect(demoList.map((c) => c.service).sort()).toEqual(['app', 'client', 'holder', 'web']);
  });

  it.each([
    // name, state, exit code, health: from the list entry's State, ExitCode and Status fields
    ['demo-holder-1', 'running', 0, 'healthy'],
    ['demo-client-1', 'running', 0, 'none'],
    ['fxtest-sick-1', 'running', 0, 'unhealthy'],
    ['fxtest-slow-1', 'running', 0, 'starting'],
    ['fxtest-nohc-1', 'running', 0, 'reset'],
    ['fxtest-once-1', 'exited', 0, 'none'],
    ['fxtest-crash-1', 'exited', 3, 'none'],
  ] as const)('%s: %s, exit %i, health %s', (name, state, exitCode, health) => {
    const c = byName([...demoList, ...fxList], name);
    expect({ state: c.state, exitCode: c.exitCode, health: c.health }).toEqual({ state, exitCode, health });
  });

  it('reads podman-compose labels (io.podman.compose.*)', () => {
    expect(byName(fxList, 'fxold_web_1')).toMatchObject({ project: 'fxold', service: 'web' });
    expect(byName(fxList, 'fxold_web_1').labels['PODMAN_SYSTEMD_UNIT']).toBe('podman-compose@fxold.service');
  });

  it('leaves startedAt absent for a never-started container (zero time)', () => {
    const c = parseListEntry({ Id: 'x', Names: ['/n'], StartedAt: -62135596800, Created: '0001-01-01T00:00:00Z' });
    expect(c.startedAt).toBeUndefined();
    expect(c.createdAt).toBeUndefined();
    expect(c.name).toBe('n');
    expect(c).toMatchObject({ service: '', project: '', health: 'none', labels: {} });
  });

  it('rejects what is not a list, and entries without an Id, saying what arrived', () => {
    expect(() => parseContainerList({ message: 'no such' })).toThrow(PodmanParseError);
    expect(() => parseContainerList({ message: 'no such' })).toThrow(/array, got an object/);
    expect(() => parseContainerList([{ Id: 'a' }, { Names: ['x'] }])).toThrow(/entry \[1\]/);
  });
});

describe('parseInspect (libpod /containers/{id}/json)', () => {
  it('reads a healthy container with a healthcheck', () => {
    const c = parseInspect(fixture('libpod-inspect.holder-healthy.json'));
    expect(c).toMatchObject({
      id: '8e9286b1ed35c395fb0f9ad77bc7fb988234491d36f4181fcdf5aa270d208552',
      name: 'demo-holder-1',
      service: 'holder',
      project: 'demo',
      state: 'running',
      health: 'healthy',
      startedAt: '2026-11-26T09:57:37.066Z',
      image: 'localhost/busybox:lab',
    });
    expect(c.healthSince).toBeUndefined();
  });

  it('reads a container without a healthcheck as health none', () => {
    const c = parseInspect(fixture('libpod-inspect.app-no-healthcheck.json'));
    expect(c).toMatchObject({ service: 'app', health: 'none', state: 'running' });
  });

  it('dates an unhealthy container from the first failing entry still in the log', () => {
    // FailingStreak is 9 but podman keeps 5 entries: the streak began at or before the oldest one.
    const c = parseInspect(fixture('libpod-inspect.sick-unhealthy.json'));
    expect(c.health).toBe('unhealthy');
    expect(c.healthSince).toBe('2026-11-26T10:00:39.751Z');
    expect(c.startedAt).toBe('2026-11-26T10:00:29.200Z');
  });

  it('stops at the last passing entry and at FailingStreak', () => {
    const base = { Id: 'x', Config: { Labels: {} } };
    const log = [
      { Start: '2026-01-01T00:00:01Z', ExitCode: 1 },
      { Start: '2026-01-01T00:00:02Z', ExitCode: 0 },
      { Start: '2026-01-01T00:00:03Z', ExitCode: 1 },
      { Start: '2026-01-01T00:00:04Z', ExitCode: 1 },
    ];
    const since = (streak: number) =>
      parseInspect({ ...base, State: { Status: 'running', Health: { Status: 'unhealthy', FailingStreak: streak, Log: log } } }).healthSince;
    expect(since(5)).toBe('2026-01-01T00:00:03.000Z');
    expect(since(1)).toBe('2026-01-01T00:00:04.000Z');
    expect(since(0)).toBeUndefined();
  });

  it.each([
    ['libpod-inspect.slow-starting.json', 'slow', 'running', 0, 'starting'],
    ['libpod-inspect.nohc-healthcheck-disabled.json', 'nohc', 'running', 0, 'none'],
    ['libpod-inspect.once-exited-0.json', 'once', 'exited', 0, 'none'],
    ['libpod-inspect.crash-exited-3.json', 'crash', 'exited', 3, 'none'],
  ] as const)('%s: service %s, %s, exit %i, health %s', (file, service, state, exitCode, health) => {
    const c = parseInspect(fixture(file));
    expect({ service: c.service, state: c.state, exitCode: c.exitCode, health: c.health, project: c.project }).toEqual({
      service,
      state,
      exitCode,
      health,
      project: 'fxtest',
    });
  });

  it('reads podman-compose labels from inspect', () => {
    const c = parseInspect(fixture('libpod-inspect.fxold-podman-compose-labels.json'));
    expect(c).toMatchObject({ project: 'fxold', service: 'web', name: 'fxold_web_1' });
  });

  it('rejects a non-object', () => {
    expect(() => parseInspect('nope')).toThrow(/libpod inspect result.*`nope` \(string\)/);
  });
});

describe('parseInspectHealthcheck', () => {
  it.each([
    ['libpod-inspect.holder-healthy.json', { disabled: false, intervalMs: 5000, timeoutMs: 30000, retries: 2, startPeriodMs: 2000 }],
    ['libpod-inspect.slow-starting.json', { disabled: false, intervalMs: 3000, timeoutMs: 2000, retries: 3, startPeriodMs: 3_600_000 }],
    ['libpod-inspect.nohc-healthcheck-disabled.json', { disabled: true, intervalMs: 30000, timeoutMs: 30000, retries: 3, startPeriodMs: 0 }],
    ['libpod-inspect.app-no-healthcheck.json', undefined],
  ])('%s', (file, expected) => {
    expect(parseInspectHealthcheck(fixture(file))).toEqual(expected);
  });
});

describe('selectProjectContainers', () => {
  const all = [...demoList, ...fxList];

  it('matches docker-compose and podman-compose labels, deduplicated by id', () => {
    // The adapter may list once per label scheme; fxold_db_1 carries both labels and so arrives twice.
    const doubled = [...all, ...all.filter((c) => c.name.startsWith('fxold'))];
    const fxold = selectProjectContainers(doubled, 'fxold');
    expect(fxold.map((c) => c.name).sort()).toEqual(['fxold_db_1', 'fxold_web_1']);
  });

  it.each([
    ['demo', 4],
    ['fxtest', 5],
    ['fxold', 2],
    ['nope', 0],
  ])('project %s has %i containers', (project, count) => {
    const selected = selectProjectContainers(all, project);
    expect(selected).toHaveLength(count);
    expect(new Set(selected.map((c) => c.id)).size).toBe(count);
  });

  it('does not match a project name that only prefixes another', () => {
    expect(selectProjectContainers(all, 'fx')).toEqual([]);
    expect(selectProjectContainers(all, 'dem')).toEqual([]);
  });
});
