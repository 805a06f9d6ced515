// Issue 2 on the real lab: the daemon as the unprivileged lab user, real rootless podman, real
// docker-compose. Every assertion reads podman itself or the real CLI's output.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE, Daemon, cleanup, configYaml, podman, podmanOk, projectContainers, removeProject, run, scratch, writeFiles } from './harness.js';

const HOLDER = `services:
  holder:
    image: ${BASE_IMAGE}
    init: true
    command: ["sh", "-c", "echo ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 2s
      retries: 3
      start_period: 1s
  app:
    image: ${BASE_IMAGE}
    init: true
    network_mode: "service:holder"
    depends_on: [holder]
    command: ["sleep", "100000"]
`;

// client is healthy only when it reaches "web" by its service name (compose's DNS on the project network)
const NAMED = `services:
  web:
    image: ${BASE_IMAGE}
    init: true
    command: ["sh", "-c", "echo hello > /tmp/index.html; exec httpd -f -p 80 -h /tmp"]
  client:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://web/"]
      interval: 2s
      retries: 5
`;

const MISSING_IMAGE = `services:
  ghost:
    image: localhost:5000/lab/does-not-exist:1
    command: ["sleep", "100000"]
`;

const NEEDS_VAR = `services:
  db:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
    environment:
      DB_PASSWORD: \${DB_PASSWORD:?set DB_PASSWORD in the env file}
      DB_USER: \${DB_USER}
`;

const SIMPLE = `services:
  main:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
`;

// compose up -d waits for `slowdep` to turn healthy (about 8 s) before it starts `main`: a compose step
// that is still running when SIGTERM arrives.
const SLOW = `services:
  slowdep:
    image: ${BASE_IMAGE}
    init: true
    command: ["sh", "-c", "sleep 8; touch /tmp/ready; exec sleep 100000"]
    healthcheck: { test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, retries: 30 }
  main:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
    depends_on: { slowdep: { condition: service_healthy } }
`;

// The env file's value ends up in the image reference, so podman's error and the model both carry it.
const LEAKY = `services:
  leaky:
    image: localhost:5000/lab/\${IMAGE_TOKEN}:1
    command: ["sleep", "100000"]
`;
const SECRET = 'tok-7f3a9c2e51';

// env_file: is read by compose, not passed by stackd: a change in it must still make `up` act
const WITH_ENV_FILE = `services:
  main:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
    env_file: [svc.env]
`;

const stacks = ['f-holder', 'f-named', 'f-ghost', 'f-needsvar', 'f-envwait', 'f-busy', 'f-stopper', 'f-slow', 'f-secret', 'f-envfile'];

describe('foundation: reconcile real compose stacks on rootless podman', () => {
  let dir: string;
  let daemon: Daemon;
  let countFile: string;

  beforeAll(async () => {
    for (const s of stacks) await removeProject(s);
    dir = await scratch('foundation');
    countFile = join(dir, 'compose-up-count');
    // A compose command that records each `up` it runs, then runs the real `podman compose`.
    await writeFiles(dir, {
      'count-compose.sh': `#!/bin/sh\ncase " $* " in *" up "*) echo "$$ $*" >> ${countFile};; esac\nexec podman compose "$@"\n`,
      'holder/compose.yml': HOLDER,
      'named/compose.yml': NAMED,
      'ghost/compose.yml': MISSING_IMAGE,
      'needsvar/compose.yml': NEEDS_VAR,
      'needsvar/app.env': 'DB_USER=admin\n',
      'envwait/compose.yml': SIMPLE,
      'busy/compose.yml': SIMPLE,
      'stopper/compose.yml': SIMPLE,
      'slow/compose.yml': SLOW,
      'secret/compose.yml': LEAKY,
      'secret/app.env': `IMAGE_TOKEN=${SECRET}\n`,
      'envfile/compose.yml': WITH_ENV_FILE,
      'envfile/svc.env': 'COLOUR=blue\n',
    });
    await run(['chmod', '+x', join(dir, 'count-compose.sh')]);
    const stackYaml = [
      `  - { name: f-holder, compose: [${dir}/holder/compose.yml] }`,
      `  - { name: f-named, compose: [${dir}/named/compose.yml] }`,
      `  - { name: f-ghost, compose: [${dir}/ghost/compose.yml] }`,
      `  - { name: f-needsvar, compose: [${dir}/needsvar/compose.yml], envFiles: [${dir}/needsvar/app.env] }`,
      `  - { name: f-envwait, compose: [${dir}/envwait/compose.yml], envFiles: [${dir}/envwait/late.env] }`,
      `  - { name: f-busy, compose: [${dir}/busy/compose.yml] }`,
      `  - { name: f-stopper, compose: [${dir}/stopper/compose.yml] }`,
      `  - { name: f-slow, compose: [${dir}/slow/compose.yml] }`,
      `  - { name: f-secret, compose: [${dir}/secret/compose.yml], envFiles: [${dir}/secret/app.env] }`,
      `  - { name: f-envfile, compose: [${dir}/envfile/compose.yml] }`,
    ].join('\n');
    await writeFile(join(dir, 'stackd.yaml'), configYaml(dir, stackYaml, { composeCommand: join(dir, 'count-compose.sh') }));
    daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
    await daemon.start();
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    for (const s of stacks) await removeProject(s);
    if (dir) await cleanup(dir);
  });

  it('converges the network-holder pair and the service-name pair on daemon start', async () => {
    const holder = await daemon.waitStack('f-holder', (s) => s.state === 'converged', 'converged');
    expect(holder.health).toBe('healthy');
    expect(holder.containers.map((c) => c.service).sort()).toEqual(['app', 'holder']);
    expect(holder.containers.find((c) => c.service === 'holder')?.health).toBe('healthy');
    expect(holder.lastResult?.result).toBe('ok');

    const named = await daemon.waitStack('f-named', (s) => s.state === 'converged', 'converged');
    expect(named.containers.find((c) => c.service === 'client')?.health).toBe('healthy');
    expect(named.containers.every((c) => c.state === 'running')).toBe(true);

    // what stackd says matches podman
    const real = await projectContainers('f-holder');
    expect(real.map((c) => c.id).sort()).toEqual(holder.containers.map((c) => c.id).sort());
    expect(real.every((c) => c.state === 'running')).toBe(true);
  });

  it('fails a stack whose image is missing with podman\'s reason, and one whose env file lacks a variable naming it', async () => {
    const ghost = await daemon.waitStack('f-ghost', (s) => s.state === 'failed', 'failed');
    expect(ghost.lastResult?.reasonCode).toBe('compose-failed');
    expect(ghost.lastResult?.reason).toMatch(/does-not-exist/);
    expect(ghost.lastResult?.reason).toMatch(/manifest unknown|not found|unable to|pull/i);

    const needsVar = await daemon.waitStack('f-needsvar', (s) => s.state === 'failed', 'failed');
    expect(needsVar.lastResult?.reason).toMatch(/DB_PASSWORD/);
    expect(needsVar.lastResult?.reason).toMatch(/f-needsvar/);
    expect(await projectContainers('f-needsvar')).toEqual([]);

    // the others are untouched and the daemon is still up
    expect((await daemon.stack('f-holder')).state).toBe('converged');
    expect((await daemon.stack('f-named')).state).toBe('converged');
    expect(daemon.running).toBe(true);
    const r = await daemon.ctl('status');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/f-ghost\s+failed/);
  });

  it('never shows a value from an env file: not in the reason, the CLI output, the API or the log', async () => {
    const s = await daemon.waitStack('f-secret', (x) => x.state === 'failed', 'failed');
    expect(s.lastResult?.reason).toMatch(/localhost:5000\/lab\/\*\*\*:1/);
    const outputs = [
      JSON.stringify(s),
      (await daemon.ctl('status')).stdout,
      (await daemon.ctl('status', 'f-secret', '--json')).stdout,
      (await daemon.ctl('up', 'f-secret')).stderr,
      daemon.logs,
    ];
    for (const text of outputs) expect(text).not.toContain(SECRET);
    // and it really was in play: the resolved compose model stackd reads (and names images from) carries it
    const raw = await run(['podman', 'compose', '-p', 'f-secret', '-f', join(dir, 'secret/compose.yml'), '--env-file', join(dir, 'secret/app.env'), 'config'],
      { env: { PODMAN_IGNORE_CGROUPSV1_WARNING: '1', PODMAN_COMPOSE_WARNING_LOGS: 'false' } });
    expect(raw.stdout).toContain(`localhost:5000/lab/${SECRET}:1`);
  });

  it('an edit to a file the compose file references (env_file:) makes `up` recreate; no edit, no compose run', async () => {
    await daemon.waitStack('f-envfile', (x) => x.state === 'converged', 'converged');
    const unchanged = await daemon.ctl('up', 'f-envfile', '--json');
    expect((JSON.parse(unchanged.stdout) as { result: { result: string } }).result.result).toBe('skipped');
    await writeFile(join(dir, 'envfile/svc.env'), 'COLOUR=green\n');
    const changed = await daemon.ctl('up', 'f-envfile', '--json');
    expect(changed.code, changed.stderr).toBe(0);
    expect((JSON.parse(changed.stdout) as { result: { result: string } }).result.result).toBe('ok');
    const [c] = await projectContainers('f-envfile');
    expect((await podman('exec', c!.id, 'sh', '-c', 'echo $COLOUR')).stdout.trim()).toBe('green');
  });

  it('waits envWait for a missing env file, fails naming it, and converges once it exists', async () => {
    const s = await daemon.waitStack('f-envwait', (x) => x.state === 'failed', 'failed');
    expect(s.lastResult?.reasonCode).toBe('env-file-missing');
    expect(s.lastResult?.reason).toContain(join(dir, 'envwait/late.env'));
    expect(s.lastResult?.reason).toMatch(/stackctl up f-envwait/);
    await writeFile(join(dir, 'envwait/late.env'), 'GREETING=hi\n');
    const up = await daemon.ctl('up', 'f-envwait');
    expect(up.code, up.stderr + up.stdout).toBe(0);
    await daemon.waitStack('f-envwait', (x) => x.state === 'converged', 'converged');
  });

  it('20 concurrent `stackctl up` for one stack cause at most 2 compose runs, and every caller gets a verdict', async () => {
    await daemon.waitStack('f-busy', (x) => x.state === 'converged', 'converged');
    // Make a compose run necessary: with nothing to change stackd would rightly skip compose altogether.
    const [victim] = await projectContainers('f-busy');
    await podmanOk('rm', '-f', '-t', '0', victim!.id);
    const countUps = async () => (await readFile(countFile, 'utf8').catch(() => '')).split('\n').filter((l) => l.includes(' -p f-busy ')).length;
    const before = await countUps();
    const results = await Promise.all(Array.from({ length: 20 }, () => daemon.ctl('up', 'f-busy', '--json')));
    const after = await countUps();
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    // The first run recreates the container; a run that starts later finds nothing to do (skipped).
    for (const r of results) expect(['ok', 'skipped']).toContain((JSON.parse(r.stdout) as { result?: { result: string } }).result?.result);
    expect((await projectContainers('f-busy')).map((c) => c.state)).toEqual(['running']);
    expect(after - before).toBeGreaterThanOrEqual(1);
    expect(after - before).toBeLessThanOrEqual(2);
  });

  it('`stackctl up` exits 0 for a good stack and non-zero for a failing one', async () => {
    const good = await daemon.ctl('up', 'f-named');
    expect(good.code).toBe(0);
    const bad = await daemon.ctl('up', 'f-ghost');
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(/does-not-exist/);
  });

  it('a stopped stack stays stopped across a stackd restart, its containers not started', async () => {
    await daemon.waitStack('f-stopper', (x) => x.state === 'converged', 'converged');
    const stop = await daemon.ctl('stop', 'f-stopper');
    expect(stop.code, stop.stderr).toBe(0);
    const stopped = await projectContainers('f-stopper');
    expect(stopped.length).toBe(1);
    expect(stopped.every((c) => c.state === 'exited' || c.state === 'stopped')).toBe(true);
    expect(await daemon.stop()).toBe(0);
    await daemon.start();
    await daemon.waitStack('f-holder', (x) => x.lastResult !== undefined, 'a first reconcile after restart');
    const s = await daemon.waitStack('f-stopper', (x) => x.state === 'stopped', 'stopped');
    expect(s.desired).toBe('stopped');
    const after = await projectContainers('f-stopper');
    expect(after.map((c) => [c.id, c.state, c.startedAt])).toEqual(stopped.map((c) => [c.id, c.state, c.startedAt]));
    // and up brings it back
    expect((await daemon.ctl('up', 'f-stopper')).code).toBe(0);
    expect((await projectContainers('f-stopper')).every((c) => c.state === 'running')).toBe(true);
  });

  it('refuses a malformed config with an error naming the key, exits non-zero, and touches nothing', async () => {
    const before = await projectContainers('f-holder');
    const badDir = join(dir, 'bad');
    await writeFiles(badDir, {
      'stackd.yaml': configYaml(badDir, `  - { name: f-holder, compose: [${dir}/holder/compose.yml], startupTimeout: soon }\n  - { name: Bad_Name, compose: [x.yml] }\n`),
    });
    const r = await run([process.execPath, join(import.meta.dirname, '../../dist/main.js'), '--config', join(badDir, 'stackd.yaml')], { timeoutMs: 30_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/stacks\[0\]\.startupTimeout/);
    expect(r.stderr).toMatch(/soon/);
    expect(r.stderr).toMatch(/stacks\[1\]\.name/);
    const after = await projectContainers('f-holder');
    expect(after.map((c) => [c.id, c.startedAt])).toEqual(before.map((c) => [c.id, c.startedAt]));
  });

  it('recreates a network holder whose definition changed, with the containers that share its namespace', async () => {
    await daemon.waitStack('f-holder', (x) => x.state === 'converged', 'converged');
    const before = await projectContainers('f-holder');
    // Podman refuses to remove a container whose network namespace another uses, so plain compose fails
    // here with "has dependent containers which must be removed before it".
    const file = join(dir, 'holder/compose.yml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('  holder:\n', '  holder:\n    environment: { CHANGED: "yes" }\n'));
    const up = await daemon.ctl('up', 'f-holder');
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const after = await projectContainers('f-holder');
    expect(after).toHaveLength(2);
    expect(after.every((c) => c.state === 'running')).toBe(true);
    expect(after.map((c) => c.id).filter((id) => before.some((b) => b.id === id))).toEqual([]);
    expect(daemon.logs).toContain('removing a container that shares the namespace of one that must be replaced');
    // the app container still reaches the holder's port on localhost: it joined the NEW holder's namespace
    const app = after.find((c) => c.name.includes('-app-'));
    const probe = await podman('exec', app!.id, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/');
    expect(probe.stdout.trim()).toBe('ok');
  });

  it('keeps running on a bad config reload and uses the new one when it is valid', async () => {
    const cfg = join(dir, 'stackd.yaml');
    const good = await readFile(cfg, 'utf8');
    await writeFile(cfg, `${good}\n  - { name: "NOT VALID" }\n`);
    await expectEventually(() => daemon.logs.includes('new config refused'));
    expect(daemon.running).toBe(true);
    expect((await daemon.stack('f-holder')).state).toBe('converged');
    await rm(cfg);
    await writeFile(cfg, good);
  });

  it('SIGTERM lets the running compose step finish, then stackd exits 0', async () => {
    await daemon.waitStack('f-slow', (x) => x.state === 'converged', 'converged');
    for (const c of await projectContainers('f-slow')) await podmanOk('rm', '-f', '-t', '0', c.id);
    const logStart = daemon.logs.length;
    const queued = await daemon.ctl('up', 'f-slow', '--no-block');
    expect(queued.code, queued.stderr).toBe(0);
    await expectEventually(() => /"stack":"f-slow"[^\n]*"verb":"up"[^\n]*"msg":"compose run"/.test(daemon.logs.slice(logStart)));
    expect(await daemon.stop()).toBe(0);
    // in log order: SIGTERM arrived, THEN f-slow's compose run finished with a verdict, THEN stackd stopped
    const lines = daemon.logs.slice(logStart).split('\n');
    const at = (pred: (l: string) => boolean) => lines.findIndex(pred);
    const stopping = at((l) => l.includes('"msg":"stopping: letting running reconciles finish"'));
    const verdict = at((l) => l.includes('"stack":"f-slow"') && l.includes('"msg":"reconciled"'));
    const stopped = at((l) => l.includes('"msg":"stopped"'));
    expect(stopping).toBeGreaterThan(-1);
    expect(verdict).toBeGreaterThan(stopping);
    expect(stopped).toBeGreaterThan(verdict);
    const after = await projectContainers('f-slow');
    expect(after.map((c) => c.name.replace(/^f-slow-|-1$/g, '')).sort()).toEqual(['main', 'slowdep']);
    expect(after.every((c) => c.state === 'running')).toBe(true);
  });

  it('every log line of the run above is JSON that carries each key once', () => {
    const lines = daemon.logs.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      // JSON.parse keeps the last of two equal keys silently: count the top-level keys by hand
      const keys = Object.keys(JSON.parse(line) as object);
      const written = [...line.matchAll(/[{,]"([A-Za-z_]+)":/g)].map((m) => m[1]);
      for (const k of keys) expect(written.filter((w) => w === k).length, `${k} in ${line}`).toBeLessThanOrEqual(nestedCount(line, k));
    }
  });
});

/** how often a key may appear in a line: once at the top, plus once per nested object that also has it (err.stack …) */
function nestedCount(line: string, key: string): number {
  const parsed = JSON.parse(line) as Record<string, unknown>;
  let n = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (Object.hasOwn(v, key)) n += 1;
      Object.values(v).forEach(walk);
    }
  };
  walk(parsed);
  return n;
}

async function expectEventually(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
