import { describe, expect, it } from 'vitest';
import { validateProjectName, validateStackName, validateUnitName } from '../../../src/core/stack-name.js';

describe('validateStackName', () => {
  it.each(['immich', 'a', '0', 'tailscale-caddy', 'igpu_management', 'x'.repeat(63), '9lives'])('accepts %j', (name) => {
    expect(validateStackName(name)).toBeUndefined();
  });

  it.each<[string, string]>([
    ['', 'expected a stack name of 1 to 63 characters'],
    ['Immich', 'expected a stack name of 1 to 63 characters'],
    ['-immich', 'starting with a letter or digit'],
    ['_immich', 'starting with a letter or digit'],
    ['a.b', 'expected a stack name'],
    ['a b', 'expected a stack name'],
    ['ä', 'expected a stack name'],
    ['x'.repeat(64), 'at most 63 characters (got 64)'],
    ['x'.repeat(10_240), 'at most 63 characters (got 10240)'],
    ['podman', 'reserved'],
    ['stackd', 'reserved'],
    ['dbus', 'reserved'],
  ])('refuses %j (%s)', (name, expected) => {
    expect(validateStackName(name)).toContain(expected);
  });
});

describe('validateUnitName', () => {
  it.each(['immich.service', 'foo@bar.service', 'a:b_c.d-e.service', 'Immich.service'])('accepts %j', (unit) => {
    expect(validateUnitName(unit)).toBeUndefined();
  });

  it.each<[string, string]>([
    ['immich', 'ending in .service'],
    ['immich.timer', 'ending in .service'],
    ['.service', 'ending in .service'],
    ['a b.service', 'ending in .service'],
    [`${'a'.repeat(250)}.service`, 'ending in .service'],
    ['foo@.service', 'not a template'],
    ['stackd.service', 'stackd and podman own them'],
    ['podman.service', 'stackd and podman own them'],
    ['podman-auto-update.service', 'stackd and podman own them'],
  ])('refuses %j (%s)', (unit, expected) => {
    expect(validateUnitName(unit)).toContain(expected);
  });
});

describe('validateProjectName', () => {
  it.each(['immich', 'my_proj-1', '1abc', 'a'.repeat(100)])('accepts %j', (project) => {
    expect(validateProjectName(project)).toBeUndefined();
  });

  it.each(['', 'Immich', '-x', '_x', 'a.b', 'a b'])('refuses %j', (project) => {
    expect(validateProjectName(project)).toContain('expected a compose project name');
  });
});
