// Registry updates end to end, all real: stackd (built, as the lab user) against rootless podman and
// docker-compose, a docker-registry with token auth (the real Bearer flow through an in-test issuer), a real
// ntfy server and a Gotify-shaped receiver. One stack, two labelled services: `app` follows a two-platform tag
// that moves v1 → v2 (healthy) → a list where only arm64 changed → v3 (fails its healthcheck); `side` never
// changes.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE, Daemon, cleanup, configYaml, podmanOk, projectContainers, removeProject, scratch, systemctlUser, waitFor, writeFiles,
} from './harness.js';
import {
  cleanupRegistryLab, freePort, podmanLogin, pushImage, pushTwoPlatformList, startTokenRegistry, stopRegistry, type TokenRegistryHandle,
} from './registry-lab.js';

const STACK = 'u-app';
const ALICE = { user: 'alice', password: 'alice-lab-password' };
/** in the project's .env; app prints it at start, so the rollback message's log lines must show it as *** */
const LAB_SECRET = 'lab-s3cret-token-4242';

interface Row { Unit: string; ContainerName: string; Image: string; Policy: string; Updated: string; Reason?: string; service: string; stack: string }
interface JobJson { status: string; output?: { rows: Row[]; ok: boolean; dryRun: boolean } }

let dir: string;
let reg: TokenRegistryHandle;
let daemon: Daemon;
let ntfy: ChildProcess;
let ntfyBase: string;
let gotify: Server;
const gotifyRequests: { path: string; key: string | undefined; body: { title?: string; message?: string; priority?: number } }[] = [];
let APP: string;
let SIDE: string;
let v2Digests: string[] = [];

async function update(...args: string[]): Promise<{ code: number | null; rows: Row[]; stdout: string; stderr: string }> {
  const r = await daemon.ctl('update', ...args, '--json');
  const parsed = JSON.parse(r.stdout) as JobJson;
  return { code: r.code, rows: parsed.output?.rows ?? [], stdout: r.stdout, stderr: r.stderr };
}

function row(rows: Row[], service: string): Row {
  const r = rows.find((x) => x.service === service);
  if (!r) throw new Error(`no row for ${service} in ${JSON.stringify(rows)}`);
  return r;
}

/** peer runs and shares the namespace of the app container that runs now. */
async function expectPeerJoinedToApp(): Promise<string> {
  const cs = await projectContainers(STACK);
  const app = cs.find((c) => c.labels['com.docker.compose.service'] === 'app' && c.state === 'running');
  const peers = cs.filter((c) => c.labels['com.docker.compose.service'] === 'peer');
  expect(peers.map((c) => c.state)).toEqual(['running']);
  const mode = (await podmanOk('inspect', '--format', '{{.HostConfig.NetworkMode}}', peers[0]?.id ?? '')).trim();
  expect(mode).toBe(`container:${app?.id ?? '?'}`);
  return peers[0]?.id ?? '';
}

/** The local images of this test (its registry's and the stack's rollback pins): id and name, sorted. */
async function labImages(): Promise<string[]> {
  return (await podmanOk('images', '--format', '{{.Id}} {{.Repository}}:{{.Tag}}')).split('\n')
    .filter((l) => l.includes(reg.host) || l.includes(`stackd-rollback/${STACK}-`)).sort();
}

async function ntfyMessages(): Promise<{ title?: string; message?: string; priority?: number }[]> {
  const r = await request(`${ntfyBase}/stackd-updates/json?poll=1&since=all`);
  const text = await r.body.text();
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; title?: string; message?: string; priority?: number }).filter((m) => m.event === 'message');
}

/** The image the service's running container uses: its lab variant label and repo digests. */
async function runningImage(service: string): Promise<{ variant: string; digests: string[] }> {
  const c = (await projectContainers(STACK)).find((x) => x.labels['com.docker.compose.service'] === service && x.state === 'running');
  if (!c) throw new Error(`no running ${service} container`);
  const image = (await podmanOk('inspect', '--format', '{{.Image}}', c.id)).trim();
  const inspected = JSON.parse(await podmanOk('image', 'inspect', image)) as { Labels?: Record<string, string>; RepoDigests?: string[] }[];
  return { variant: inspected[0]?.Labels?.['stackd.lab.variant'] ?? '', digests: inspected[0]?.RepoDigests ?? [] };
}

beforeAll(async () => {
  await removeProject(STACK);
  dir = await scratch('update');
  reg = await startTokenRegistry({ users: { [ALICE.user]: ALICE.password } });
  // the podman API service reads registries.conf (and so the lab registry's insecure drop-in) when it starts:
  // one already running since before the drop-in pulls over https and fails ("server gave HTTP response to
  // HTTPS client"). Stopped here, socket activation starts it afresh for stackd.
  const stopped = await systemctlUser('stop', 'podman.service');
  if (stopped.code !== 0) throw new Error(`systemctl --user stop podman.service: ${stopped.stderr}`);
  // credentials only in the lab user's auth.json (podman's and stackd's), as `podman login` writes them
  const login = await podmanLogin(reg.host, ALICE.user, ALICE.password);
  if (login.code !== 0) throw new Error(`podman login failed: ${login.stderr}`);
  APP = `${reg.host}/lab/app:stable`;
  SIDE = `${reg.host}/lab/side:stable`;
  await pushTwoPlatformList(APP, { amd64Variant: 'app-v1', arm64Variant: 'app-v1-arm' });
  await pushImage(SIDE, { variant: 'side-v1', health: 'none' });
  // docker-compose pulls through the compat API without podman's auth.json; the podman CLI reads it. The
  // owner's images are present after their first deploy the same way; stackd's own pulls go through libpod.
  await podmanOk('pull', '--tls-verify=false', APP);
  await podmanOk('pull', '--tls-verify=false', SIDE);

  // a real ntfy, and a receiver shaped like Gotify's POST /message
  const port = await freePort();
  ntfyBase = `http://127.0.0.1:${port}`;
  ntfy = spawn('ntfy', ['serve', '--listen-http', `127.0.0.1:${port}`, '--cache-file', join(dir, 'ntfy.db'), '--base-url', ntfyBase], { stdio: 'ignore' });
  await waitFor(async () => (await request(`${ntfyBase}/v1/health`).then((r) => r.body.text().then(() => r.statusCode === 200), () => false)), 15_000, 'ntfy');
  gotify = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      gotifyRequests.push({ path: req.url ?? '', key: req.headers['x-gotify-key'] as string | undefined, body: JSON.parse(body || '{}') as { title?: string } });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}');
    });
  });
  gotify.listen(0, '127.0.0.1');
  await once(gotify, 'listening');
  const gotifyPort = (gotify.address() as { port: number }).port;

  const compose = `services:
  app:
    image: ${APP}
    # prints its variant and the .env secret at start: the last log lines of a rolled-back container go into
    # the notification, redacted
    command: ["sh", "-c", "echo started variant $$(cat /variant.txt) token $$LAB_SECRET; exec sleep 1000000"]
    environment:
      LAB_SECRET: \${LAB_SECRET}
    init: true
    labels:
      io.containers.autoupdate: registry
      PODMAN_SYSTEMD_UNIT: ${STACK}.service
    healthcheck:
      # v3 is "bad": its /variant.txt says so (the lab's busybox has no grep: sh and cat only). CMD-SHELL, not
      # ["CMD", "sh", "-c", "…"]: podman 5's compat API splits CMD arguments on spaces (podman issue 26519)
      test: ["CMD-SHELL", "case $$(cat /variant.txt) in bad*) exit 1;; esac"]
      interval: 2s
      timeout: 2s
      retries: 2
      start_period: 1s
  side:
    image: ${SIDE}
    command: ["sleep", "1000000"]
    init: true
    labels:
      io.containers.autoupdate: registry
      PODMAN_SYSTEMD_UNIT: ${STACK}.service
  # shares app's network namespace: podman will not remove app while peer uses it, so an update of app must
  # recreate peer too (and so must its rollback)
  peer:
    image: ${BASE_IMAGE}
    command: ["sleep", "1000000"]
    init: true
    network_mode: "service:app"
    depends_on: [app]
`;
  await writeFiles(dir, { 'app/compose.yml': compose, 'app/.env': `LAB_SECRET=${LAB_SECRET}\n`, 'gotify.token': 'AgotifyLabToken1\n' });
  const extra = `update:
  settle: 3s
  gateSlack: 10s
notify:
  - ntfy: { url: "${ntfyBase}", topic: stackd-updates }
  - gotify: { url: "http://127.0.0.1:${gotifyPort}", tokenFile: ${join(dir, 'gotify.token')} }
`;
  await writeFile(join(dir, 'stackd.yaml'), configYaml(dir, `  - { name: ${STACK}, compose: [${dir}/app/compose.yml] }`, { extra }));
  daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
  await daemon.start();
  await daemon.waitStack(STACK, (s) => s.state === 'converged', 'converged on v1', 180_000);
});

afterAll(async () => {
  if (daemon?.running) await daemon.stop();
  await removeProject(STACK);
  // the rollback pins stackd made for this stack
  const pins = (await podmanOk('images', '--format', '{{.Repository}}:{{.Tag}}')).split('\n')
    .filter((n) => n.startsWith(`localhost/stackd-rollback/${STACK}-`));
  if (pins.length) await podmanOk('rmi', '--ignore', ...pins);
  if (ntfy && ntfy.exitCode === null) {
    ntfy.kill('SIGTERM');
    await once(ntfy, 'exit');
  }
  gotify?.close();
  await stopRegistry(reg);
  await cleanupRegistryLab();
  if (dir) await cleanup(dir);
});

describe('stackctl update against a real registry with token auth', () => {
  it('nothing new: every labelled service false; the registry was asked through the Bearer flow', async () => {
    const before = reg.tokenRequests().length;
    const r = await update();
    expect(r.code, r.stderr).toBe(0);
    expect(r.rows.map((x) => `${x.service} ${x.Updated}`).sort()).toEqual(['app false', 'side false']);
    expect(row(r.rows, 'app')).toMatchObject({ Unit: `${STACK}.service`, Image: APP, Policy: 'registry' });
    const tokens = reg.tokenRequests().slice(before);
    expect(tokens.some((t) => t.user === ALICE.user && t.status === 200)).toBe(true);
  });

  it('--dry-run with an update waiting: pending; nothing pulled, no container changed', async () => {
    const pushed = await pushTwoPlatformList(APP, { amd64Variant: 'app-v2', arm64Variant: 'app-v1-arm' });
    v2Digests = [pushed.indexDigest, pushed.amd64Digest];
    const ids = (await projectContainers(STACK)).map((c) => c.id).sort();
    const images = await labImages();
    const mark = reg.mark();
    const r = await update('--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(row(r.rows, 'app').Updated).toBe('pending');
    expect(row(r.rows, 'side').Updated).toBe('false');
    expect((await projectContainers(STACK)).map((c) => c.id).sort()).toEqual(ids);
    expect(await labImages()).toEqual(images);
    await reg.flush();
    // manifests only: no blob was fetched
    expect(reg.requestsSince(mark).filter((q) => q.path.includes('/blobs/'))).toEqual([]);
    // without --json: podman auto-update's columns as a table, exit 0 (nothing failed)
    const table = await daemon.ctl('update', '--dry-run');
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^UNIT +CONTAINER +IMAGE +POLICY +UPDATED +REASON$/);
    expect(lines.find((l) => l.includes(APP))).toMatch(new RegExp(`^${STACK}\\.service +[0-9a-f]{12} \\([^)]*app[^)]*\\) +${APP.replace(/[.]/g, '\\.')} +registry +pending +update available \\(dry run\\)$`));
    expect(lines[lines.length - 1]).toBe('dry run: ok; 1 pending, 1 false');
  });

  it('applies a healthy v2: app true, its container on v2 and healthy; side untouched', async () => {
    const sideBefore = (await projectContainers(STACK)).find((c) => c.labels['com.docker.compose.service'] === 'side')?.id;
    const peerBefore = await expectPeerJoinedToApp();
    const logStart = daemon.logs.length;
    const r = await update();
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(row(r.rows, 'app').Updated).toBe('true');
    expect(row(r.rows, 'side').Updated).toBe('false');
    const img = await runningImage('app');
    expect(img.variant).toBe('app-v2');
    expect(img.digests.some((d) => v2Digests.some((v) => d.endsWith(v))), JSON.stringify({ img, v2Digests })).toBe(true);
    const after = await projectContainers(STACK);
    expect(after.find((c) => c.labels['com.docker.compose.service'] === 'side')?.id).toBe(sideBefore);
    const appContainer = after.find((c) => c.labels['com.docker.compose.service'] === 'app' && c.state === 'running');
    expect((await podmanOk('inspect', '--format', '{{.State.Health.Status}}', appContainer?.id ?? '')).trim()).toBe('healthy');
    // the network_mode dependent was recreated with app, into the new app's namespace: podman refused to
    // replace app while peer used it, so the update's up removed peer and ran again (as a reconcile does)
    expect(await expectPeerJoinedToApp()).not.toBe(peerBefore);
    expect(daemon.logs.slice(logStart)).toContain('removing a container that shares the namespace of one that must be replaced');
    await daemon.waitStack(STACK, (s) => s.state === 'converged', 'converged on v2');
  });

  it('a list where only the other platform changed is not an update, and nothing is pulled', async () => {
    await pushTwoPlatformList(APP, { amd64Variant: 'app-v2', arm64Variant: 'app-v2-arm-only' });
    const mark = reg.mark();
    const r = await update();
    expect(r.code, r.stderr).toBe(0);
    expect(row(r.rows, 'app').Updated).toBe('false');
    await reg.flush();
    expect(reg.requestsSince(mark).filter((q) => q.path.includes('/blobs/'))).toEqual([]);
  });

  it('a v3 that fails its healthcheck is rolled back to v2; ntfy and Gotify hear of it once', async () => {
    await pushImage(APP, { variant: 'bad-v3', health: 'none', cmd: ['sleep', '1000000'] });
    const ntfyBefore = (await ntfyMessages()).length;
    const gotifyBefore = gotifyRequests.length;
    const r = await update();
    expect(r.code).toBe(1);
    const app = row(r.rows, 'app');
    expect(app.Updated).toBe('rolled back');
    expect(app.Reason).toMatch(/service app: .*(unhealthy|starting)/);
    const img = await runningImage('app');
    expect(img.variant).toBe('app-v2');
    expect(img.digests.some((d) => v2Digests.some((v) => d.endsWith(v))), JSON.stringify({ img, v2Digests })).toBe(true);
    await daemon.waitStack(STACK, (s) => s.health === 'healthy', 'healthy on v2 again');
    await expectPeerJoinedToApp();
    await waitFor(async () => (await ntfyMessages()).length > ntfyBefore && gotifyRequests.length > gotifyBefore, 30_000, 'the notifications');
    const fresh = (await ntfyMessages()).slice(ntfyBefore);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]?.title).toContain('rolled back');
    expect(fresh[0]?.message).toContain(`${STACK}/app`);
    expect(fresh[0]?.message).toContain(APP);
    expect(fresh[0]?.message).toMatch(/unhealthy|starting/); // the gate's reason
    // the failing container's last log lines, with the .env value it printed redacted
    expect(fresh[0]?.message).toMatch(/last (\d+ )?log lines?:\n( {2}\| .*\n)* {2}\| started variant bad-v3 token \*\*\*/);
    expect(fresh[0]?.message).not.toContain(LAB_SECRET);
    const g = gotifyRequests.slice(gotifyBefore);
    expect(g).toHaveLength(1);
    expect(g[0]).toMatchObject({ path: '/message', key: 'AgotifyLabToken1', body: { priority: 8 } });
    expect(g[0]?.body.title).toContain('rolled back');
    expect(g[0]?.body.message).toContain(`${STACK}/app`);
    expect(g[0]?.body.message).toContain(APP);
    expect(g[0]?.body.message).toMatch(/unhealthy|starting/);
    expect(g[0]?.body.message).toContain('started variant bad-v3 token ***');
    expect(g[0]?.body.message).not.toContain(LAB_SECRET);
  });

  it('three more runs with v3 still the tag: skipped (bad digest) each time, no pull, no new message', async () => {
    const ntfyBefore = (await ntfyMessages()).length;
    const gotifyBefore = gotifyRequests.length;
    const ids = (await projectContainers(STACK)).map((c) => c.id).sort();
    const images = await labImages();
    const mark = reg.mark();
    for (let i = 0; i < 3; i++) {
      const r = await update();
      expect(r.code, r.stderr).toBe(0);
      expect(row(r.rows, 'app').Updated).toBe('skipped');
      expect(row(r.rows, 'app').Reason).toContain('bad digest');
    }
    expect((await projectContainers(STACK)).map((c) => c.id).sort()).toEqual(ids);
    // no pull: no blob fetched, no image added or moved
    await reg.flush();
    const since = reg.requestsSince(mark);
    expect(since.some((q) => q.path.includes('/manifests/'))).toBe(true); // it did ask the registry
    expect(since.filter((q) => q.path.includes('/blobs/'))).toEqual([]);
    expect(await labImages()).toEqual(images);
    await new Promise((res) => setTimeout(res, 2000));
    expect((await ntfyMessages()).length).toBe(ntfyBefore);
    expect(gotifyRequests.length).toBe(gotifyBefore);
  });

  it('the registry down: clear failed rows naming it; running containers untouched', async () => {
    const ids = (await projectContainers(STACK)).map((c) => c.id).sort();
    await reg.down();
    try {
      const r = await update();
      expect(r.code).toBe(1);
      expect(row(r.rows, 'side').Updated).toBe('failed');
      expect(row(r.rows, 'side').Reason).toContain(reg.host.split(':')[0] ?? '127.0.0.1');
      expect((await projectContainers(STACK)).map((c) => c.id).sort()).toEqual(ids);
    } finally {
      await reg.up();
    }
  });

  it('a reconcile requested during an update waits for it (the log shows no interleaving)', async () => {
    await pushImage(SIDE, { variant: 'side-v2', health: 'none', cmd: ['sleep', '1000000'] });
    const logStart = daemon.logs.length;
    const updating = update();
    await waitFor(async () => daemon.logs.slice(logStart).includes('update: pulling'), 60_000, 'the update to start applying');
    const up = await daemon.ctl('up', STACK);
    const r = await updating;
    expect(up.code, up.stderr).toBe(0);
    expect(row(r.rows, 'side').Updated).toBe('true');
    const lines = daemon.logs.slice(logStart).split('\n');
    const requested = lines.findIndex((l) => l.includes(`"stack":"${STACK}"`) && l.includes('"msg":"stack action requested"'));
    const applied = lines.findIndex((l) => l.includes('"msg":"update applied and healthy"'));
    const reconcile = lines.findIndex((l) => l.includes(`"stack":"${STACK}"`) && l.includes('"msg":"reconcile"'));
    // the reconcile was asked for while the update held the slot, and ran only after it
    expect(requested).toBeGreaterThan(-1);
    expect(applied).toBeGreaterThan(requested);
    expect(reconcile).toBeGreaterThan(applied);
  });
  describe('stackd SIGKILLed in the middle of an update (STACKD_TEST_HOLD_UPDATE_AFTER makes the kill points exact)', () => {
    interface Progress { stack: string; step: string; services: { service: string; pinTag: string; previousImageId: string }[] }
    const progress = async (): Promise<Progress[]> =>
      (JSON.parse(await readFile(join(dir, 'updates.json'), 'utf8')) as { inProgress: Progress[] }).inProgress;
    const tagImageId = async (ref: string) => (await podmanOk('image', 'inspect', '--format', '{{.Id}}', ref)).trim();

    async function killAt(point: 'pulled' | 'retagged' | 'up', during?: () => Promise<void>): Promise<Progress> {
      await daemon.stop();
      await daemon.start({ STACKD_TEST_HOLD_UPDATE_AFTER: point });
      await daemon.waitStack(STACK, (s) => s.state === 'converged', 'converged before the update');
      const mark = daemon.logs.length;
      const updating = daemon.ctl('update', '--json');
      await waitFor(async () => daemon.logs.slice(mark).includes('"msg":"update held for a crash test"'), 120_000, `the update to reach "${point}"`);
      await during?.();
      const held = (await progress()).find((p) => p.stack === STACK);
      await daemon.kill();
      expect((await updating).code, 'stackctl saw stackd go away').not.toBe(0);
      if (!held) throw new Error(`no update progress persisted at "${point}"`);
      await daemon.start();
      await waitFor(async () => (await progress()).length === 0, 180_000, 'the interrupted update to be finished or undone', () => daemon.logs.slice(-3000));
      await daemon.waitStack(STACK, (s) => s.state === 'converged' && s.health === 'healthy', 'converged and healthy after the restart', 180_000);
      return held;
    }

    /** Never half-applied: one app container, running the image the reference's tag points to. */
    async function expectWhole(variant: string): Promise<void> {
      const apps = (await projectContainers(STACK)).filter((c) => c.labels['com.docker.compose.service'] === 'app');
      expect(apps.map((c) => c.state)).toEqual(['running']);
      expect(await runningImage('app')).toMatchObject({ variant });
      const runs = (await podmanOk('inspect', '--format', '{{.Image}}', apps[0]?.id ?? '')).trim();
      expect(runs).toBe(await tagImageId(APP));
      await expectPeerJoinedToApp();
    }

    it('after the pull: rolled back at start; v2 runs, the tag points at it again', async () => {
      await pushImage(APP, { variant: 'app-v4', health: 'none', cmd: ['sleep', '1000000'] });
      const held = await killAt('pulled');
      expect(held.step).toBe('pulled');
      expect(daemon.logs).toContain('"msg":"an update was interrupted; finishing it"');
      await expectWhole('app-v2');
    });

    it('after the re-tag: the tag had moved to v4 while v2 ran; at start it is undone', async () => {
      const held = await killAt('retagged', async () => {
        // the kill point is exact: the reference already names the pulled image, the container still runs v2
        expect(await tagImageId(APP)).not.toBe((await podmanOk('inspect', '--format', '{{.Image}}', (await projectContainers(STACK)).find((c) => c.labels['com.docker.compose.service'] === 'app')?.id ?? '')).trim());
      });
      expect(held.step).toBe('retagged');
      await expectWhole('app-v2');
    });

    it('after up, with a gc during the hold: the pinned v2 survives the gc; at start the gate passes and v4 is kept', async () => {
      let pinned = '';
      const held = await killAt('up', async () => {
        const pin = (await progress()).find((p) => p.stack === STACK)?.services.find((x) => x.service === 'app');
        if (!pin) throw new Error('no pin recorded');
        pinned = pin.previousImageId;
        // v2 now runs nowhere and its reference tag moved: only the pin tag keeps it from being dangling
        const gc = await daemon.ctl('gc');
        expect(gc.code, gc.stderr).toBe(0);
        expect(await tagImageId(pin.pinTag)).toBe(pinned);
      });
      expect(held.step).toBe('up');
      expect(daemon.logs).toContain('"msg":"the interrupted update passed its health gate; kept"');
      await expectWhole('app-v4');
      expect(pinned).not.toBe('');
    });
  });
});
