import { describe, expect, it } from 'vitest';
import { parseChallenges, pickChallenge, pullScope, tokenUrl } from '../../../../src/core/registry/challenge.js';
import { parseTokenResponse } from '../../../../src/core/registry/token.js';
import { parseRetryAfter } from '../../../../src/core/registry/retry-after.js';

describe('parseChallenges', () => {
  it.each<[string, string | string[], unknown]>([
    ['Docker Hub', 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"', [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
    ]],
    ['ghcr.io (scope with a comma-separated action list in quotes)', 'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull,push"', [
      { scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:user/image:pull,push' } },
    ]],
    ['scheme and names case-insensitive, values case-preserved', 'BEARER Realm="https://Auth.Example/Token", SERVICE="Reg.Example"', [
      { scheme: 'bearer', params: { realm: 'https://Auth.Example/Token', service: 'Reg.Example' } },
    ]],
    ['Basic with a realm', 'Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    ['bare Basic', 'basic', [{ scheme: 'basic', params: {} }]],
    ['unquoted token values and spaces around "="', 'Bearer realm = https://a/t , service=svc', [
      { scheme: 'bearer', params: { realm: 'https://a/t', service: 'svc' } },
    ]],
    ['escapes in a quoted value', 'Basic realm="say \\"hi\\", ok"', [{ scheme: 'basic', params: { realm: 'say "hi", ok' } }]],
    ['two challenges in one header', 'Basic realm="r1", Bearer realm="https://a/t",service="s"', [
      { scheme: 'basic', params: { realm: 'r1' } },
      { scheme: 'bearer', params: { realm: 'https://a/t', service: 's' } },
    ]],
    ['the header sent twice (undici gives an array)', ['Basic realm="r1"', 'Bearer realm="https://a/t"'], [
      { scheme: 'basic', params: { realm: 'r1' } },
      { scheme: 'bearer', params: { realm: 'https://a/t' } },
    ]],
    ['empty', '', []],
  ])('%s', (_name, header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  it('never throws on junk', () => {
    for (const junk of ['=', '"', ',,,', 'Bearer realm="unterminated', 'Bearer =x', '\u0000Bearer']) {
      expect(() => parseChallenges(junk)).not.toThrow();
    }
    expect(parseChallenges(undefined)).toEqual([]);
  });

  it('picks Bearer over Basic, and nothing it does not speak', () => {
    expect(pickChallenge(parseChallenges('Basic realm="r", Bearer realm="https://a/t"'))?.scheme).toBe('bearer');
    expect(pickChallenge(parseChallenges('Basic realm="r"'))?.scheme).toBe('basic');
    expect(pickChallenge(parseChallenges('Negotiate abc'))).toBeUndefined();
  });
});

describe('tokenUrl', () => {
  const bearer = (params: Record<string, string>) => ({ scheme: 'bearer', params });
  it.each<[Record<string, string>, string, unknown]>([
    [{ realm: 'https://auth.docker.io/token', service: 'registry.docker.io' }, 'library/nginx',
      { url: 'https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull' }],
    // no service: none sent
    [{ realm: 'https://reg.example/token' }, 'a/b', { url: 'https://reg.example/token?scope=repository%3Aa%2Fb%3Apull' }],
    // a realm with its own query keeps it
    [{ realm: 'https://reg.example/v2/token?account=x', service: 's' }, 'a', { url: 'https://reg.example/v2/token?account=x&service=s&scope=repository%3Aa%3Apull' }],
    // the challenge's scope (what the refused request needed) is replaced by our pull scope
    [{ realm: 'https://r/t', scope: 'repository:a:push,pull' }, 'a', { url: 'https://r/t?scope=repository%3Aa%3Apull' }],
    [{}, 'a', { error: 'the Bearer challenge names no realm (token service)' }],
    [{ realm: 'not a url' }, 'a', { error: 'the Bearer challenge\'s realm "not a url" is not a URL' }],
    [{ realm: 'file:///etc/passwd' }, 'a', { error: 'the Bearer challenge\'s realm "file:///etc/passwd" is not an http(s) URL' }],
  ])('%j for %s', (params, repository, expected) => {
    expect(tokenUrl(bearer(params), repository)).toEqual(expected);
  });

  it('the scope is repository:<repo>:pull', () => {
    expect(pullScope('library/nginx')).toBe('repository:library/nginx:pull');
  });
});

describe('parseTokenResponse', () => {
  const NOW = 1_000_000;
  it.each<[unknown, unknown]>([
    [{ token: 't', expires_in: 300 }, { token: 't', expiresAtMs: NOW + 300_000 }],
    [{ token: 't' }, { token: 't', expiresAtMs: NOW + 60_000 }], // the spec's default
    [{ token: 't', expires_in: 10 }, { token: 't', expiresAtMs: NOW + 60_000 }], // never less than 60 s
    [{ access_token: 'a', expires_in: 120 }, { token: 'a', expiresAtMs: NOW + 120_000 }],
    [{ token: '', access_token: 'a' }, { token: 'a', expiresAtMs: NOW + 60_000 }],
    [{ expires_in: 60 }, { error: 'the token service answered without "token" or "access_token"' }],
    ['t', { error: 'the token service did not answer a JSON object' }],
  ])('%j', (body, expected) => {
    expect(parseTokenResponse(body, NOW)).toEqual(expected);
  });
});

describe('parseRetryAfter', () => {
  const NOW = Date.parse('2026-11-28T10:00:00Z');
  it.each<[string | undefined, number | undefined]>([
    ['120', 120_000],
    [' 0 ', 0],
    ['Sat, 28 Nov 2026 10:00:30 GMT', 30_000],
    ['Sat, 28 Nov 2026 09:59:00 GMT', 0], // in the past: go now
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });
});
