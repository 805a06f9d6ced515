import { describe, expect, it } from 'vitest';
import { authFilePaths, findCredentials } from '../../../../src/core/registry/auth-lookup.js';
import type { AuthFile } from '../../../../src/core/registry/auth-lookup.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const RUN = '/run/user/1000/containers/auth.json';
const CONF = '/home/u/.config/containers/auth.json';
const DOCKER = '/home/u/.docker/config.json';

describe('authFilePaths (podman order)', () => {
  it.each<[Record<string, string | number>, string[]]>([
    [{ HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' }, [RUN, CONF, DOCKER]],
    [{ HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000', XDG_CONFIG_HOME: '/cfg' }, [RUN, '/cfg/containers/auth.json', DOCKER]],
    [{ HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000', DOCKER_CONFIG: '/dc' }, [RUN, CONF, '/dc/config.json']],
    [{ HOME: '/home/u', uid: 1000 }, ['/run/containers/1000/auth.json', CONF, DOCKER]],
    // REGISTRY_AUTH_FILE: podman reads that file and no other
    [{ HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000', REGISTRY_AUTH_FILE: '/srv/auth.json' }, ['/srv/auth.json']],
    [{}, []],
  ])('%j', (env, paths) => {
    expect(authFilePaths(env)).toEqual(paths);
  });
});

describe('findCredentials', () => {
  const basic = (file: string, key: string, username = 'u', password = 'p') => ({ kind: 'basic', username, password, file, key });
  it.each<[string, AuthFile[], string, string, unknown]>([
    ['host key', [{ path: RUN, content: { auths: { 'ghcr.io': { auth: b64('u:p') } } } }], 'ghcr.io', 'me/app', basic(RUN, 'ghcr.io')],
    ['most specific key first: repository', [{ path: RUN, content: { auths: {
      'reg.lan': { auth: b64('host:h') }, 'reg.lan/team': { auth: b64('ns:n') }, 'reg.lan/team/app': { auth: b64('repo:r') },
    } } }], 'reg.lan', 'team/app', basic(RUN, 'reg.lan/team/app', 'repo', 'r')],
    ['then the namespace', [{ path: RUN, content: { auths: { 'reg.lan': { auth: b64('host:h') }, 'reg.lan/team': { auth: b64('ns:n') } } } }],
      'reg.lan', 'team/other', basic(RUN, 'reg.lan/team', 'ns', 'n')],
    ['a namespace key does not match a sibling prefix', [{ path: RUN, content: { auths: { 'reg.lan/te': { auth: b64('x:y') }, 'reg.lan': { auth: b64('host:h') } } } }],
      'reg.lan', 'team/app', basic(RUN, 'reg.lan', 'host', 'h')],
    ['the first file with an entry wins', [
      { path: RUN, content: { auths: { 'other.io': { auth: b64('o:o') } } } },
      { path: CONF, content: { auths: { 'ghcr.io': { auth: b64('conf:c') } } } },
      { path: DOCKER, content: { auths: { 'ghcr.io': { auth: b64('docker:d') } } } },
    ], 'ghcr.io', 'a', basic(CONF, 'ghcr.io', 'conf', 'c')],
    ['missing files are skipped', [{ path: RUN, content: undefined }, { path: DOCKER, content: { auths: { 'ghcr.io': { auth: b64('u:p') } } } }],
      'ghcr.io', 'a', basic(DOCKER, 'ghcr.io')],
    ['docker.io as docker writes it', [{ path: DOCKER, content: { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:h') } } } }],
      'docker.io', 'library/nginx', basic(DOCKER, 'https://index.docker.io/v1/', 'hub', 'h')],
    ['docker.io as podman writes it', [{ path: RUN, content: { auths: { 'docker.io': { auth: b64('hub:h') } } } }],
      'docker.io', 'library/nginx', basic(RUN, 'docker.io', 'hub', 'h')],
    ['docker.io/namespace before docker.io', [{ path: RUN, content: { auths: { 'docker.io': { auth: b64('hub:h') }, 'docker.io/me': { auth: b64('me:m') } } } }],
      'docker.io', 'me/app', basic(RUN, 'docker.io/me', 'me', 'm')],
    ['a URL key of another registry', [{ path: DOCKER, content: { auths: { 'https://reg.lan:8443/v2/': { auth: b64('u:p') } } } }],
      'reg.lan:8443', 'a', basic(DOCKER, 'https://reg.lan:8443/v2/')],
    ['a password with a colon, and NULs some tools appended', [{ path: RUN, content: { auths: { 'r.io': { auth: b64('u:pa:ss\0\0') } } } }],
      'r.io', 'a', basic(RUN, 'r.io', 'u', 'pa:ss')],
    ['credHelpers for the host, before auths', [{ path: DOCKER, content: { credHelpers: { 'ghcr.io': 'pass' }, auths: { 'ghcr.io': { auth: b64('u:p') } } } }],
      'ghcr.io', 'a', { kind: 'helper', helper: 'pass', serverUrls: ['ghcr.io'], file: DOCKER, key: 'credHelpers.ghcr.io' }],
    ['credHelpers for Docker Hub under its legacy URL', [{ path: DOCKER, content: { credHelpers: { 'https://index.docker.io/v1/': 'secretservice' } } }],
      'docker.io', 'library/nginx', { kind: 'helper', helper: 'secretservice', serverUrls: ['https://index.docker.io/v1/', 'docker.io'], file: DOCKER, key: 'credHelpers.https://index.docker.io/v1/' }],
    ['credsStore with docker\'s empty marker entry', [{ path: DOCKER, content: { credsStore: 'desktop', auths: { 'ghcr.io': {} } } }],
      'ghcr.io', 'a', { kind: 'helper', helper: 'desktop', serverUrls: ['ghcr.io'], file: DOCKER, key: 'credsStore' }],
    ['credsStore for Docker Hub asks with both spellings', [{ path: DOCKER, content: { credsStore: 'desktop' } }],
      'docker.io', 'library/x', { kind: 'helper', helper: 'desktop', serverUrls: ['docker.io', 'https://index.docker.io/v1/'], file: DOCKER, key: 'credsStore' }],
    ['an auths entry in an earlier file beats credsStore in a later one', [
      { path: CONF, content: { auths: { 'ghcr.io': { auth: b64('u:p') } } } },
      { path: DOCKER, content: { credsStore: 'desktop' } },
    ], 'ghcr.io', 'a', basic(CONF, 'ghcr.io')],
  ])('%s', (_name, files, registry, repository, expected) => {
    expect(findCredentials(files, registry, repository)).toEqual(expected);
  });

  it('none, with notes that never hold a secret', () => {
    const r = findCredentials([
      { path: RUN, content: { auths: { 'ghcr.io': { auth: b64('no-colon-secret') } } } },
      { path: CONF, content: { auths: { 'ghcr.io': {} } } },
      { path: DOCKER, content: 'junk' },
    ], 'ghcr.io', 'a');
    expect(r).toEqual({ kind: 'none', notes: [
      `${RUN}: auths["ghcr.io"].auth is not base64 of "user:password"; skipped`,
      `${CONF}: auths["ghcr.io"] has no "auth" (docker's marker for credentials kept in a helper)`,
      `${DOCKER} is not a JSON object; skipped`,
    ] });
    expect(JSON.stringify(r)).not.toContain('no-colon-secret');
  });

  it('no entry for the registry: anonymous', () => {
    expect(findCredentials([{ path: RUN, content: { auths: { 'quay.io': { auth: b64('u:p') } } } }], 'ghcr.io', 'a')).toEqual({ kind: 'none', notes: [] });
    expect(findCredentials([], 'ghcr.io', 'a')).toEqual({ kind: 'none', notes: [] });
  });
});
