import { describe, expect, it } from 'vitest';
import { imageRefProblem } from '../../../src/core/image-ref.js';

describe('imageRefProblem', () => {
  it.each([
    ['busybox', 'no-registry'],
    ['busybox:1.36', 'no-registry'],
    ['library/nginx', 'no-registry'],
    ['library/nginx:1.27', 'no-registry'],
    ['immich-app/immich-server:release', 'no-registry'],
    ['busybox@sha256:3051cf68c64f0fa047d99c48a51f6f55d9441f2282051e6d264cd40274dce832', 'no-registry'],
    ['docker.io/library/nginx', 'no-tag'],
    ['localhost:5000/lab/app', 'no-tag'],
    ['ghcr.io/immich-app/immich-server', 'no-tag'],
    ['docker.io/library/nginx:1.27', undefined],
    ['localhost/busybox:lab', undefined],
    ['localhost:5000/lab/app:1', undefined],
    ['127.0.0.1:5000/lab/app:2', undefined],
    ['ghcr.io/immich-app/immich-server:v1.120.0', undefined],
    ['quay.io/prometheus/node-exporter@sha256:3051cf68c64f0fa047d99c48a51f6f55d9441f2282051e6d264cd40274dce832', undefined],
    ['registry.lan/app:1@sha256:3051cf68c64f0fa047d99c48a51f6f55d9441f2282051e6d264cd40274dce832', undefined],
  ])('%s → %s', (ref, kind) => {
    expect(imageRefProblem(ref)?.kind).toBe(kind);
  });

  it('suggests the full spelling of a short name', () => {
    expect(imageRefProblem('busybox')?.message).toContain('"docker.io/library/busybox:TAG"');
    expect(imageRefProblem('library/nginx:1.27')?.message).toContain('"docker.io/library/nginx:1.27"');
    expect(imageRefProblem('docker.io/library/nginx')?.message).toContain('"docker.io/library/nginx:1.2.3"');
  });
});
