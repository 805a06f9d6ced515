// ComposeRunner against a fake `podman` on a temp PATH: a shell script that records its argv (one per line),
// its environment and its cwd, then answers like the real one (stderr and exit codes captured in the lab).
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComposeRunner } from '../../../src/adapters/compose-runner.js';
import type { ComposeSpec } from '../../../src/adapters/compose-runner.js';
import { InvalidOptionError } from '../../../src/adapters/errors.js';
import { runProcess } from '../../../src/adapters/process-runner.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const SOCKET = '/run/user/1000/podman/podman.sock';

let dir: string;
let bin: string;
let stacks: string;

// A `mode` file beside bin/ picks the answer: the runner passes no FAKE_* variable through (that is the point).
const FAKE_PODMAN = `#!/bin/sh
out="$(dirname "$0")/../record"
: > "$out.argv"
for a in "$@"; do printf '%s\\n' "$a" >> "$out.argv"; done
env > "$out.env"
pwd > "$out.cwd"
mode=$(cat "$(dirname "$0")/../mode" 2>/dev/null)
case "$mode" in
  missing-image) cat "$(dirname "$0")/../stderr" >&2; exit 18 ;;
  no-provider) cat "$(dirname "$0")/../stderr" >&2; exit 125 ;;
  hang) sleep 30 & sleep 30 ;;
esac
# podman's banner: on stderr, naming the provider it runs, unless PODMAN_COMPOSE_WARNING_LOGS=false
[ "$PODMAN_COMPOSE_WARNING_LOGS" = false ] || printf '\\033[4m>>>> Executing external compose provider "%s". Please see podman-compose(1) for how to disable this message. <<<<\\n\\n\\033[0m' "\${PODMAN_COMPOSE_PROVIDER:-/usr/libexec/docker/cli-plugins/docker-compose}" >&2
case "$mode" in
  podman-compose) cat "$(dirname "$0")/../stdout"; exit 0 ;;
esac
case "$*" in
  *version*) echo "Docker Compose version 2.26.1-4" ;;
  *config*) echo '{"name":"immich","services":{}}' ;;
esac
exit 0
`;

async function mode(m: string, stderrFixture?: string, stdoutFixture?: string): Promise<void> {
  await writeFile(join(dir, 'mode'), m);
  if (stderrFixture) await writeFile(join(dir, 'stderr'), await readFile(new URL(stderrFixture, FIXTURES)));
  if (stdoutFixture) await writeFile(join(dir, 'stdout'), await readFile(new URL(stdoutFixture, FIXTURES)));
}

async function recorded(): Promise<{ argv: string[]; env: Record<string, string>; cwd: string }> {
  const argv = (await readFile(join(dir, 'record.argv'), 'utf8')).split('\n').slice(0, -1);
  const env = Object.fromEntries(
    (await readFile(join(dir, 'record.env'), 'utf8')).split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  // sh adds PWD (and may add SHLVL/_) itself; they are not from stackd
  for (const k of ['PWD', 'SHLVL', '_', 'OLDPWD']) delete env[k];
  return { argv, env, cwd: (await readFile(join(dir, 'record.cwd'), 'utf8')).trim() };
}

function runner(parentEnv: Record<string, string | undefined> = {}): ComposeRunner {
  return new ComposeRunner({
    podmanSocket: SOCKET,
    parentEnv: { PATH: `${bin}:/usr/bin:/bin`, HOME: '/home/owner', XDG_RUNTIME_DIR: '/run/user/1000', ...parentEnv },
    run: runProcess,
  });
}

function spec(extra: Partial<ComposeSpec> = {}): ComposeSpec {
  return {
    project: 'immich',
    composeFiles: [join(stacks, 'docker-compose.yml'), join(stacks, 'override with space.yml')],
    envFiles: ['/run/user/1000/secrets/immich.env', '/run/user/1000/secrets/extra.env'],
    timeoutMs: 10_000,
    ...extra,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-compose-'));
  bin = join(dir, 'bin');
  stacks = join(dir, 'stacks', 'immich');
  await mkdir(bin);
  await mkdir(stacks, { recursive: true });
  await writeFile(join(bin, 'podman'), FAKE_PODMAN);
  await chmod(join(bin, 'podman'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('argv', () => {
  const files = () => ['-f', join(stacks, 'docker-compose.yml'), '-f', join(stacks, 'override with space.yml')];
  const envs = ['--env-file', '/run/user/1000/secrets/immich.env', '--env-file', '/run/user/1000/secrets/extra.env'];

  it('up: -p, every -f and --env-file in order, then up -d --remove-orphans', async () => {
    await mode('ok');
    const r = await runner().up(spec());
    const rec = await recorded();
    expect(rec.argv).toEqual(['compose', '-p', 'immich', ...files(), ...envs, 'up', '-d', '--remove-orphans']);
    expect(r.argv).toEqual(['podman', ...rec.argv]);
    expect(r).toMatchObject({ ok: true, exitCode: 0, timedOut: false });
  });

  it('stop, down (never -v) and config --format json', async () => {
    await mode('ok');
    await runner().stop(spec());
    expect((await recorded()).argv.slice(-1)).toEqual(['stop']);
    await runner().down(spec());
    const down = (await recorded()).argv;
    expect(down.slice(-2)).toEqual(['down', '--remove-orphans']);
    expect(down).not.toContain('-v');
    expect(down).not.toContain('--volumes');
    const cfg = await runner().config(spec());
    expect((await recorded()).argv.slice(-3)).toEqual(['config', '--format', 'json']);
    expect(JSON.parse(cfg.stdout)).toEqual({ name: 'immich', services: {} });
  });

  it('runs in the first compose file’s directory unless cwd is given', async () => {
    await mode('ok');
    await runner().up(spec());
    expect((await recorded()).cwd).toBe(stacks);
    await runner().up(spec({ cwd: dir }));
    expect((await recorded()).cwd).toBe(dir);
  });

  it('a custom command (e.g. docker-compose directly) replaces podman compose', async () => {
    await mode('ok');
    const r = new ComposeRunner({ command: [join(bin, 'podman'), 'compose'], podmanSocket: SOCKET, parentEnv: {} });
    await r.up(spec({ envFiles: [] }));
    expect((await recorded()).argv).toEqual(['compose', '-p', 'immich', ...files(), 'up', '-d', '--remove-orphans']);
  });
});

describe('environment', () => {
  it('is the allow-list plus the podman socket, none of stackd’s own secrets', async () => {
    await mode('ok');
    await runner({ SOPS_AGE_KEY_FILE: '/x', GOTIFY_TOKEN: 'secret', DOCKER_HOST: 'tcp://elsewhere:2375', PODMAN_USERNS: 'keep-id' }).up(spec());
    expect((await recorded()).env).toEqual({
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: '/home/owner',
      XDG_RUNTIME_DIR: '/run/user/1000',
      PODMAN_USERNS: 'keep-id',
      PODMAN_IGNORE_CGROUPSV1_WARNING: '1',
      PODMAN_COMPOSE_WARNING_LOGS: 'false',
      CONTAINER_HOST: `unix://${SOCKET}`,
      DOCKER_HOST: `unix://${SOCKET}`,
    });
  });
});

describe('verdicts', () => {
  it('a failing compose resolves with ok=false, the exit code and stderr (no throw)', async () => {
    await mode('missing-image', 'compose-up.missing-image.stderr.txt');
    const r = await runner().up(spec());
    expect(r).toMatchObject({ ok: false, exitCode: 18, timedOut: false });
    expect(r.stderr).toContain('Error response from daemon: {"message":"manifest unknown: manifest unknown"}');
  });

  it('a hanging compose is killed at its timeout, with its children', async () => {
    await mode('hang');
    const r = await runner().up(spec({ timeoutMs: 200 }));
    expect(r).toMatchObject({ ok: false, timedOut: true, exitCode: null });
  });

  it('rejects a spec without compose files, naming the field', async () => {
    await expect(runner().up(spec({ composeFiles: [] }))).rejects.toThrow(/`composeFiles`/);
  });
});

describe('version (provider check)', () => {
  it('reports docker-compose v2, its version and the path podman ran (warning logs on for this call only)', async () => {
    await mode('ok');
    expect(await runner().version()).toEqual({
      ok: true, provider: 'docker-compose', version: '2.26.1-4',
      detail: 'docker-compose 2.26.1-4 (/usr/libexec/docker/cli-plugins/docker-compose)', raw: 'Docker Compose version 2.26.1-4',
    });
    const rec = await recorded();
    expect(rec.argv).toEqual(['compose', 'version']);
    expect(rec.env.PODMAN_COMPOSE_WARNING_LOGS).toBe('true');
    // the compose runs themselves keep podman quiet
    await runner().up(spec());
    expect((await recorded()).env.PODMAN_COMPOSE_WARNING_LOGS).toBe('false');
  });

  it('podman-compose via PODMAN_COMPOSE_PROVIDER in stackd’s environment: refused, naming it and the fix', async () => {
    await mode('podman-compose', undefined, 'compose-version.podman-compose.stdout.txt');
    const v = await runner({ PODMAN_COMPOSE_PROVIDER: '/usr/bin/podman-compose' }).version();
    expect(v).toMatchObject({ ok: false, provider: 'podman-compose', version: '1.3.0', raw: 'podman version 5.4.2\npodman-compose version 1.3.0' });
    expect(v.detail).toContain('ran podman-compose 1.3.0 (/usr/bin/podman-compose)');
    expect(v.detail).toContain('compose_providers = ["/usr/libexec/docker/cli-plugins/docker-compose"] in the [engine] section of ~/.config/containers/containers.conf');
    expect(v.detail).toContain('PODMAN_COMPOSE_PROVIDER=/usr/bin/podman-compose');
    // the variable (and CONTAINERS_CONF) reach podman: the check judges the provider compose runs will get
    expect((await recorded()).env.PODMAN_COMPOSE_PROVIDER).toBe('/usr/bin/podman-compose');
  });

  it('CONTAINERS_CONF reaches podman, and the fix names that file', async () => {
    await mode('podman-compose', undefined, 'compose-version.podman-compose.stdout.txt');
    const v = await runner({ CONTAINERS_CONF: '/etc/stackd/containers.conf' }).version();
    expect((await recorded()).env.CONTAINERS_CONF).toBe('/etc/stackd/containers.conf');
    expect(v.detail).toContain('[engine] section of /etc/stackd/containers.conf');
  });

  it('no provider: ok=false, provider none, with podman’s reason and the fix', async () => {
    await mode('no-provider', 'compose-version.no-provider.stderr.txt');
    const v = await runner().version();
    expect(v).toMatchObject({ ok: false, provider: 'none', version: '' });
    expect(v.detail).toContain('looking up compose provider failed');
    expect(v.detail).toContain('compose_providers = ["/usr/libexec/docker/cli-plugins/docker-compose"]');
    expect(v.raw).toContain('looking up compose provider failed');
  });

  it('podman itself missing: ok=false, provider none, naming the command', async () => {
    const r = new ComposeRunner({ command: ['stackd-no-such-podman', 'compose'], podmanSocket: SOCKET, parentEnv: { PATH: bin } });
    const v = await r.version();
    expect(v).toMatchObject({ ok: false, provider: 'none', raw: '' });
    expect(v.detail).toContain('stackd-no-such-podman');
  });
});

describe('construction', () => {
  it('names the bad option', () => {
    expect(() => new ComposeRunner({ podmanSocket: 'podman.sock', parentEnv: {} })).toThrow(InvalidOptionError);
    expect(() => new ComposeRunner({ podmanSocket: 'podman.sock', parentEnv: {} })).toThrow(/`podmanSocket`/);
    expect(() => new ComposeRunner({ command: [], podmanSocket: SOCKET, parentEnv: {} })).toThrow(/`command`/);
  });
});
