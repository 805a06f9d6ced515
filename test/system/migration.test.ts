// The owner's migration from podman-compose: containers carry PODMAN_SYSTEMD_UNIT=podman-compose@<project>.service,
// and the network holder's dependents joined it with `--network container:<holder>`. Here only the holder
// still has the old label (a half-done migration), so preflight must remove the holder, and podman refuses
// that while the app shares its namespace: stackd removes the app (same project) first, deterministically.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE, Daemon, cleanup, configYaml, podman, podmanOk, projectContainers, removeProject, scratch, writeFiles } from './harness.js';

const PROJECT = 'mig';
const OLD_UNIT = `podman-compose@${PROJECT}.service`;
const COMPOSE = `services:
  holder:
    image: ${BASE_IMAGE}
    init: true
    command: ["sh", "-c", "echo migrated > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
    labels: { io.containers.autoupdate: registry, PODMAN_SYSTEMD_UNIT: ${PROJECT}.service }
  app:
    image: ${BASE_IMAGE}
    init: true
    network_mode: "service:holder"
    command: ["sleep", "100000"]
    labels: { io.containers.autoupdate: registry, PODMAN_SYSTEMD_UNIT: ${PROJECT}.service }
`;

/** A container as podman-compose made them: its labels, the wrong unit. */
function oldStyle(name: string, service: string, unit: string, ...extra: string[]): string[] {
  return ['run', '-d', '--name', name, '--label', `io.podman.compose.project=${PROJECT}`, '--label', `com.docker.compose.project=${PROJECT}`,
    '--label', `io.podman.compose.service=${service}`, '--label', `com.docker.compose.service=${service}`,
    '--label', `PODMAN_SYSTEMD_UNIT=${unit}`, '--label', 'io.containers.autoupdate=registry', ...extra, BASE_IMAGE, 'sleep', '100000'];
}

describe('migration from podman-compose with a network holder', () => {
  let dir: string;
  let daemon: Daemon;

  beforeAll(async () => {
    await removeProject(PROJECT);
    await podman('rm', '-f', '-t', '0', 'mig_holder_1', 'mig_app_1');
    await podmanOk(...oldStyle('mig_holder_1', 'holder', OLD_UNIT));
    await podmanOk(...oldStyle('mig_app_1', 'app', `${PROJECT}.service`, '--network', 'container:mig_holder_1'));
    // the precondition that makes this hard: podman will not remove the holder by itself
    const refused = await podman('rm', '-f', 'mig_holder_1');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/has dependent containers/);

    dir = await scratch('migration');
    await writeFiles(dir, { 'compose.yml': COMPOSE });
    await writeFile(join(dir, 'stackd.yaml'), configYaml(dir, `  - { name: ${PROJECT}, compose: [${join(dir, 'compose.yml')}] }\n`));
    daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
    await daemon.start();
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    await removeProject(PROJECT);
    await podman('rm', '-f', '-t', '0', 'mig_app_1', 'mig_holder_1');
    if (dir) await cleanup(dir);
  });

  it('replaces the drifted holder after removing its dependent app, and converges with the right labels', async () => {
    const s = await daemon.waitStack(PROJECT, (x) => x.lastResult !== undefined, 'a verdict');
    expect(s.lastResult?.result, s.lastResult?.reason).toBe('ok');
    expect(s.state).toBe('converged');
    const now = await projectContainers(PROJECT);
    expect(now.map((c) => c.name).sort()).toEqual(['mig-app-1', 'mig-holder-1']);
    expect(now.every((c) => c.labels['PODMAN_SYSTEMD_UNIT'] === `${PROJECT}.service` && c.state === 'running')).toBe(true);
    expect(daemon.logs).toContain('removing a container that shares the namespace of one that must be replaced');
    // the new app shares the new holder's network namespace
    const app = now.find((c) => c.name === 'mig-app-1');
    const probe = await podman('exec', app!.id, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/');
    expect(probe.stdout.trim()).toBe('migrated');
  });
});
