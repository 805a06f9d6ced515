// The BUILT PodmanClient (dist/, on dockerode) against the lab's real rootless podman and its registry
// (localhost:5000, insecure in the lab user's registries.conf): the ImagePort the registry-update feature needs
// (pull by digest, inspect, tag, logs) and the PodmanPort calls it leans on (healthcheck run, events, stop, rm).
// The tests run in order: each uses what the one before made. Everything made here is removed at the end;
// localhost/busybox:lab (shared by every test file) is never touched.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE, PODMAN_SOCKET, ROOT, cleanup, podman, podmanOk, scratch, writeFiles } from './harness.js';

type ClientModule = typeof import('../../src/adapters/podman-client.js');
type Client = InstanceType<ClientModule['PodmanClient']>;
type ErrorsModule = typeof import('../../src/adapters/errors.js');

const REPO = 'localhost:5000/podman-images-test/app';
const LOGS = 'podman-images-test-logs';
const HC = 'podman-images-test-hc';
const NOHC = 'podman-images-test-nohc';

let client: Client;
let errors: ErrorsModule;
let dir: string;
let digest: string;
let builtId: string;
let pulledId: string;

async function removeOurs(): Promise<void> {
  await podman('rm', '-f', '-t', '0', LOGS, HC, NOHC);
  // every name of our image (v1, pinned, the digest) goes with it; busybox:lab is its parent and stays
  const ids = (await podmanOk('images', '-q', '--no-trunc', '--filter', `reference=${REPO}`)).split('\n').filter(Boolean);
  if (ids.length) await podman('rmi', '-f', ...new Set(ids));
}

beforeAll(async () => {
  const mod = (await import(join(ROOT, 'dist/adapters/podman-client.js'))) as ClientModule;
  errors = (await import(join(ROOT, 'dist/adapters/errors.js'))) as ErrorsModule;
  client = new mod.PodmanClient({ socketPath: PODMAN_SOCKET });
  await removeOurs();

  // busybox:lab with a label of our own, built reproducibly (--timestamp 0): the same digest every run, so the
  // registry does not grow, and an image of our own that the cleanup can delete without touching busybox:lab
  dir = await scratch('podman-images');
  await writeFiles(dir, { Containerfile: `FROM ${BASE_IMAGE}\nLABEL stackd.test=podman-images\n` });
  await podmanOk('build', '-q', '--pull=never', '--timestamp', '0', '-t', `${REPO}:v1`, '-f', join(dir, 'Containerfile'), dir);
  builtId = (await podmanOk('image', 'inspect', '--format', '{{.Id}}', `${REPO}:v1`)).trim();
  const digestFile = join(dir, 'digest');
  await podmanOk('push', '-q', '--tls-verify=false', '--digestfile', digestFile, `${REPO}:v1`);
  digest = (await readFile(digestFile, 'utf8')).trim();
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  // gone locally, so the pull below really comes from the registry
  await podmanOk('rmi', '-f', builtId);
});

afterAll(async () => {
  await client?.close();
  await removeOurs();
  if (dir) await cleanup(dir);
});

describe('images through the built client', () => {
  it('pullImage(repo@digest) pulls from the registry and resolves with the image id', async () => {
    expect((await podman('image', 'exists', builtId)).code).toBe(1);
    pulledId = await client.pullImage(`${REPO}@${digest}`);
    expect(pulledId).toBe(builtId);
    expect((await podman('image', 'exists', `${REPO}@${digest}`)).code).toBe(0);
  });

  it('a digest the registry does not have is PodmanApiError naming the reference', async () => {
    const missing = `${REPO}@sha256:${'0'.repeat(64)}`;
    const err = await client.pullImage(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.PodmanApiError);
    expect((err as Error).message).toContain(missing);
  });

  it('inspectImage shows the digest in RepoDigests; an unknown image is undefined', async () => {
    const raw = (await client.inspectImage(`${REPO}@${digest}`)) as { Id: string; Digest: string; RepoDigests: string[] };
    expect(raw.Id).toBe(pulledId);
    expect(raw.RepoDigests).toContain(`${REPO}@${digest}`);
    expect(await client.inspectImage(pulledId)).toMatchObject({ Id: pulledId });
    expect(await client.inspectImage('localhost:5000/podman-images-test/nope:x')).toBeUndefined();
  });

  it('tagImage(id, repo, tag) makes repo:tag inspectable', async () => {
    await client.tagImage(pulledId, REPO, 'pinned');
    const raw = (await client.inspectImage(`${REPO}:pinned`)) as { Id: string; RepoTags: string[] };
    expect(raw.Id).toBe(pulledId);
    expect(raw.RepoTags).toContain(`${REPO}:pinned`);
    await expect(client.tagImage('localhost/podman-images-test/nope:x', REPO, 'x')).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('containers through the built client', () => {
  it('containerLogs returns what a container printed on stdout and stderr, the last `tail` lines', async () => {
    await podmanOk('run', '--name', LOGS, `${REPO}:pinned`, 'sh', '-c', 'echo one; sleep 0.3; echo two >&2; sleep 0.3; echo three');
    expect(await client.containerLogs(LOGS, 10)).toBe('one\ntwo\nthree\n');
    expect(await client.containerLogs(LOGS, 2)).toBe('two\nthree\n');
    await expect(client.containerLogs('podman-images-test-none', 2)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('runHealthcheck runs it now, and the libpod event stream (onOpen first) carries its health_status', async () => {
    await podmanOk('run', '-d', '--name', HC, '--health-cmd', 'true', '--health-interval', '1h', BASE_IMAGE, 'sleep', '100000');
    const ac = new AbortController();
    let openedAt = 0;
    let opened!: () => void;
    const open = new Promise<void>((r) => { opened = r; });
    const seen: { Action?: string; HealthStatus?: string; at: number }[] = [];
    const follow = (async () => {
      const onOpen = () => { openedAt = Date.now(); opened(); };
      for await (const ev of client.events({ signal: ac.signal, filters: { container: [HC] }, onOpen })) {
        seen.push({ ...(ev as { Action?: string; HealthStatus?: string }), at: Date.now() });
      }
    })();
    await open;
    expect(openedAt).toBeGreaterThan(0);
    const ranAt = Date.now();
    expect(await client.runHealthcheck(HC)).toMatchObject({ Status: 'healthy' });
    const deadline = Date.now() + 10_000;
    while (!seen.some((e) => e.Action === 'health_status' && e.HealthStatus === 'healthy') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    ac.abort();
    await follow;
    const hs = seen.find((e) => e.Action === 'health_status' && e.HealthStatus === 'healthy');
    expect(hs, JSON.stringify(seen)).toBeDefined();
    // for the record (README: event latency through dockerode's stream)
    process.stdout.write(`[podman-images] health_status event ${hs ? hs.at - ranAt : -1} ms after the healthcheck request\n`);
  });

  it('a container without a healthcheck: runHealthcheck is a 409 PodmanApiError', async () => {
    await podmanOk('run', '-d', '--name', NOHC, BASE_IMAGE, 'sleep', '100000');
    await expect(client.runHealthcheck(NOHC)).rejects.toMatchObject({ code: 'STACKD_PODMAN_API', statusCode: 409 });
  });

  it('stop and rm (dockerode typed calls on the compat routes): stopped twice is fine, removed twice is false', async () => {
    await client.stopContainer(NOHC, 0);
    await client.stopContainer(NOHC, 0);
    expect((await podmanOk('inspect', '--format', '{{.State.Status}}', NOHC)).trim()).toBe('exited');
    expect(await client.removeContainer(NOHC, { force: true })).toBe(true);
    expect(await client.removeContainer(NOHC, { force: true })).toBe(false);
    expect((await podman('container', 'exists', NOHC)).code).toBe(1);
    const inspect = (await client.inspectContainer(HC)) as { State: { Health?: { Status: string } } };
    expect(inspect.State.Health?.Status).toBe('healthy');
  });
});
