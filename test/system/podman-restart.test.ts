// Podman restarted under a running stackd (the owner's "stale socket after a rebuild"): the lab user's
// podman.socket and podman.service are stopped and started again. stackd's event stream reconnects, /readyz
// goes false then true, a full resync follows, and no stack is recreated because of it (container ids and
// start times unchanged); a container killed afterwards shows through the reconnected event stream.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE, Daemon, cleanup, configYaml, podmanOk, projectContainers, readyz, removeProject, scratch, systemctlUser, waitFor, writeFiles,
} from './harness.js';

const STACKS = ['pr-one', 'pr-two'];

describe('podman restarted under stackd', () => {
  let dir: string;
  let daemon: Daemon;

  beforeAll(async () => {
    for (const s of STACKS) await removeProject(s);
    dir = await scratch('podman-restart');
    await writeFiles(dir, { 'compose.yml': `services:\n  main:\n    image: ${BASE_IMAGE}\n    init: true\n    command: ["sleep", "100000"]\n` });
    await writeFiles(dir, { 'stackd.yaml': configYaml(dir, STACKS.map((s) => `  - { name: ${s}, compose: [${join(dir, 'compose.yml')}] }`).join('\n')) });
    daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
    await daemon.start();
    for (const s of STACKS) await daemon.waitStack(s, (x) => x.state === 'converged', 'converged');
  });

  afterAll(async () => {
    await systemctlUser('start', 'podman.socket');
    await daemon?.stop();
    for (const s of STACKS) await removeProject(s);
    if (dir) await cleanup(dir);
  });

  it('the event stream reconnects, /readyz goes false then true, a resync follows, nothing is recreated', async () => {
    const before = new Map<string, string[]>();
    for (const s of STACKS) before.set(s, (await projectContainers(s)).map((c) => `${c.id} ${c.startedAt}`));
    expect(await readyz(daemon.socket)).toBe(200);
    const logMark = daemon.logs.length;

    const stop = await systemctlUser('stop', 'podman.socket', 'podman.service');
    expect(stop.code, stop.stderr).toBe(0);
    await waitFor(async () => (await readyz(daemon.socket)) === 503, 30_000, '/readyz to go false with podman down');
    await waitFor(async () => daemon.logs.slice(logMark).includes('podman event stream'), 30_000, 'the event stream to be lost');

    const start = await systemctlUser('start', 'podman.socket');
    expect(start.code, start.stderr).toBe(0);
    await waitFor(async () => (await readyz(daemon.socket)) === 200, 60_000, '/readyz to come back');
    await waitFor(async () => daemon.logs.slice(logMark).includes('podman answers again: resyncing every stack'), 60_000,
      'the reconnect and its resync', () => daemon.logs.slice(-2000));
    await new Promise((r) => setTimeout(r, 3000)); // a reconcile the resync might start has time to show

    for (const s of STACKS) {
      const st = await daemon.stack(s);
      expect(st.state).toBe('converged');
      expect((await projectContainers(s)).map((c) => `${c.id} ${c.startedAt}`)).toEqual(before.get(s));
    }
    expect(daemon.logs.slice(logMark)).not.toContain('drift found; reconciling');

    // the new event stream carries events: a container killed now shows at once (the periodic resync is 10 min off)
    const victim = (await projectContainers('pr-two'))[0];
    if (!victim) throw new Error('pr-two has no container');
    await podmanOk('kill', victim.id);
    await daemon.waitStack('pr-two', (x) => x.state === 'degraded', 'degraded through the reconnected event stream', 15_000);
    expect((await daemon.stack('pr-one')).state).toBe('converged');
  });
});
