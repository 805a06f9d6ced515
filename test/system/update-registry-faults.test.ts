// Registry trouble during `stackctl update`, all real: a docker-registry with htpasswd (Basic) auth for which
// the user's auth file holds a wrong password, a proxy in front of it answering every manifest request 429
// with Retry-After, and one that strips Docker-Content-Digest. Each gives a clear row; the running containers
// are never touched; the wrong password never appears anywhere stackd writes.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Daemon, cleanup, configYaml, podmanOk, projectContainers, removeProject, scratch, writeFiles,
} from './harness.js';
import {
  cleanupRegistryLab, pushImage, startBasicRegistry, startDigestStrippingProxy, startRateLimitProxy, stopRegistry, writeAuthJson,
  type BasicRegistryHandle, type ProxyHandle, type RateLimitProxyHandle,
} from './registry-lab.js';

const STACK = 'u-regfault';
const BOB = { user: 'bob', password: 'builder-42' };
const WRONG = 'wrong-Pa$$word "x"';

interface Row { Updated: string; Reason?: string; service: string; Image: string }

let dir: string;
let reg: BasicRegistryHandle;
let limiter: RateLimitProxyHandle;
let stripper: ProxyHandle;
let daemon: Daemon;
const refs = { wrongpw: '', limited: '', stripped: '' };

async function update(): Promise<{ code: number | null; rows: Row[]; stderr: string }> {
  const r = await daemon.ctl('update', '--json');
  const parsed = JSON.parse(r.stdout) as { output?: { rows: Row[] } };
  return { code: r.code, rows: parsed.output?.rows ?? [], stderr: r.stderr };
}

const row = (rows: Row[], service: string): Row => {
  const r = rows.find((x) => x.service === service);
  if (!r) throw new Error(`no row for ${service} in ${JSON.stringify(rows)}`);
  return r;
};

beforeAll(async () => {
  await removeProject(STACK);
  dir = await scratch('update-faults');
  reg = await startBasicRegistry(BOB);
  limiter = await startRateLimitProxy(reg, { retryAfter: 30, limit: 0 });
  stripper = await startDigestStrippingProxy(reg.host);
  await pushImage(`${reg.host}/lab/b:1`, { variant: 'b-1', health: 'none', cmd: ['sleep', '1000000'], credentials: BOB });
  refs.wrongpw = `${reg.host}/lab/b:1`;
  refs.limited = `${limiter.host}/lab/b:1`;
  refs.stripped = `${stripper.host}/lab/b:1`;
  // the images are present (the owner's first deploy pulled them) ...
  const good = join(dir, 'good-auth.json');
  await writeAuthJson(good, { [reg.host]: BOB, [limiter.host]: BOB, [stripper.host]: BOB });
  for (const ref of Object.values(refs)) await podmanOk('pull', '-q', '--authfile', good, ref);
  // ... and the auth file stackd reads has a wrong password for the registry itself
  await writeAuthJson(join(dir, 'auth.json'), { [reg.host]: { user: BOB.user, password: WRONG }, [limiter.host]: BOB, [stripper.host]: BOB });
  limiter.setLimit('always');

  const service = (ref: string) => `    image: ${ref}
    command: ["sleep", "1000000"]
    init: true
    labels:
      io.containers.autoupdate: registry
      PODMAN_SYSTEMD_UNIT: ${STACK}.service
`;
  await writeFiles(dir, {
    'app/compose.yml': `services:\n  wrongpw:\n${service(refs.wrongpw)}  limited:\n${service(refs.limited)}  stripped:\n${service(refs.stripped)}`,
  });
  await writeFile(join(dir, 'stackd.yaml'), configYaml(dir, `  - { name: ${STACK}, compose: [${dir}/app/compose.yml] }`));
  daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
  await daemon.start({ REGISTRY_AUTH_FILE: join(dir, 'auth.json') });
  await daemon.waitStack(STACK, (s) => s.state === 'converged', 'converged', 180_000);
});

afterAll(async () => {
  if (daemon?.running) await daemon.stop();
  await removeProject(STACK);
  await stopRegistry(limiter);
  await stopRegistry(stripper);
  await stopRegistry(reg);
  await cleanupRegistryLab();
  if (dir) await cleanup(dir);
});

describe('stackctl update when registries misbehave', () => {
  let rows: Row[] = [];
  let code: number | null = null;
  let idsBefore: string[] = [];
  let stripperMark = 0;
  let askedFrom = 0;
  let askedUntil = 0;

  beforeAll(async () => {
    idsBefore = (await projectContainers(STACK)).map((c) => `${c.id} ${c.state}`).sort();
    stripperMark = stripper.requests().length; // the pre-pull went through it too
    askedFrom = Date.now();
    const r = await update();
    askedUntil = Date.now();
    rows = r.rows;
    code = r.code;
  });

  it('exits 1 (a row failed) and leaves every running container as it was', async () => {
    expect(code).toBe(1);
    expect(rows.map((r) => r.service).sort()).toEqual(['limited', 'stripped', 'wrongpw']);
    expect((await projectContainers(STACK)).map((c) => `${c.id} ${c.state}`).sort()).toEqual(idsBefore);
  });

  it('a wrong password: failed, naming the registry and the credentials, never the password', () => {
    const r = row(rows, 'wrongpw');
    expect(r.Updated).toBe('failed');
    expect(r.Reason).toContain(reg.host);
    expect(r.Reason).toMatch(/credential|password|unauthori[sz]ed|401/i);
    expect(r.Reason).not.toContain(WRONG);
    expect(r.Reason).not.toContain(Buffer.from(`${BOB.user}:${WRONG}`).toString('base64'));
  });

  it('429 with Retry-After: failed, the registry named rate-limited for this run, asked no more than twice', () => {
    const r = row(rows, 'limited');
    expect(r.Updated).toBe('failed');
    expect(r.Reason).toContain(limiter.host);
    expect(r.Reason).toMatch(/rate-limit|429/i);
    // the row names when stackd asks again: the end of the 30 s the proxy's Retry-After asked for, not "the next run"
    const again = new RegExp(`stackd asks ${limiter.host.replaceAll('.', '\\.')} again in the first run after (\\S+Z)$`).exec(r.Reason ?? '');
    expect(again, r.Reason).not.toBeNull();
    const endsAt = Date.parse(again?.[1] ?? '');
    expect(endsAt).toBeGreaterThanOrEqual(askedFrom + 30_000 - 1_000);
    expect(endsAt).toBeLessThanOrEqual(askedUntil + 30_000 + 1_000);
    expect(limiter.limited()).toBeGreaterThanOrEqual(1);
    expect(limiter.limited()).toBeLessThanOrEqual(2);
  });

  it('no Docker-Content-Digest: the check GETs the manifest instead, logs that it cost a GET, and finds it up to date', () => {
    const r = row(rows, 'stripped');
    expect(r.Updated, r.Reason).toBe('false');
    const reqs = stripper.requests().slice(stripperMark).filter((q) => q.path === '/v2/lab/b/manifests/1');
    expect(reqs.some((q) => q.method === 'HEAD' && q.strippedDigest)).toBe(true);
    expect(reqs.some((q) => q.method === 'GET' && q.status === 200)).toBe(true);
    expect(daemon.logs).toContain('"msg":"the registry sent no Docker-Content-Digest on HEAD; the check used a GET');
    expect(stripper.requests().slice(stripperMark).filter((q) => q.path.includes('/blobs/'))).toEqual([]);
  });

  it('the wrong password appears nowhere in the daemon log', () => {
    expect(daemon.logs).not.toContain(WRONG);
    expect(daemon.logs).not.toContain(Buffer.from(`${BOB.user}:${WRONG}`).toString('base64'));
  });
});
