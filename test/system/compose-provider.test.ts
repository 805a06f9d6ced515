// The owner's choice of compose provider, enforced on the real lab: with PODMAN_COMPOSE_PROVIDER pointing
// `podman compose` at podman-compose (trixie's 1.3.0, installed by test/lab/provision.sh) in stackd's
// environment, the real daemon stays up but refuses to run compose: /readyz is 503 naming podman-compose,
// every stack fails with reasonCode compose-provider and a reason that says how to fix it, `stackctl check`
// reports it, and no container, pod or network of either project exists. The positive control: the lab's
// default provider (docker-compose v2) is ready.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE, Daemon, cleanup, configYaml, podmanOk, removeProject, scratch, waitFor, writeFiles } from './harness.js';

const PODMAN_COMPOSE = '/usr/bin/podman-compose';

const SIMPLE = `services:
  main:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
`;

interface ReadyzJson {
  ready: boolean;
  podman: { reachable: boolean };
  compose?: { ok: boolean; provider: string; detail: string };
}

async function readyz(socket: string): Promise<{ status: number; body: ReadyzJson }> {
  const dispatcher = new Agent({ connect: { socketPath: socket } });
  try {
    const r = await request('http://stackd/readyz', { dispatcher });
    return { status: r.statusCode, body: (await r.body.json()) as ReadyzJson };
  } finally {
    await dispatcher.close();
  }
}

/** /readyz once it carries the compose verdict (the provider check may finish after the API listens). */
async function readyzWithCompose(daemon: Daemon): Promise<{ status: number; body: ReadyzJson }> {
  let last: { status: number; body: ReadyzJson } | undefined;
  await waitFor(async () => {
    last = await readyz(daemon.socket);
    return last.body.compose !== undefined;
  }, 30_000, '/readyz to report the compose provider', () => `${JSON.stringify(last)}\n--- stackd log (tail):\n${daemon.logs.slice(-3000)}`);
  return last as { status: number; body: ReadyzJson };
}

/** Starts the daemon with these variables in its environment (undefined: removed), then restores ours. */
async function startWithEnv(daemon: Daemon, env: Record<string, string | undefined>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const apply = (vars: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(env);
  try {
    await daemon.start();
  } finally {
    apply(saved);
  }
}

/** Everything of a compose project podman has, by either compose's labels, and podman-compose's pod. */
async function projectLeftovers(project: string): Promise<string[]> {
  const found: string[] = [];
  for (const label of ['com.docker.compose.project', 'io.podman.compose.project']) {
    const containers = (await podmanOk('ps', '-a', '--filter', `label=${label}=${project}`, '--format', '{{.Names}}')).split('\n').filter(Boolean);
    found.push(...containers.map((c) => `container ${c} (${label})`));
    const nets = (await podmanOk('network', 'ls', '--filter', `label=${label}=${project}`, '--format', '{{.Name}}')).split('\n').filter(Boolean);
    found.push(...nets.map((n) => `network ${n} (${label})`));
  }
  const pods = (await podmanOk('pod', 'ps', '--filter', `name=^pod_${project}$`, '--format', '{{.Name}}')).split('\n').filter(Boolean);
  found.push(...pods.map((p) => `pod ${p}`));
  return found;
}

describe('compose provider: podman-compose as the provider is refused, nothing is touched', () => {
  const stacks = ['cp-one', 'cp-two'];
  let dir: string;
  let daemon: Daemon;

  beforeAll(async () => {
    for (const s of stacks) await removeProject(s);
    dir = await scratch('compose-provider');
    await writeFiles(dir, { 'one/compose.yml': SIMPLE, 'two/compose.yml': SIMPLE });
    const stackYaml = [
      `  - { name: cp-one, compose: [${dir}/one/compose.yml] }`,
      `  - { name: cp-two, compose: [${dir}/two/compose.yml] }`,
    ].join('\n');
    await writeFile(join(dir, 'stackd.yaml'), configYaml(dir, stackYaml));
    daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
    await startWithEnv(daemon, { PODMAN_COMPOSE_PROVIDER: PODMAN_COMPOSE });
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    for (const s of stacks) await removeProject(s);
    if (dir) await cleanup(dir);
  });

  it('/readyz is 503 with compose.ok false, naming podman-compose', async () => {
    const { status, body } = await readyzWithCompose(daemon);
    expect(status, JSON.stringify(body)).toBe(503);
    expect(body.ready).toBe(false);
    expect(body.compose?.ok).toBe(false);
    expect(body.compose?.provider).toBe('podman-compose');
    expect(body.compose?.detail).toContain('podman-compose');
    expect(body.compose?.detail).toContain(PODMAN_COMPOSE);
    // podman itself is fine: only the provider is wrong
    expect(body.podman.reachable).toBe(true);
  });

  it('every stack is failed with reasonCode compose-provider and a reason naming what was found and the fix', async () => {
    for (const name of stacks) {
      const s = await daemon.waitStack(name, (x) => x.state === 'failed', 'failed', 60_000);
      expect(s.lastResult?.reasonCode, JSON.stringify(s)).toBe('compose-provider');
      expect(s.lastResult?.reason).toContain('podman-compose');
      expect(s.lastResult?.reason).toMatch(/compose_providers|PODMAN_COMPOSE_PROVIDER/);
    }
    const all = await daemon.status();
    expect(all.map((s) => s.name).sort()).toEqual(stacks);
    expect(all.every((s) => s.state === 'failed' && s.lastResult?.reasonCode === 'compose-provider')).toBe(true);
    expect(daemon.running).toBe(true);
  });

  it('stackctl check --json reports the provider problem (ok false)', async () => {
    const r = await daemon.ctl('check', '--json');
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    const report = (JSON.parse(r.stdout) as { output: { ok: boolean } }).output;
    expect(report.ok).toBe(false);
    expect(JSON.stringify(report)).toContain('podman-compose');
  });

  it('stackd touched nothing: no container, network or pod of either project exists', async () => {
    for (const name of stacks) expect(await projectLeftovers(name), name).toEqual([]);
  });
});

describe('compose provider: the default provider (docker-compose v2) is ready (positive control)', () => {
  let dir: string;
  let daemon: Daemon;

  beforeAll(async () => {
    await removeProject('cp-ok');
    dir = await scratch('compose-provider-ok');
    await writeFiles(dir, { 'ok/compose.yml': SIMPLE });
    await writeFile(join(dir, 'stackd.yaml'), configYaml(dir, `  - { name: cp-ok, compose: [${dir}/ok/compose.yml] }`));
    daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
    await startWithEnv(daemon, { PODMAN_COMPOSE_PROVIDER: undefined });
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    await removeProject('cp-ok');
    if (dir) await cleanup(dir);
  });

  it('/readyz is 200 with compose.ok true: docker-compose 2.x', async () => {
    const { status, body } = await readyzWithCompose(daemon);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.compose).toMatchObject({ ok: true, provider: 'docker-compose' });
    expect(body.compose?.detail).toMatch(/^docker-compose 2\./);
  });
});
