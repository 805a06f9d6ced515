import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  isInsecureRegistry, mergeRegistriesConf, parseRegistriesConf, registriesConfPaths,
} from '../../../../src/core/registry/registries-conf.js';
import type { RegistryConfEntry } from '../../../../src/core/registry/registries-conf.js';

// the lab user's file exactly as test/lab/provision.sh writes it
const LAB = `unqualified-search-registries = []

[[registry]]
location = "localhost:5000"
insecure = true

[[registry]]
location = "127.0.0.1:5000"
insecure = true
`;

// a fuller real-world file: things a subset parser would trip on
const FULL = `unqualified-search-registries = ["docker.io", "quay.io"]
short-name-mode = "enforcing"

[aliases]
"nginx" = "docker.io/library/nginx"

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "mirror.lan:5000"
insecure = true

[[registry]]
location = "reg.lan"
insecure = true

[[registry]]
prefix = "reg.lan/secure"
location = "reg.lan/secure"
insecure = false

[[registry]]
location = "*.home.arpa"
insecure = true
`;

function entries(text: string, file = 'f.conf'): RegistryConfEntry[] {
  const r = parseRegistriesConf(text, file);
  if (!Array.isArray(r)) throw new Error(r.error);
  return r;
}

describe('registries.conf', () => {
  it('reads the lab file: both spellings of the lab registry are insecure', () => {
    const e = entries(LAB);
    expect(isInsecureRegistry(e, 'localhost:5000', 'fixture/app')).toBe(true);
    expect(isInsecureRegistry(e, '127.0.0.1:5000', 'lab/busybox')).toBe(true);
    expect(isInsecureRegistry(e, 'docker.io', 'library/nginx')).toBe(false);
    // same host, other port: another registry
    expect(isInsecureRegistry(e, 'localhost:5001', 'x')).toBe(false);
  });

  it.each<[string, string, boolean]>([
    ['reg.lan', 'app', true],
    ['reg.lan', 'secure/app', false], // the longest prefix decides
    ['reg.lan', 'securex/app', true], // "reg.lan/secure" ends at a path boundary
    ['reg.lan2', 'app', false],
    ['nas.home.arpa', 'app', true],
    ['nas.home.arpa:5000', 'app', true],
    ['home.arpa', 'app', false], // the wildcard wants a subdomain
    ['docker.io', 'library/nginx', false], // a mirror's insecure is the mirror's
  ])('a fuller file: %s/%s insecure=%j', (registry, repository, insecure) => {
    expect(isInsecureRegistry(entries(FULL), registry, repository)).toBe(insecure);
  });

  it('reads version 1 files', () => {
    const e = entries('[registries.search]\nregistries = ["docker.io"]\n[registries.insecure]\nregistries = ["old.lan:5000"]\n');
    expect(isInsecureRegistry(e, 'old.lan:5000', 'a')).toBe(true);
    expect(isInsecureRegistry(e, 'docker.io', 'a')).toBe(false);
  });

  it('a later drop-in replaces an entry with the same prefix', () => {
    const merged = mergeRegistriesConf([entries(LAB, 'main'), entries('[[registry]]\nlocation = "localhost:5000"\ninsecure = false\n', 'drop-in')]);
    expect(isInsecureRegistry(merged, 'localhost:5000', 'a')).toBe(false);
    expect(isInsecureRegistry(merged, '127.0.0.1:5000', 'a')).toBe(true);
  });

  it('refuses a broken file, naming it', () => {
    expect(parseRegistriesConf('[[registry]\nlocation = ', '/etc/containers/registries.conf')).toEqual({
      error: expect.stringMatching(/^\/etc\/containers\/registries.conf is not valid TOML \(.+\); podman cannot read it either: fix it$/) as unknown,
    });
    expect(parseRegistriesConf('[[registry]]\ninsecure = true\n', 'x.conf')).toEqual({ error: 'x.conf: [[registry]] number 1 has neither location nor prefix' });
  });

  it('the lab file on this machine, when provisioned, reads the same', () => {
    let text: string;
    try {
      text = readFileSync('/home/stackdlab/.config/containers/registries.conf', 'utf8');
    } catch {
      return; // not provisioned here: the inline copy above is the test
    }
    expect(isInsecureRegistry(entries(text), 'localhost:5000', 'fixture/app')).toBe(true);
  });

  it.each<[Record<string, string>, boolean, unknown]>([
    [{ HOME: '/home/u' }, true, { main: '/home/u/.config/containers/registries.conf', dropInDirs: ['/etc/containers/registries.conf.d', '/home/u/.config/containers/registries.conf.d'] }],
    [{ HOME: '/home/u' }, false, { main: '/etc/containers/registries.conf', dropInDirs: ['/etc/containers/registries.conf.d', '/home/u/.config/containers/registries.conf.d'] }],
    [{ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' }, true, { main: '/cfg/containers/registries.conf', dropInDirs: ['/etc/containers/registries.conf.d', '/cfg/containers/registries.conf.d'] }],
  ])('paths for %j (user file exists: %j)', (env, exists, expected) => {
    expect(registriesConfPaths(env, exists)).toEqual(expected);
  });
});
