import { describe, expect, it } from 'vitest';
import { apiHost, checkDigest, isDigest, isImageRefError, parseImageRef } from '../../../../src/core/registry/reference.js';

const D = 'sha256:3051cf68c64f0fa047d99c48a51f6f55d9441f2282051e6d264cd40274dce832';

describe('parseImageRef normalizes as docker and podman do', () => {
  it.each<[string, string, string, string | undefined, string | undefined, string]>([
    // text, registry, repository, tag, digest, canonical
    ['nginx', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined, 'docker.io/library/nginx:1.27'],
    ['library/nginx', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest'],
    ['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest'],
    ['docker.io/x', 'docker.io', 'library/x', 'latest', undefined, 'docker.io/library/x:latest'],
    ['index.docker.io/x:2', 'docker.io', 'library/x', '2', undefined, 'docker.io/library/x:2'],
    // two components on Docker Hub: no library/ prefix
    ['docker.io/linuxserver/sonarr:4', 'docker.io', 'linuxserver/sonarr', '4', undefined, 'docker.io/linuxserver/sonarr:4'],
    ['immich-app/immich-server:release', 'docker.io', 'immich-app/immich-server', 'release', undefined, 'docker.io/immich-app/immich-server:release'],
    ['ghcr.io/immich-app/immich-server:v1.120.0', 'ghcr.io', 'immich-app/immich-server', 'v1.120.0', undefined, 'ghcr.io/immich-app/immich-server:v1.120.0'],
    // a one-component name on another registry keeps no library/
    ['quay.io/x', 'quay.io', 'x', 'latest', undefined, 'quay.io/x:latest'],
    ['localhost/busybox:lab', 'localhost', 'busybox', 'lab', undefined, 'localhost/busybox:lab'],
    ['localhost/x', 'localhost', 'x', 'latest', undefined, 'localhost/x:latest'],
    ['localhost:5000/fixture/app:list', 'localhost:5000', 'fixture/app', 'list', undefined, 'localhost:5000/fixture/app:list'],
    ['127.0.0.1:5000/lab/app', '127.0.0.1:5000', 'lab/app', 'latest', undefined, '127.0.0.1:5000/lab/app:latest'],
    ['registry.lan:8443/a/b/c:1_2-3.4', 'registry.lan:8443', 'a/b/c', '1_2-3.4', undefined, 'registry.lan:8443/a/b/c:1_2-3.4'],
    ['[::1]:5000/app:1', '[::1]:5000', 'app', '1', undefined, '[::1]:5000/app:1'],
    // separators inside a component
    ['docker.io/my_org/my__app-x.y', 'docker.io', 'my_org/my__app-x.y', 'latest', undefined, 'docker.io/my_org/my__app-x.y:latest'],
    // pinned by digest: no :latest is invented
    [`nginx@${D}`, 'docker.io', 'library/nginx', undefined, D, `docker.io/library/nginx@${D}`],
    [`quay.io/prometheus/node-exporter@${D}`, 'quay.io', 'prometheus/node-exporter', undefined, D, `quay.io/prometheus/node-exporter@${D}`],
    // tag and digest: both kept, the digest decides what is pulled
    [`registry.lan/app:1@${D}`, 'registry.lan', 'app', '1', D, `registry.lan/app:1@${D}`],
    // what compose hands over after interpolating image: "nginx:${TAG:-latest}" with TAG unset
    ['nginx:latest', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest'],
  ])('%s', (text, registry, repository, tag, digest, canonical) => {
    const ref = parseImageRef(text);
    expect(ref).toEqual({
      registry, repository, canonical,
      ...(tag !== undefined ? { tag } : {}),
      ...(digest !== undefined ? { digest } : {}),
    });
  });

  it.each<[string, RegExp]>([
    ['', /empty/],
    ['nginx:${TAG:-latest}', /"\$".*not interpolated/],
    ['${IMAGE}', /not interpolated/],
    ['docker.io/Library/Nginx', /must be lowercase/],
    ['MyApp', /must be lowercase/],
    // an upper-case first component is read as a host (as docker does), the rest must still be lower case
    ['Registry.LAN/App:1', /must be lowercase/],
    ['nginx:', /tag "" is not valid/],
    ['nginx:-bad', /tag "-bad" is not valid/],
    [`nginx:${'x'.repeat(129)}`, /tag .* is not valid/],
    ['nginx@sha256:abc', /digest "sha256:abc" is not valid; expected sha256:<64 lowercase hex digits>/],
    [`nginx@${D.toUpperCase().replace('SHA256', 'sha256')}`, /lowercase hex/],
    [`nginx@md5:${'a'.repeat(32)}`, /expected sha256:/],
    ['nginx@', /digest "" is not valid/],
    [`${'a'.repeat(64)}`, /image ID, not a reference/],
    ['nginx latest', /whitespace/],
    ['docker.io/', /no repository/],
    ['localhost:5000/', /no repository/],
    ['-x.io/app', /path component|registry/],
    ['docker.io/app/-x', /path component "-x"/],
    ['docker.io/a//b', /path component ""/],
    ['host_x.io:5000/app', /registry "host_x.io:5000"/],
    [`docker.io/${'a'.repeat(250)}`, /longer than 255/],
  ])('refuses %j', (text, message) => {
    const r = parseImageRef(text);
    expect(isImageRefError(r)).toBe(true);
    expect(isImageRefError(r) && r.error).toMatch(message);
  });

  it('names the reference in every refusal', () => {
    expect(parseImageRef('nginx:${TAG}')).toEqual({ error: expect.stringContaining('image reference "nginx:${TAG}"') as unknown });
  });
});

describe('apiHost', () => {
  it.each([
    ['docker.io', 'registry-1.docker.io'],
    ['index.docker.io', 'registry-1.docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['localhost:5000', 'localhost:5000'],
  ])('%s → %s', (registry, host) => {
    expect(apiHost(registry)).toBe(host);
  });
});

describe('digests', () => {
  it('accepts sha256 and sha512 with lowercase hex of the right length only', () => {
    expect(checkDigest(D)).toBe(D);
    expect(isDigest(`sha512:${'a'.repeat(128)}`)).toBe(true);
    expect(isDigest(`sha512:${'a'.repeat(64)}`)).toBe(false);
    expect(isDigest(D.replace('3051', '3O51'))).toBe(false);
    expect(isDigest(undefined)).toBe(false);
  });
});
