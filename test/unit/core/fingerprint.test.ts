import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintInputs, type FingerprintPart } from '../../../src/core/fingerprint.js';

const compose: FingerprintPart = { path: '/srv/a/compose.yml', content: 'services: {}\n' };
const env: FingerprintPart = { path: '/run/user/1000/secrets/a.env', content: 'A=1\n' };
const childEnv = { PATH: '/usr/bin', HOME: '/home/u' };
const base = fingerprintInputs([compose, env], childEnv);

describe('fingerprintInputs', () => {
  it('is a sha256 hex digest and deterministic', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprintInputs([{ ...compose }, { ...env }], { ...childEnv })).toBe(base);
  });

  it('ignores the order of environment keys', () => {
    expect(fingerprintInputs([compose, env], { HOME: '/home/u', PATH: '/usr/bin' })).toBe(base);
  });

  it.each<[string, FingerprintPart[], Record<string, string>]>([
    ['a file changed', [{ ...compose, content: 'services: {a: {}}\n' }, env], childEnv],
    ['a missing file instead of an empty one', [compose, { ...env, content: null }], childEnv],
    ['a file renamed', [{ ...compose, path: '/srv/b/compose.yml' }, env], childEnv],
    ['files in another order (compose -f order matters)', [env, compose], childEnv],
    ['a file added', [compose, env, { path: '/srv/a/override.yml', content: '' }], childEnv],
    ['an env value changed', [compose, env], { ...childEnv, PATH: '/bin' }],
    ['an env key added', [compose, env], { ...childEnv, XDG_RUNTIME_DIR: '/run/user/1000' }],
    ['a value moved from path to content', [{ path: '/srv/a/compose.ym', content: 'lservices: {}\n' }, env], childEnv],
    ['a value moved from key to value', [compose, env], { PATH: '/usr/bin', HOM: 'E/home/u' }],
  ])('changes when %s', (_label, parts, e) => {
    expect(fingerprintInputs(parts, e)).not.toBe(base);
  });

  it('tells a missing file from an empty one from the literal text "null"', () => {
    const digests = [null, '', 'null'].map((content) => fingerprintInputs([{ path: '/x', content }], {}));
    expect(new Set(digests).size).toBe(3);
  });

  it('hashes a documented canonical form (so a cache written by one build is read by the next)', () => {
    const canonical = JSON.stringify({ v: 1, files: [['/x', 'y']], env: [['A', '1'], ['B', '2']] });
    expect(fingerprintInputs([{ path: '/x', content: 'y' }], { B: '2', A: '1' })).toBe(
      createHash('sha256').update(canonical, 'utf8').digest('hex'),
    );
  });

  describe('with the compose arguments', () => {
    const args = ['-p', 'app', '-f', '/srv/a/compose.yml', '--env-file', '/run/user/1000/secrets/a.env'];
    const withArgs = fingerprintInputs([compose, env], childEnv, args);

    it('without arguments is the documented v1 form (no argument list at all)', () => {
      expect(fingerprintInputs([compose, env], childEnv, [])).toBe(base);
    });

    it.each<[string, string[]]>([
      ['the project name changes', ['-p', 'app2', ...args.slice(2)]],
      // the same files read, but one more is read by compose for interpolation: the dedup of inputs hid this
      ['an env file changes role (--env-file added)', [...args, '--env-file', '/srv/a/web.env']],
      ['the arguments are reordered', [...args.slice(2), ...args.slice(0, 2)]],
    ])('changes when %s', (_what, other) => {
      expect(fingerprintInputs([compose, env], childEnv, other)).not.toBe(withArgs);
    });

    it('differs from the same inputs without arguments, and cannot be confused with a file', () => {
      expect(withArgs).not.toBe(base);
      expect(fingerprintInputs([compose, env, { path: '-p', content: 'app' }], childEnv)).not.toBe(fingerprintInputs([compose, env], childEnv, ['-p', 'app']));
    });
  });
});
