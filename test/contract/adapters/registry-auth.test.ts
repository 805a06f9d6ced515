// RegistryAuth with real files in a temporary home and a fake docker-credential helper on PATH (a small sh
// script speaking the helper protocol: server URL on stdin, {"Username","Secret"} JSON on stdout), and
// RegistriesConfFiles reading a user's registries.conf and drop-ins.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryError } from '../../../src/adapters/errors.js';
import { RegistriesConfFiles } from '../../../src/adapters/registries-conf-files.js';
import { RegistryAuth } from '../../../src/adapters/registry-auth.js';
import { RegistryClient, createRegistryClient } from '../../../src/adapters/registry-client.js';
import { authFilePaths } from '../../../src/core/registry/auth-lookup.js';
import { parseImageRef } from '../../../src/core/registry/reference.js';
import type { ImageRef } from '../../../src/core/update/types.js';
import { captured } from '../../fixtures/registry/load.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

// Answers like docker-credential-helpers' programs; logs argv and stdin so the test sees what it was asked.
const HELPER = `#!/bin/sh
IFS= read -r url
printf '%s %s\\n' "$*" "$url" >>"$(dirname "$0")/calls.log"
case "$url" in
  ghcr.io) printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$url" ;;
  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"hub-user","Secret":"hub-secret"}' "$url" ;;
  token.io) printf '{"ServerURL":"%s","Username":"<token>","Secret":"a-refresh-token"}' "$url" ;;
  broken.io) echo "error: cannot autolaunch D-Bus without X11" >&2; exit 3 ;;
  junk.io) echo "not json" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;

let dir: string;
let home: string;
let runtime: string;
let bin: string;
let auth: RegistryAuth;

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-auth-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'docker-credential-fake'), HELPER);
  await chmod(join(bin, 'docker-credential-fake'), 0o755);
});

beforeEach(async () => {
  home = await mkdtemp(join(dir, 'home-'));
  runtime = await mkdtemp(join(dir, 'run-'));
  await rm(join(bin, 'calls.log'), { force: true });
  auth = new RegistryAuth({
    authFiles: authFilePaths({ HOME: home, XDG_RUNTIME_DIR: runtime }),
    helperEnv: { PATH: `${bin}:/usr/bin:/bin` },
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const calls = async () => (await readFile(join(bin, 'calls.log'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);

describe('RegistryAuth', () => {
  it('nothing anywhere: anonymous (undefined), and says where it looked', async () => {
    expect(await auth.credentialsFor('ghcr.io', 'a/b')).toBeUndefined();
    expect(auth.describe()).toBe(`${runtime}/containers/auth.json, ${home}/.config/containers/auth.json, ${home}/.docker/config.json`);
  });

  it('podman login\'s file in XDG_RUNTIME_DIR before ~/.docker/config.json', async () => {
    await writeJson(join(runtime, 'containers/auth.json'), { auths: { 'reg.lan/team': { auth: b64('podman:p1') } } });
    await writeJson(join(home, '.docker/config.json'), { auths: { 'reg.lan': { auth: b64('docker:d1') } } });
    expect(await auth.credentialsFor('reg.lan', 'team/app')).toEqual({
      username: 'podman', password: 'p1', source: `${runtime}/containers/auth.json (auths["reg.lan/team"])`,
    });
    expect(await auth.credentialsFor('reg.lan', 'other/app')).toEqual({
      username: 'docker', password: 'd1', source: `${home}/.docker/config.json (auths["reg.lan"])`,
    });
  });

  it('credHelpers: runs docker-credential-<name> get with the host on stdin', async () => {
    await writeJson(join(home, '.docker/config.json'), { credHelpers: { 'ghcr.io': 'fake' } });
    expect(await auth.credentialsFor('ghcr.io', 'me/app')).toEqual({ username: 'helper-user', password: 'helper-secret', source: 'docker-credential-fake' });
    expect(await calls()).toEqual(['get ghcr.io']);
  });

  it('credsStore for Docker Hub: asks with "docker.io", then with docker\'s legacy URL', async () => {
    await writeJson(join(home, '.docker/config.json'), { credsStore: 'fake', auths: { 'https://index.docker.io/v1/': {} } });
    expect(await auth.credentialsFor('docker.io', 'library/nginx')).toMatchObject({ username: 'hub-user', password: 'hub-secret' });
    expect(await calls()).toEqual(['get docker.io', 'get https://index.docker.io/v1/']);
  });

  it('a helper with nothing stored: anonymous', async () => {
    await writeJson(join(home, '.docker/config.json'), { credHelpers: { 'quay.io': 'fake' } });
    expect(await auth.credentialsFor('quay.io', 'a')).toBeUndefined();
  });

  it.each<[string, RegExp, string]>([
    ['broken.io', /the credential helper docker-credential-fake failed for broken.io \(exit 3: error: cannot autolaunch D-Bus without X11\); check it by hand: echo broken.io \| docker-credential-fake get/, 'config'],
    ['junk.io', /answered something that is not JSON/, 'config'],
    ['token.io', /holds an identity token for token.io, not a password/, 'auth'],
  ])('a helper that fails for %s → %s', async (host, message, kind) => {
    await writeJson(join(home, '.docker/config.json'), { credHelpers: { [host]: 'fake' } });
    const err = await auth.credentialsFor(host, 'a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ kind, registry: host });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('a-refresh-token');
  });

  it('a helper that is not installed → config error naming the program and the file that wants it', async () => {
    await writeJson(join(runtime, 'containers/auth.json'), { credHelpers: { 'ghcr.io': 'nope' } });
    const err = await auth.credentialsFor('ghcr.io', 'a').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STACKD_REGISTRY_CONFIG', registry: 'ghcr.io' });
    expect((err as Error).message).toBe(
      `${runtime}/containers/auth.json (credHelpers.ghcr.io) says to use the credential helper docker-credential-nope, which cannot be started (ENOENT); install it on stackd's PATH or remove the entry`);
  });

  it('a helper name that is a path is refused without running anything', async () => {
    await writeJson(join(runtime, 'containers/auth.json'), { credHelpers: { 'ghcr.io': '../../bin/sh' } });
    await expect(auth.credentialsFor('ghcr.io', 'a')).rejects.toThrow(/names the credential helper "..\/..\/bin\/sh", which is not a plain program name/);
  });

  it('an auth file that is not JSON → config error that does not quote it', async () => {
    await writeJson(join(runtime, 'containers/auth.json'), '{"auths": {"ghcr.io": {"auth": "c2VjcmV0OnNlY3JldA=="}');
    const err = await auth.credentialsFor('ghcr.io', 'a').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'config' });
    expect((err as Error).message).toBe(`the auth file ${runtime}/containers/auth.json is not valid JSON; podman refuses it too: fix it or log in again (podman login ghcr.io)`);
    expect((err as Error).message).not.toContain('c2VjcmV0');
  });

  it('REGISTRY_AUTH_FILE alone, as podman reads it', async () => {
    const only = join(dir, 'only-auth.json');
    await writeJson(only, { auths: { 'ghcr.io': { auth: b64('only:o') } } });
    await writeJson(join(runtime, 'containers/auth.json'), { auths: { 'ghcr.io': { auth: b64('runtime:r') } } });
    const a = new RegistryAuth({ authFiles: authFilePaths({ HOME: home, XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: only }), helperEnv: {} });
    expect(await a.credentialsFor('ghcr.io', 'x')).toMatchObject({ username: 'only' });
  });
});

describe('RegistriesConfFiles', () => {
  it('reads the user\'s file (replacing /etc\'s) and drop-ins in name order, later ones winning', async () => {
    const files: Record<string, string> = {
      '/etc/containers/registries.conf': '[[registry]]\nlocation = "sys.lan"\ninsecure = true\n',
      [`${home}/.config/containers/registries.conf`]: '[[registry]]\nlocation = "localhost:5000"\ninsecure = true\n',
      '/etc/containers/registries.conf.d/10-a.conf': '[[registry]]\nlocation = "a.lan"\ninsecure = true\n',
      [`${home}/.config/containers/registries.conf.d/20-b.conf`]: '[[registry]]\nlocation = "a.lan"\ninsecure = false\n',
      [`${home}/.config/containers/registries.conf.d/README`]: 'not toml at all [[[',
    };
    const conf = new RegistriesConfFiles({
      env: { HOME: home },
      readText: async (p) => files[p] ?? null,
      listDir: async (d) => Object.keys(files).filter((p) => p.startsWith(`${d}/`)).map((p) => p.slice(d.length + 1)),
    });
    expect(await conf.isInsecure('localhost:5000', 'fixture/app')).toBe(true);
    expect(await conf.isInsecure('sys.lan', 'x')).toBe(false); // the user's file replaced /etc's
    expect(await conf.isInsecure('a.lan', 'x')).toBe(false); // the user's drop-in came later
  });

  it('a broken file → config error naming it', async () => {
    const conf = new RegistriesConfFiles({ env: { HOME: home }, readText: async (p) => (p.endsWith('registries.conf') ? 'location = [' : null), listDir: async () => [] });
    await expect(conf.isInsecure('x.io', 'a')).rejects.toMatchObject({ kind: 'config', registry: 'x.io', message: expect.stringMatching(/registries.conf is not valid TOML/) as unknown });
  });

  it('real files: a user file in a temporary home', async () => {
    await writeJson(join(home, '.config/containers/registries.conf'), '[[registry]]\nlocation = "localhost:5000"\ninsecure = true\n');
    const conf = new RegistriesConfFiles({ env: { HOME: home } });
    expect(await conf.isInsecure('localhost:5000', 'fixture/app')).toBe(true);
    expect(await conf.isInsecure('ghcr.io', 'a')).toBe(false);
  });
});

describe('createRegistryClient: the user\'s files and helper, end to end against a loopback registry', () => {
  let server: Server;
  let registry: string;
  const tokenAuth: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        tokenAuth.push(req.headers.authorization);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"token":"t1","expires_in":300}');
        return;
      }
      if (req.headers.authorization !== 'Bearer t1') {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${registry}/token",service="svc"` });
        res.end();
        return;
      }
      const c = captured('head', 'fixture-app-list');
      res.writeHead(c.status, c.headers);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('insecure from registries.conf, credentials from the helper the auth file names', async () => {
    await writeJson(join(home, '.config/containers/registries.conf'), `[[registry]]\nlocation = "${registry}"\ninsecure = true\n`);
    await writeJson(join(runtime, 'containers/auth.json'), { credHelpers: { [registry]: 'fake' } });
    // the fake helper knows ghcr.io only; give it this registry too
    await writeFile(join(bin, 'docker-credential-fake'), HELPER.replace('ghcr.io)', `ghcr.io|${registry})`));
    const client: RegistryClient = createRegistryClient({ env: { HOME: home, XDG_RUNTIME_DIR: runtime }, helperEnv: { PATH: `${bin}:/usr/bin:/bin` } });
    try {
      const ref = parseImageRef(`${registry}/fixture/app:list`) as ImageRef;
      expect(await client.head(ref)).toMatchObject({ digest: captured('head', 'fixture-app-list').headers['docker-content-digest'] });
      expect(tokenAuth).toEqual([`Basic ${b64('helper-user:helper-secret')}`]);
      expect(await calls()).toEqual([`get ${registry}`]);
    } finally {
      await client.close();
      await writeFile(join(bin, 'docker-credential-fake'), HELPER);
    }
  });
});
