// The persisted level per stack (running | stopped | removed) and removedStacks (stop | down | keep) on the
// real lab: the daemon as the unprivileged lab user, real rootless podman, real docker-compose. Every
// assertion about containers, networks and volumes reads podman itself; stackd is only asked through stackctl.
// The tests run in order on one daemon: each rewrites the config the way the next one expects.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE, Daemon, cleanup, configYaml, podman, podmanOk, projectContainers, removeProject, run, scratch, waitFor, writeFiles,
  type StackStatusJson,
} from './harness.js';

// Two long-running services; `web` keeps a named volume. init: true, so `sleep` dies on SIGTERM at once.
const PAIR = `services:
  web:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
    volumes:
      - data:/data
  side:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
volumes:
  data: {}
`;

// ds-level: `stackctl down` / restart / up; ds-keeper: always configured, must never be touched;
// ds-stop, ds-down, ds-keep: each leaves the config under the removedStacks value it is named after.
const STACKS = ['ds-level', 'ds-keeper', 'ds-stop', 'ds-down', 'ds-keep'] as const;
type Stack = (typeof STACKS)[number];

interface StatusWithRemoved extends StackStatusJson {
  removedFromConfig?: { action: string; done: boolean };
}

interface CheckJob {
  status: string;
  output: { ok: boolean; host: { leftovers?: { stack: string; project: string; action: string; containers: string[] }[] } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const snapshot = async (project: string) =>
  (await projectContainers(project)).map((c) => ({ id: c.id, name: c.name, state: c.state, startedAt: c.startedAt })).sort((a, b) => a.name.localeCompare(b.name));

async function projectNetworks(project: string): Promise<string[]> {
  return (await podmanOk('network', 'ls', '--format', '{{.Name}}', '--filter', `label=com.docker.compose.project=${project}`)).split('\n').filter(Boolean);
}

async function volumeExists(name: string): Promise<boolean> {
  return (await podman('volume', 'exists', name)).code === 0;
}

async function removeVolumes(project: string): Promise<void> {
  const vols = (await podmanOk('volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`)).split('\n').filter(Boolean);
  if (vols.length) await podman('volume', 'rm', '-f', ...vols);
}

describe('desired state: levels persisted across failures and restarts; stacks that leave the config', () => {
  let dir: string;
  let daemon: Daemon;
  let callLog: string;
  let cfgPath: string;
  const logs: string[] = [];

  /** The stub's record of compose calls for one project: "RUN|FAIL <argv after the command>". */
  const callsOf = async (project: string): Promise<string[]> =>
    (await readFile(callLog, 'utf8').catch(() => '')).split('\n').filter((l) => l.includes(` -p ${project} `));
  const verbOf = (line: string): string => {
    const m = / (up|down|stop|config|start|restart|rm)( |$)/.exec(line);
    return m?.[1] ?? '?';
  };

  const stackYaml = (names: readonly Stack[]) => names.map((n) => `  - { name: ${n}, compose: [${dir}/${n}/compose.yml] }`).join('\n');

  function yamlFor(names: readonly Stack[], removedStacks?: 'stop' | 'down' | 'keep'): string {
    const yaml = configYaml(dir, stackYaml(names), { composeCommand: join(dir, 'compose-stub.sh'), ...(removedStacks ? { extra: `removedStacks: ${removedStacks}` } : {}) })
      .replace('  concurrency: auto\n  retryBase: 60s\n', '  concurrency: 3\n  retryBase: 1s\n  retryMax: 2s\n');
    expect(yaml).toContain('  retryBase: 1s\n  retryMax: 2s\n');
    return yaml;
  }

  /** Replace the config file (a new inode, like a Nix switch) and wait until stackd says it reloaded it. */
  async function rewriteConfig(names: readonly Stack[], removedStacks?: 'stop' | 'down' | 'keep'): Promise<void> {
    const reloads = () => daemon.logs.split('\n').filter((l) => l.includes('"msg":"config reloaded"')).length;
    const before = reloads();
    const tmp = `${cfgPath}.new`;
    await writeFile(tmp, yamlFor(names, removedStacks));
    await rename(tmp, cfgPath);
    await waitFor(async () => reloads() > before, 30_000, 'stackd to reload the config', () => daemon.logs.slice(-2000));
  }

  async function statusOf(name: string): Promise<StatusWithRemoved | undefined> {
    return (await daemon.status()).find((s) => s.name === name) as StatusWithRemoved | undefined;
  }

  async function waitStatus(name: string, pred: (s: StatusWithRemoved | undefined) => boolean, what: string, timeoutMs = 90_000): Promise<StatusWithRemoved | undefined> {
    let last: StatusWithRemoved | undefined;
    await waitFor(async () => {
      last = await statusOf(name);
      return pred(last);
    }, timeoutMs, `${name}: ${what}`, () => `${JSON.stringify(last, null, 1)}\n--- daemon log tail ---\n${daemon.logs.slice(-3000)}`);
    return last;
  }

  async function check(): Promise<{ json: CheckJob; human: string; humanCode: number | null; jsonCode: number | null }> {
    const j = await daemon.ctl('check', '--json');
    const h = await daemon.ctl('check');
    return { json: JSON.parse(j.stdout) as CheckJob, human: h.stdout, humanCode: h.code, jsonCode: j.code };
  }

  beforeAll(async () => {
    for (const s of STACKS) {
      await removeProject(s);
      await removeVolumes(s);
    }
    dir = await scratch('desired-state');
    callLog = join(dir, 'compose-calls.log');
    cfgPath = join(dir, 'stackd.yaml');
    // The compose provider stub: the FIRST `down` of ds-level fails (with an error on stderr, exit 1);
    // everything else, and every later call, is the real `podman compose`. Each call is logged.
    const marker = join(dir, 'down-failed-once');
    const stub = `#!/bin/sh
case " $* " in
  *" -p ds-level "*" down "*)
    if [ ! -e ${marker} ]; then
      : > ${marker}
      echo "FAIL $*" >> ${callLog}
      echo "Error: injected failure: the first compose down of ds-level fails (test stub)" >&2
      exit 1
    fi;;
esac
echo "RUN $*" >> ${callLog}
exec podman compose "$@"
`;
    const files: Record<string, string> = { 'compose-stub.sh': stub };
    for (const s of STACKS) files[`${s}/compose.yml`] = PAIR;
    await writeFiles(dir, files);
    await run(['chmod', '+x', join(dir, 'compose-stub.sh')]);
    await writeFile(cfgPath, yamlFor(STACKS));
    daemon = new Daemon(dir, cfgPath);
    await daemon.start();
    // every stack comes up on start (no state file yet: all want running)
    for (const s of STACKS) {
      await daemon.waitStack(s, (x) => x.state === 'converged', 'converged at start', 150_000);
    }
  });

  afterAll(async () => {
    if (daemon?.running) await daemon.stop();
    if (daemon) logs.push(daemon.logs);
    if (dir) {
      // for whoever reads a failure (the scratch dir is removed below)
      await writeFile(join(dir, '..', 'desired-state-daemon.log'), logs.join('\n--- restart ---\n')).catch(() => undefined);
      await writeFile(join(dir, '..', 'desired-state-compose-calls.log'), await readFile(callLog, 'utf8').catch(() => '')).catch(() => undefined);
    }
    for (const s of STACKS) {
      await removeProject(s);
      await removeVolumes(s);
    }
    if (dir) await cleanup(dir);
  });

  it('`down` that fails is retried as `down` (never `stop`), stays removed across a restart, keeps the volume; `up` brings it back', async () => {
    const level = await projectContainers('ds-level');
    expect(level.map((c) => c.labels['com.docker.compose.service']).sort()).toEqual(['side', 'web']);
    const web = level.find((c) => c.labels['com.docker.compose.service'] === 'web');
    await podmanOk('exec', web?.id ?? 'missing', 'sh', '-c', 'echo kept-across-down > /data/file');
    expect(await volumeExists('ds-level_data')).toBe(true);
    const callsBefore = (await callsOf('ds-level')).length;
    const keeperBefore = await snapshot('ds-keeper');

    // the first verdict: failed, naming compose down and the stub's error
    const down = await daemon.ctl('down', 'ds-level');
    expect(down.code, down.stdout + down.stderr).toBe(1);
    expect(down.stderr).toContain('down ds-level: failed');
    expect(down.stderr).toMatch(/compose down failed \(exit 1\)/);
    expect(down.stderr).toContain('injected failure');

    // the queue retries (retryBase 1s) and the retry is a `down`: nothing of the project is left.
    // (state reads `removed` as soon as podman's events show no container, which can be while the retry
    // is still finishing: wait for its verdict too)
    const removed = await daemon.waitStack('ds-level', (x) => x.state === 'removed' && x.phase === 'idle' && x.lastResult?.result === 'ok',
      'removed, with the retry\'s verdict', 60_000);
    expect(removed.desired).toBe('removed');
    expect(removed.containers).toEqual([]);
    expect(removed.lastResult?.result).toBe('ok');
    expect(await projectContainers('ds-level')).toEqual([]);
    expect(await projectNetworks('ds-level')).toEqual([]);
    const calls = (await callsOf('ds-level')).slice(callsBefore);
    const verbs = calls.map((l) => `${l.split(' ')[0]} ${verbOf(l)}`);
    expect(verbs, calls.join('\n')).toEqual(['FAIL down', 'RUN down']);
    expect(calls.some((l) => verbOf(l) === 'stop')).toBe(false);
    // stackd's log says the second run was the queue's retry, toward `removed`
    const reconciles = daemon.logs.split('\n').filter((l) => l.includes('"stack":"ds-level"') && l.includes('"msg":"reconcile"') && l.includes('"desired":"removed"'));
    expect(reconciles.some((l) => l.includes('"retry"')), reconciles.join('\n')).toBe(true);
    // the level is on disk
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { version: number; stacks: Record<string, { desired: string; project: string }> };
    expect(state.version).toBe(2);
    expect(state.stacks['ds-level']).toMatchObject({ desired: 'removed', project: 'ds-level' });

    // restart: SIGTERM, start again; nothing of ds-level comes back
    expect(await daemon.stop()).toBe(0);
    logs.push(daemon.logs);
    const restartCalls = (await callsOf('ds-level')).length;
    await daemon.start();
    await daemon.waitStack('ds-keeper', (x) => x.lastResult !== undefined, 'a first reconcile after the restart');
    const watchUntil = Date.now() + 8_000;
    while (Date.now() < watchUntil) {
      expect(await projectContainers('ds-level')).toEqual([]);
      await sleep(1_000);
    }
    const after = await daemon.stack('ds-level');
    expect(after.desired).toBe('removed');
    expect(after.state).toBe('removed');
    expect(after.containers).toEqual([]);
    expect((await callsOf('ds-level')).slice(restartCalls).filter((l) => verbOf(l) === 'up')).toEqual([]);
    // a stack that wants `running` is not recreated or restarted by stackd's restart either
    await daemon.waitStack('ds-keeper', (x) => x.state === 'converged', 'converged after the restart');
    expect(await snapshot('ds-keeper')).toEqual(keeperBefore);

    // the named volume survived `down` and the restart, with the file in it
    expect(await volumeExists('ds-level_data')).toBe(true);
    const read = await podman('run', '--rm', '-v', 'ds-level_data:/data', BASE_IMAGE, 'cat', '/data/file');
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout.trim()).toBe('kept-across-down');

    // up brings it back, on the same volume
    const up = await daemon.ctl('up', 'ds-level');
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const back = await projectContainers('ds-level');
    expect(back.map((c) => c.state)).toEqual(['running', 'running']);
    const web2 = back.find((c) => c.labels['com.docker.compose.service'] === 'web');
    expect((await podmanOk('exec', web2?.id ?? 'missing', 'cat', '/data/file')).trim()).toBe('kept-across-down');
    expect((await daemon.stack('ds-level')).desired).toBe('running');
  });

  it('removedStacks: stop (the default): the stack left out is stopped with its containers kept; check names the leftover; others untouched', async () => {
    await daemon.waitStack('ds-stop', (x) => x.state === 'converged', 'converged');
    await daemon.waitStack('ds-keeper', (x) => x.state === 'converged', 'converged');
    const stopBefore = await snapshot('ds-stop');
    const keeperBefore = await snapshot('ds-keeper');
    expect(stopBefore.map((c) => c.state)).toEqual(['running', 'running']);

    await rewriteConfig(['ds-level', 'ds-keeper', 'ds-down', 'ds-keep']);

    const s = await waitStatus('ds-stop', (x) => x?.removedFromConfig?.done === true, 'retired (stop)');
    expect(s?.state).toBe('removed');
    expect(s?.removedFromConfig).toEqual({ action: 'stop', done: true });
    const stopAfter = await snapshot('ds-stop');
    // the SAME containers, kept, and stopped
    expect(stopAfter.map((c) => c.id)).toEqual(stopBefore.map((c) => c.id));
    expect(stopAfter.map((c) => c.state)).toEqual(['exited', 'exited']);
    expect(s?.containers.map((c) => c.id).sort()).toEqual(stopBefore.map((c) => c.id).sort());
    expect(await volumeExists('ds-stop_data')).toBe(true);

    // check: the leftover project, as data and as a line
    const c = await check();
    expect(c.jsonCode).toBe(0);
    expect(c.humanCode).toBe(0);
    const leftovers = c.json.output.host.leftovers ?? [];
    const left = leftovers.find((l) => l.stack === 'ds-stop');
    expect(left, JSON.stringify(c.json.output.host)).toMatchObject({ project: 'ds-stop', action: 'stop' });
    expect([...(left?.containers ?? [])].sort()).toEqual(stopBefore.map((x) => x.name).sort());
    expect(c.human).toMatch(/^ {2}leftover: project ds-stop of stack "ds-stop" \(no longer in the config; removedStacks: stop\) still has 2 containers: /m);
    expect(c.human).toMatch(/^host: .*1 leftover project/m);

    // the stack that stayed in the config: same containers, still running
    expect(await snapshot('ds-keeper')).toEqual(keeperBefore);
    expect((await daemon.stack('ds-keeper')).state).toBe('converged');
  });

  it('removedStacks: down: the stack left out loses its containers and network, never its volume, then leaves status', async () => {
    await daemon.waitStack('ds-down', (x) => x.state === 'converged', 'converged');
    const downBefore = await snapshot('ds-down');
    const keeperBefore = await snapshot('ds-keeper');
    const stopBefore = await snapshot('ds-stop');
    expect(downBefore).toHaveLength(2);
    expect(await projectNetworks('ds-down')).toEqual(['ds-down_default']);
    expect(await volumeExists('ds-down_data')).toBe(true);

    await rewriteConfig(['ds-level', 'ds-keeper', 'ds-keep'], 'down');

    await waitFor(async () => (await projectContainers('ds-down')).length === 0, 60_000, 'ds-down containers removed', () => daemon.logs.slice(-3000));
    await waitFor(async () => (await projectNetworks('ds-down')).length === 0, 30_000, 'ds-down network removed');
    for (const c of downBefore) expect((await podman('container', 'exists', c.id)).code).not.toBe(0);
    const nets = (await podmanOk('network', 'ls', '--format', '{{.Name}}')).split('\n');
    expect(nets).not.toContain('ds-down_default');
    expect(await volumeExists('ds-down_data')).toBe(true);
    // done: nothing left to remember, so it leaves status
    await waitStatus('ds-down', (x) => x === undefined, 'gone from status', 30_000);
    const retired = daemon.logs.split('\n').find((l) => l.includes('"stack":"ds-down"') && l.includes('"intent":"retire-down"'));
    expect(retired, daemon.logs.slice(-3000)).toBeDefined();
    expect(JSON.parse(retired ?? '{}')).toMatchObject({ result: 'ok', reasonCode: 'not-configured' });

    // others untouched: the configured one, and the one already retired under `stop`
    expect(await snapshot('ds-keeper')).toEqual(keeperBefore);
    expect(await snapshot('ds-stop')).toEqual(stopBefore);
  });

  it('removedStacks: keep: the stack left out keeps running, untouched', async () => {
    await daemon.waitStack('ds-keep', (x) => x.state === 'converged', 'converged');
    const keepBefore = await snapshot('ds-keep');
    const keeperBefore = await snapshot('ds-keeper');
    expect(keepBefore.map((c) => c.state)).toEqual(['running', 'running']);
    const callsBefore = (await callsOf('ds-keep')).length;

    await rewriteConfig(['ds-level', 'ds-keeper'], 'keep');

    const s = await waitStatus('ds-keep', (x) => x?.state === 'removed', 'listed as removed');
    expect(s?.removedFromConfig).toEqual({ action: 'keep', done: true });
    // give a (wrong) action time to happen, then look
    await sleep(5_000);
    expect(await snapshot('ds-keep')).toEqual(keepBefore);
    expect((await callsOf('ds-keep')).slice(callsBefore)).toEqual([]);
    const c = await check();
    expect(c.json.output.host.leftovers?.find((l) => l.stack === 'ds-keep')).toMatchObject({ project: 'ds-keep', action: 'keep' });
    expect(c.human).toMatch(/leftover: project ds-keep of stack "ds-keep" \(no longer in the config; removedStacks: keep\) still has 2 containers/);
    expect(await snapshot('ds-keeper')).toEqual(keeperBefore);
  });
});
