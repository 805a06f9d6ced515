import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeRecheck, recheckKey } from '../../../src/core/stale-health.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8'));

describe('judgeRecheck (answers of GET /libpod/containers/{id}/healthcheck captured in the lab)', () => {
  it.each([
    ['libpod-healthcheck-run.passed.json', true, 'healthy'],
    // the container still showed `starting`; the run itself answers unhealthy
    ['libpod-healthcheck-run.failed-while-starting.json', false, 'unhealthy'],
    // a 409 body (no healthcheck) is not a pass
    ['libpod-healthcheck-run.none-409.json', false, 'unreadable answer'],
  ])('%s → passed %s', (name, passed, status) => {
    expect(judgeRecheck(fixture(name))).toEqual({ passed, status });
  });

  it.each([
    [{ Status: 'starting' }, false],
    [{ Status: 'HEALTHY' }, false],
    [null, false],
    ['healthy', false],
    [{}, false],
  ])('%j → passed %s', (raw, passed) => {
    expect(judgeRecheck(raw).passed).toBe(passed);
  });
});

describe('recheckKey', () => {
  it('is the stack and service, so a recreated container (new id) shares its predecessor\'s window', () => {
    expect(recheckKey('immich', { id: 'a'.repeat(64), service: 'server' })).toBe(recheckKey('immich', { id: 'b'.repeat(64), service: 'server' }));
    expect(recheckKey('immich', { id: 'a'.repeat(64), service: 'server' })).not.toBe(recheckKey('paperless', { id: 'a'.repeat(64), service: 'server' }));
    expect(recheckKey('immich', { id: 'a'.repeat(64), service: '' })).not.toBe(recheckKey('immich', { id: 'b'.repeat(64), service: '' }));
  });
});
