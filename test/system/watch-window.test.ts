// The health watch window and the repair policy on the real lab: stackd as the lab user against rootless
// podman and docker-compose, with a real ntfy server receiving the alerts. Deploys never wait for health; a
// stack whose container is not healthy when its healthWindow ends gets ONE alert (ntfy + the
// stackd_deploy_unhealthy gauge), and ONE recovery when it becomes healthy. A container killed under stackd
// makes the stack degraded; `repair: none` leaves it, `repair: reconcile` queues exactly one reconcile.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Daemon, cleanup, configYaml, daemonMetrics, followEvents, podmanOk, projectContainers, removeProject, scratch, waitFor, writeFiles,
} from './harness.js';
import { freePort } from './harness.js';

const SLOW = 'ww-slow'; // its healthcheck passes only once /tmp/ready exists
const KEEP = 'ww-keep'; // repair: none
const FIX = 'ww-fix'; // repair: reconcile
const WINDOW_S = 8;

let dir: string;
let daemon: Daemon;
let ntfy: ChildProcess;
let ntfyBase: string;

interface NtfyMessage { event: string; title?: string; message?: string }
async function messages(): Promise<NtfyMessage[]> {
  const r = await request(`${ntfyBase}/stackd-watch/json?poll=1&since=all`);
  const text = await r.body.text();
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as NtfyMessage).filter((m) => m.event === 'message');
}
const about = (msgs: NtfyMessage[], stack: string) => msgs.filter((m) => `${m.title ?? ''} ${m.message ?? ''}`.includes(stack));

function gauge(metrics: string, stack: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`stackd_deploy_unhealthy{stack="${stack}"}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

const serviceYaml = (health: string) => `    image: localhost/busybox:lab
    command: ["sleep", "1000000"]
    init: true
    labels:
      PODMAN_SYSTEMD_UNIT: placeholder
    healthcheck:
      test: ["CMD-SHELL", "${health}"]
      interval: 2s
      timeout: 2s
      retries: 1
      start_period: 1s
`;
const compose = (stack: string, health: string) =>
  `services:\n  app:\n${serviceYaml(health).replace('placeholder', `${stack}.service`)}`;

async function reconcileLines(stack: string, from: number): Promise<number> {
  return daemon.logs.slice(from).split('\n').filter((l) => l.includes(`"stack":"${stack}"`) && l.includes('"msg":"reconcile"')).length;
}

beforeAll(async () => {
  for (const s of [SLOW, KEEP, FIX]) await removeProject(s);
  dir = await scratch('watch-window');
  const port = await freePort();
  ntfyBase = `http://127.0.0.1:${port}`;
  ntfy = spawn('ntfy', ['serve', '--listen-http', `127.0.0.1:${port}`, '--cache-file', join(dir, 'ntfy.db'), '--base-url', ntfyBase], { stdio: 'ignore' });
  await waitFor(async () => request(`${ntfyBase}/v1/health`).then(async (r) => { await r.body.dump(); return r.statusCode === 200; }, () => false), 15_000, 'ntfy');
  await writeFiles(dir, {
    'slow/compose.yml': compose(SLOW, 'test -f /tmp/ready'),
    'keep/compose.yml': compose(KEEP, 'true'),
    'fix/compose.yml': compose(FIX, 'true'),
  });
  const stacks = [
    `  - { name: ${SLOW}, compose: [${dir}/slow/compose.yml], healthWindow: ${WINDOW_S}s }`,
    `  - { name: ${KEEP}, compose: [${dir}/keep/compose.yml], healthWindow: ${WINDOW_S}s, repair: none }`,
    `  - { name: ${FIX}, compose: [${dir}/fix/compose.yml], healthWindow: ${WINDOW_S}s, repair: reconcile }`,
  ].join('\n');
  const extra = `notify:\n  - ntfy: { url: "${ntfyBase}", topic: stackd-watch }\n`;
  await writeFile(join(dir, 'stackd.yaml'), configYaml(dir, stacks, { extra }));
  daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
  await daemon.start();
  for (const s of [SLOW, KEEP, FIX]) await daemon.waitStack(s, (x) => x.lastResult?.result === 'ok', 'deployed', 180_000);
});

afterAll(async () => {
  if (daemon?.running) await daemon.stop();
  for (const s of [SLOW, KEEP, FIX]) await removeProject(s);
  if (ntfy && ntfy.exitCode === null) {
    ntfy.kill('SIGTERM');
    await once(ntfy, 'exit');
  }
  if (dir) await cleanup(dir);
});

describe('the health watch window (real ntfy)', () => {
  it('the deploy did not wait for health: the slow stack was deployed while its container was not healthy', async () => {
    const s = await daemon.stack(SLOW);
    expect(s.lastResult?.result).toBe('ok');
    expect(s.health).not.toBe('healthy');
  });

  it('after the window: exactly one alert for the never-healthy stack, none for the healthy ones; the gauge is 1', async () => {
    await waitFor(async () => about(await messages(), SLOW).length > 0, (WINDOW_S + 30) * 1000, 'the watch-window alert');
    await new Promise((r) => setTimeout(r, 3000)); // a second alert would come on the next observations
    const slow = about(await messages(), SLOW);
    expect(slow).toHaveLength(1);
    expect(slow[0]?.title).toContain('deploy left unhealthy');
    expect(slow[0]?.message).toContain('app');
    expect(about(await messages(), KEEP)).toEqual([]);
    expect(about(await messages(), FIX)).toEqual([]);
    const m = await daemonMetrics(daemon.socket);
    expect(gauge(m, SLOW)).toBe(1);
    expect(gauge(m, KEEP)).toBe(0);
  });

  it('healthy at last: exactly one recovery message, and the gauge back to 0', async () => {
    const c = (await projectContainers(SLOW))[0];
    if (!c) throw new Error('no container');
    await podmanOk('exec', c.id, 'touch', '/tmp/ready');
    await waitFor(async () => about(await messages(), SLOW).length > 1, 60_000, 'the recovery message');
    await new Promise((r) => setTimeout(r, 3000));
    const slow = about(await messages(), SLOW);
    expect(slow).toHaveLength(2);
    expect(slow[1]?.title).toContain('healthy again after deploy');
    expect(gauge(await daemonMetrics(daemon.socket), SLOW)).toBe(0);
  });
});

describe('podman kill under stackd: degraded at once; the repair policy decides what happens', () => {
  it('repair: none → degraded in /v1/stacks, in /metrics and on the SSE stream, and the container stays dead', async () => {
    const c = (await projectContainers(KEEP))[0];
    if (!c) throw new Error('no container');
    const stream = await followEvents(daemon.socket);
    const isKeep = (e: { event: string; data: unknown }) => e.event === 'stack' && (e.data as { name?: string }).name === KEEP;
    // on connect: the stack as it is now, converged
    await waitFor(async () => stream.events.some(isKeep), 10_000, 'the SSE stream\'s first event of the stack');
    expect(stream.events.filter(isKeep).map((e) => (e.data as { state: string }).state)).toEqual(['converged']);
    const api = new Agent({ connect: { socketPath: daemon.socket } });
    const mark = daemon.logs.length;
    const seenAt: Record<string, number> = {};
    await podmanOk('kill', c.id);
    const killedAt = Date.now();
    // all three channels watched at once, each from the moment `podman kill` returned (figures only: the
    // detection latency is bench/'s business; 15 s is far below the periodic resync (10m), so the event did it)
    const watch = async (channel: string, check: () => Promise<boolean>): Promise<void> => {
      const end = killedAt + 15_000;
      while (!(await check())) {
        if (Date.now() > end) throw new Error(`${KEEP}: not degraded in ${channel} 15 s after podman kill`);
        await new Promise((r) => setTimeout(r, 20));
      }
      seenAt[channel] = Date.now() - killedAt;
    };
    try {
      await Promise.all([
        watch('/v1/stacks', async () => {
          const r = await request('http://stackd/v1/stacks', { dispatcher: api });
          return ((await r.body.json()) as { stacks: { name: string; state: string }[] }).stacks.some((x) => x.name === KEEP && x.state === 'degraded');
        }),
        watch('/metrics', async () => (await daemonMetrics(daemon.socket)).includes(`stackd_stack_state{stack="${KEEP}",state="degraded"} 1`)),
        watch('SSE', async () => stream.events.some((e) => isKeep(e) && (e.data as { state: string }).state === 'degraded')),
      ]);
    } finally {
      await stream.close();
      await api.close();
    }
    console.log(`[watch-window] podman kill → degraded, ms after the kill returned: ${JSON.stringify(seenAt)}`);
    expect(Object.keys(seenAt).sort()).toEqual(['/metrics', '/v1/stacks', 'SSE']);
    await new Promise((r) => setTimeout(r, 5000));
    const after = await projectContainers(KEEP);
    expect(after.map((x) => `${x.id} ${x.state}`)).toEqual([`${c.id} exited`]);
    expect(await reconcileLines(KEEP, mark)).toBe(0);
  });

  it('repair: reconcile → exactly one reconcile, and the stack runs again', async () => {
    const c = (await projectContainers(FIX))[0];
    if (!c) throw new Error('no container');
    const mark = daemon.logs.length;
    await podmanOk('kill', c.id);
    await waitFor(async () => (await reconcileLines(FIX, mark)) >= 1, 30_000, 'the repair reconcile', () => daemon.logs.slice(mark).slice(-3000));
    await daemon.waitStack(FIX, (s) => s.state === 'converged', 'converged again', 60_000);
    await new Promise((r) => setTimeout(r, 5000));
    expect(await reconcileLines(FIX, mark)).toBe(1);
    expect(daemon.logs.slice(mark)).toContain('"msg":"a container died or went unhealthy; repair: reconcile queues the stack"');
    expect((await projectContainers(FIX)).filter((x) => x.state === 'running')).toHaveLength(1);
  });
});
