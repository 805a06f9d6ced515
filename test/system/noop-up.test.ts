// The stack units' one request on the real lab: curl POST /v1/stacks/NAME/{up,stop}?wait= over the unix socket
// (Accept: text/plain), as a unit runs it. An unchanged, converged stack is skipped, and once the event-fed view
// is trusted without asking podman (the daemon's log says `"observed":"events"`); a container killed behind
// stackd's back (its `died` event seen) makes the next `up` run compose and bring it back.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon, cleanup, configYaml, podmanOk, projectContainers, removeProject, run, scratch, waitFor, writeFiles } from './harness.js';

const STACK = 'noop-a';
let dir: string;
let daemon: Daemon;

const service = (name: string) => `  ${name}:
    image: localhost/busybox:lab
    command: ["sleep", "1000000"]
    init: true
    labels:
      PODMAN_SYSTEMD_UNIT: ${STACK}.service
    healthcheck:
      test: ["CMD", "true"]
      interval: 2s
      timeout: 2s
      retries: 1
`;

/** What a stack unit runs: one curl, the verdict line on stdout, a non-zero exit unless 2xx. */
function curl(action: string, query = '?wait=120000') {
  return run(['curl', '-sS', '--fail-with-body', '--unix-socket', daemon.socket, '-H', 'Accept: text/plain', '-X', 'POST',
    `http://stackd/v1/stacks/${STACK}/${action}${query}`]);
}

/** The daemon's log lines of this stack with `msg`, from `from` on. */
function lines(msg: string, from: number): Record<string, unknown>[] {
  return daemon.logs.slice(from).split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['stack'] === STACK && l['msg'] === msg);
}

beforeAll(async () => {
  await removeProject(STACK);
  dir = await scratch('noop-up');
  await writeFiles(dir, { 'a/compose.yml': `services:\n${service('app')}${service('side')}` });
  await writeFile(join(dir, 'stackd.yaml'), configYaml(dir, `  - { name: ${STACK}, compose: [${dir}/a/compose.yml] }`));
  daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
  await daemon.start();
  await daemon.waitStack(STACK, (s) => s.state === 'converged' && s.health === 'healthy', 'converged and healthy', 180_000);
});

afterAll(async () => {
  if (daemon?.running) await daemon.stop();
  await removeProject(STACK);
  if (dir) await cleanup(dir);
});

describe('curl POST ?wait= against the real daemon', () => {
  it('an unchanged stack: exit 0 and the verdict line; once trusted, decided from the events (no podman list)', async () => {
    const from = daemon.logs.length;
    for (let i = 0; i < 3; i++) {
      const r = await curl('up');
      expect(r, r.stderr).toMatchObject({ code: 0 });
      expect(r.stdout).toMatch(new RegExp(`^up ${STACK}: skipped in \\d+ms: unchanged: inputs unchanged since the last successful up and every service is running\\n$`));
    }
    const skips = lines('up to date; compose not run', from);
    expect(skips).toHaveLength(3);
    // the stream has been up since the health events' re-lists: at least the later ups trusted the view
    expect(skips.filter((l) => l['observed'] === 'events').length).toBeGreaterThan(0);
    expect(lines('compose run', from)).toEqual([]);
  });

  it('a container killed behind stackd\'s back (event seen): the next up runs compose and brings it back', async () => {
    const victim = (await projectContainers(STACK)).find((c) => c.name.includes('-app-'));
    if (!victim) throw new Error('no app container');
    await podmanOk('kill', victim.id);
    // the died event reached stackd: its view shows the container not running
    await daemon.waitStack(STACK, (s) => s.containers.some((c) => c.service === 'app' && c.state !== 'running'), 'the kill seen', 30_000);
    const from = daemon.logs.length;
    const r = await curl('up');
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(new RegExp(`^up ${STACK}: ok in \\S+\\n$`));
    expect(lines('compose run', from).map((l) => l['verb'])).toEqual(['up']);
    expect(lines('up to date; compose not run', from)).toEqual([]);
    const app = (await projectContainers(STACK)).find((c) => c.name.includes('-app-'));
    expect(app?.state).toBe('running');
  });

  it('stop and up again, each one request with its verdict; a bad wait is 400 naming the cap (curl exits 22)', async () => {
    const stop = await curl('stop');
    expect(stop, stop.stderr).toMatchObject({ code: 0 });
    expect(stop.stdout).toMatch(new RegExp(`^stop ${STACK}: ok in \\S+\\n$`));
    expect((await projectContainers(STACK)).every((c) => c.state !== 'running')).toBe(true);
    const up = await curl('up');
    expect(up, up.stderr).toMatchObject({ code: 0 });
    expect(up.stdout).toMatch(new RegExp(`^up ${STACK}: ok in \\S+\\n$`));
    await waitFor(async () => (await projectContainers(STACK)).every((c) => c.state === 'running'), 30_000, 'both running');
    const bad = await curl('up', '?wait=3600001');
    expect(bad.code).toBe(22);
    expect(bad.stdout).toContain('0 to 3600000');
  });
});
