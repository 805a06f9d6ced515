// Adoption, end to end on the lab (issue 10): three compose projects already run — one made by podman-compose
// (the owner's old provider: list-style labels, its own `PODMAN_SYSTEMD_UNIT=podman-compose@<project>.service`
// stamp, a network docker-compose will not reuse), one by `podman compose` with map-style labels, an anchor,
// a quoted wrong unit label, an env file and the obsolete `version:`, and one with nothing to fix. Each keeps
// data in a named volume. `stackctl import --from-podman` drafts the config, `stackctl fix --write` edits the
// files (real `compose config` compared before and after), and stackd takes the projects over: drifted
// containers replaced, the podman-compose network replaced, the volumes' data still there.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BASE_IMAGE, Daemon, MAIN, STACKCTL, cleanup, configYaml, podman, podmanOk, projectContainers, removeProject, run, scratch, writeFiles,
} from './harness.js';

const PC = 'adoptpc';
const DC = 'adoptdc';
const PLAIN = 'adoptplain';
const PROJECTS = [PC, DC, PLAIN];

const PC_COMPOSE = `# the podman-compose era: list-style labels, no unit label (podman-compose stamped its own)
services:
  web:
    image: ${BASE_IMAGE}
    init: true
    restart: unless-stopped
    command: ["httpd", "-f", "-p", "8080", "-h", "/data"]
    labels:
      - io.containers.autoupdate=registry   # keep it fresh
      - "com.example.owner=homelab"
    volumes:
      - data:/data

  worker:
    image: ${BASE_IMAGE}
    restart: unless-stopped
    command: ["sleep", "100000"]

volumes:
  data: {}
`;

const DC_COMPOSE = `version: "3.8"   # obsolete; compose ignores it

x-common: &common
  image: ${BASE_IMAGE}
  init: true
  restart: unless-stopped

services:
  app:
    <<: *common
    command: ["sh", "-c", "echo \\"$$GREETING\\" > /data/greeting; exec sleep 100000"]
    environment:
      GREETING: \${GREETING:?set it in stack.env}
    labels:
      io.containers.autoupdate: 'registry'
      PODMAN_SYSTEMD_UNIT: "podman-compose@${DC}.service"   # from the old template unit
    volumes: [ "appdata:/data" ]

volumes:
  appdata:
`;

const PLAIN_COMPOSE = `services:
  db:
    image: ${BASE_IMAGE}
    restart: unless-stopped
    command: ["sleep", "100000"]
    volumes: [dbdata:/var/lib/db]
volumes:
  dbdata:
`;

async function removeVolumes(): Promise<void> {
  for (const v of [`${PC}_data`, `${DC}_appdata`, `${PLAIN}_dbdata`]) await podman('volume', 'rm', '-f', v);
}

async function cleanLab(): Promise<void> {
  for (const p of PROJECTS) await removeProject(p);
  await removeVolumes();
}

interface DraftStack { name: string; project: string; compose: string[]; envFiles?: string[]; unit?: string }

/** `podman compose config` of one project, parsed: what compose itself makes of the files. */
async function composeConfig(project: string, file: string, envFile?: string): Promise<Record<string, unknown>> {
  const r = await podman('compose', '-p', project, '-f', file, ...(envFile ? ['--env-file', envFile] : []), 'config', '--format', 'json');
  if (r.code !== 0) throw new Error(`compose config of ${file} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function execOut(container: string, ...cmd: string[]): Promise<string> {
  return (await podmanOk('exec', container, ...cmd)).trim();
}

describe('adoption: import --from-podman, fix --write, then stackd takes the projects over', () => {
  let dir: string;
  let daemon: Daemon | undefined;
  const file = (rel: string) => join(dir, rel);
  const before: Record<string, string[]> = {};
  let draft: DraftStack[] = [];

  beforeAll(async () => {
    await cleanLab();
    dir = await scratch('adoption');
    await writeFiles(dir, {
      'pc/compose.yml': PC_COMPOSE, 'dc/compose.yml': DC_COMPOSE, 'dc/stack.env': 'GREETING=hello from the env file\n',
      'plain/compose.yml': PLAIN_COMPOSE,
    });
    const pc = await run(['podman-compose', '-p', PC, '-f', file('pc/compose.yml'), 'up', '-d']);
    if (pc.code !== 0) throw new Error(`podman-compose up failed (${pc.code}): ${pc.stderr}`);
    await podmanOk('compose', '-p', DC, '-f', file('dc/compose.yml'), '--env-file', file('dc/stack.env'), 'up', '-d');
    await podmanOk('compose', '-p', PLAIN, '-f', file('plain/compose.yml'), 'up', '-d');
    // data the adoption must not lose, one file per named volume
    await podmanOk('exec', `${PC}_web_1`, 'sh', '-c', 'echo kept-by-podman-compose > /data/index.html');
    await podmanOk('exec', `${DC}-app-1`, 'sh', '-c', 'echo kept-by-compose > /data/marker');
    await podmanOk('exec', `${PLAIN}-db-1`, 'sh', '-c', 'echo kept-untouched > /var/lib/db/marker');
    for (const p of PROJECTS) before[p] = (await projectContainers(p)).map((c) => c.id).sort();
  }, 240_000);

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    await cleanLab();
    if (dir) await cleanup(dir);
  });

  it('the precondition: each project runs, podman-compose stamped its own unit label', async () => {
    const pc = await projectContainers(PC);
    expect(pc.map((c) => c.name).sort()).toEqual([`${PC}_web_1`, `${PC}_worker_1`]);
    expect(pc.every((c) => c.labels['PODMAN_SYSTEMD_UNIT'] === `podman-compose@${PC}.service` && c.state === 'running')).toBe(true);
    expect((await projectContainers(DC)).map((c) => c.labels['PODMAN_SYSTEMD_UNIT'])).toEqual([`podman-compose@${DC}.service`]);
    expect(before[PLAIN]).toHaveLength(1);
  });

  it('import --from-podman drafts all three (project, files, env file, the unit from the old label, guesses marked); the draft passes --check-config', async () => {
    const r = await run([process.execPath, STACKCTL, 'import', '--from-podman']);
    expect(r.code, r.stderr).toBe(0);
    const draftPath = file('draft.yaml');
    await writeFile(draftPath, r.stdout);
    const check = await run([process.execPath, MAIN, '--config', draftPath, '--check-config']);
    expect(check.code, `${check.stderr}\n${r.stdout}`).toBe(0);
    expect(check.stdout).toContain(': ok (');

    const all = (parse(r.stdout) as { stacks: DraftStack[] }).stacks;
    draft = all.filter((s) => PROJECTS.includes(s.project));
    expect(draft.map((s) => s.name)).toEqual([DC, PC, PLAIN]);
    const by = Object.fromEntries(draft.map((s) => [s.name, s]));
    expect(by[PC]).toEqual({ name: PC, project: PC, compose: [file('pc/compose.yml')] });
    expect(by[DC]).toEqual({ name: DC, project: DC, compose: [file('dc/compose.yml')], envFiles: [file('dc/stack.env')] });
    expect(by[PLAIN]).toEqual({ name: PLAIN, project: PLAIN, compose: [file('plain/compose.yml')] });
    // the per-stack template unit became the stack's own unit, and the draft says it guessed
    expect(r.stdout).toContain(`# guess: unit from PODMAN_SYSTEMD_UNIT=podman-compose@${PC}.service`);
  });

  it('fix prints the diff and changes nothing; --write edits only the intended lines; compose config equals the original plus exactly those labels; a second run has nothing to fix', async () => {
    expect(draft).toHaveLength(3);
    const cfg = file('stackd.yaml');
    await writeFile(cfg, configYaml(dir, draft.map((s) => `  - ${JSON.stringify(s)}\n`).join('')));
    const pcFile = file('pc/compose.yml');
    const dcFile = file('dc/compose.yml');
    const envFile = file('dc/stack.env');
    const cfgBefore = { pc: await composeConfig(PC, pcFile), dc: await composeConfig(DC, dcFile, envFile) };
    const statBefore = { pc: await stat(pcFile), dc: await stat(dcFile) };

    const dry = await run([process.execPath, STACKCTL, 'fix', '--config', cfg]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`+      - PODMAN_SYSTEMD_UNIT=${PC}.service`);
    expect(dry.stdout).toContain(`+      PODMAN_SYSTEMD_UNIT: "${DC}.service"`);
    expect(dry.stdout).toContain('-version: "3.8"');
    expect(await readFile(pcFile, 'utf8')).toBe(PC_COMPOSE);
    expect(await readFile(dcFile, 'utf8')).toBe(DC_COMPOSE);
    expect((await stat(pcFile)).mtimeMs).toBe(statBefore.pc.mtimeMs);
    expect((await stat(dcFile)).mtimeMs).toBe(statBefore.dc.mtimeMs);

    const write = await run([process.execPath, STACKCTL, 'fix', '--write', '--config', cfg]);
    expect(write.code, write.stderr).toBe(0);
    expect(write.stdout).toContain(`stackctl fix: wrote ${pcFile}`);
    expect(write.stdout).toContain(`stackctl fix: wrote ${dcFile}`);

    // byte-identical outside the edited lines: comments, the anchor, quoting, blank lines
    const unitLine = (l: string) => l.includes('PODMAN_SYSTEMD_UNIT');
    const pcAfter = await readFile(pcFile, 'utf8');
    const dcAfter = await readFile(dcFile, 'utf8');
    expect(pcAfter.split('\n').filter((l) => !unitLine(l))).toEqual(PC_COMPOSE.split('\n'));
    expect(pcAfter.split('\n').filter(unitLine)).toEqual([`      - PODMAN_SYSTEMD_UNIT=${PC}.service`]);
    expect(dcAfter.split('\n').filter((l) => !unitLine(l))).toEqual(DC_COMPOSE.split('\n').filter((l) => !unitLine(l) && !l.startsWith('version:')));
    expect(dcAfter.split('\n').filter(unitLine)).toEqual([`      PODMAN_SYSTEMD_UNIT: "${DC}.service"   # from the old template unit`]);
    expect((await stat(dcFile)).mode).toBe(statBefore.dc.mode);

    // what compose makes of the files: the original's model plus exactly the unit labels
    const expected = structuredClone(cfgBefore);
    const labelsOf = (model: Record<string, unknown>, service: string) =>
      ((model['services'] as Record<string, { labels: Record<string, string> }>)[service] as { labels: Record<string, string> }).labels;
    labelsOf(expected.pc, 'web')['PODMAN_SYSTEMD_UNIT'] = `${PC}.service`;
    labelsOf(expected.dc, 'app')['PODMAN_SYSTEMD_UNIT'] = `${DC}.service`;
    expect(await composeConfig(PC, pcFile)).toEqual(expected.pc);
    expect(await composeConfig(DC, dcFile, envFile)).toEqual(expected.dc);

    const check = await run([process.execPath, STACKCTL, 'check', '--offline', '--config', cfg]);
    expect(check.code, `${check.stdout}\n${check.stderr}`).toBe(0);
    const again = await run([process.execPath, STACKCTL, 'fix', '--config', cfg]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('stackctl fix: nothing to fix');
  });

  it('stackd adopts them: drifted containers and the podman-compose network replaced, the untouched project kept as is, every volume\'s data still there', async () => {
    expect(draft).toHaveLength(3);
    daemon = new Daemon(dir, file('stackd.yaml'));
    await daemon.start();
    for (const p of PROJECTS) {
      const s = await daemon.waitStack(p, (x) => x.lastResult?.result === 'failed' || (x.lastResult !== undefined && x.state === 'converged'), 'a verdict', 180_000);
      expect(s.lastResult?.result, s.lastResult?.reason).toBe('ok');
    }

    const pc = await projectContainers(PC);
    expect(pc.map((c) => c.name).sort()).toEqual([`${PC}-web-1`, `${PC}-worker-1`]);
    expect(pc.some((c) => before[PC]?.includes(c.id))).toBe(false);
    expect(pc.find((c) => c.name === `${PC}-web-1`)?.labels['PODMAN_SYSTEMD_UNIT']).toBe(`${PC}.service`);
    expect(pc.every((c) => c.labels['io.podman.compose.project'] === undefined && c.state === 'running')).toBe(true);
    expect(daemon.logs).toContain('removing container with the wrong PODMAN_SYSTEMD_UNIT');
    expect(daemon.logs).toContain('the project\'s network was made by podman-compose and docker-compose will not reuse it');
    const net = JSON.parse(await podmanOk('network', 'inspect', `${PC}_default`)) as { labels: Record<string, string> }[];
    expect(net[0]?.labels['com.docker.compose.network']).toBe('default');
    expect(await execOut(`${PC}-web-1`, 'cat', '/data/index.html')).toBe('kept-by-podman-compose');
    expect(await execOut(`${PC}-web-1`, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/index.html')).toBe('kept-by-podman-compose');

    const dc = await projectContainers(DC);
    expect(dc.map((c) => c.labels['PODMAN_SYSTEMD_UNIT'])).toEqual([`${DC}.service`]);
    expect(dc[0]?.id).not.toBe(before[DC]?.[0]);
    expect(await execOut(`${DC}-app-1`, 'cat', '/data/marker')).toBe('kept-by-compose');
    expect(await execOut(`${DC}-app-1`, 'cat', '/data/greeting')).toBe('hello from the env file');

    // nothing to fix and nothing drifted: adopted in place, the same container
    expect((await projectContainers(PLAIN)).map((c) => c.id)).toEqual(before[PLAIN]);
    expect(await execOut(`${PLAIN}-db-1`, 'cat', '/var/lib/db/marker')).toBe('kept-untouched');
    // one volume per project, the one that was there
    for (const v of [`${PC}_data`, `${DC}_appdata`, `${PLAIN}_dbdata`]) expect((await podman('volume', 'exists', v)).code).toBe(0);
  });
});
