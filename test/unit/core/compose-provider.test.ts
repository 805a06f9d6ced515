// judgeComposeProvider over real `podman compose version` runs captured in the lab (podman 5.4.2, as the lab user):
//   docker-compose.*      test/lab/as-lab.sh env -u PODMAN_COMPOSE_WARNING_LOGS podman compose version
//   podman-compose.*      … PODMAN_COMPOSE_PROVIDER=/usr/bin/podman-compose podman compose version (trixie's 1.3.0-1)
//   docker-compose-v1.*   … PODMAN_COMPOSE_PROVIDER=<bookworm's docker-compose 1.29.2-3, unpacked> podman compose version
//   no-provider           … CONTAINERS_CONF=<conf with compose_providers = ["/nonexistent/docker-compose"]> (exit 125)
//   provider-missing      … PODMAN_COMPOSE_PROVIDER=/nonexistent/docker-compose (exit 125)
//   provider-empty        … PODMAN_COMPOSE_PROVIDER= (exit 125)
//   provider-failed       … PODMAN_COMPOSE_PROVIDER=/bin/false (exit 1)
//   podman-unreachable    … CONTAINER_HOST=unix:///nonexistent/podman.sock (exit 125)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOCKER_COMPOSE_PLUGIN, judgeComposeProvider } from '../../../src/core/compose-provider.js';
import type { ComposeProviderVerdict, ComposeVersionRun } from '../../../src/core/compose-provider.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/compose-version.${name}`, import.meta.url), 'utf8');
const ARGV = ['podman', 'compose', 'version'];
const FIX_CONF = `set compose_providers = ["${DOCKER_COMPOSE_PLUGIN}"] in the [engine] section of ~/.config/containers/containers.conf`;

function run(extra: Partial<ComposeVersionRun>): ComposeVersionRun {
  return { argv: ARGV, exitCode: 0, stdout: '', stderr: '', ...extra };
}

interface Case {
  name: string;
  run: ComposeVersionRun;
  want: Omit<ComposeProviderVerdict, 'detail'>;
  /** every one must occur in detail */
  says: (string | RegExp)[];
}

const cases: Case[] = [
  {
    name: 'docker-compose v2 (stderr quiet, as stackd usually runs it)',
    run: run({ stdout: fixture('docker-compose.stdout.txt') }),
    want: { ok: true, provider: 'docker-compose', version: '2.26.1-4' },
    says: [/^docker-compose 2\.26\.1-4$/],
  },
  {
    name: 'docker-compose v2 with podman’s banner: the path is named',
    run: run({ stdout: fixture('docker-compose.stdout.txt'), stderr: fixture('docker-compose.banner.stderr.txt') }),
    want: { ok: true, provider: 'docker-compose', version: '2.26.1-4' },
    says: [/^docker-compose 2\.26\.1-4 \(\/usr\/libexec\/docker\/cli-plugins\/docker-compose\)$/],
  },
  {
    name: 'upstream docker-compose v2 spelling (v prefix)',
    run: run({ stdout: 'Docker Compose version v2.29.7\n' }),
    want: { ok: true, provider: 'docker-compose', version: '2.29.7' },
    says: ['docker-compose 2.29.7'],
  },
  {
    name: 'podman-compose via PODMAN_COMPOSE_PROVIDER, with the banner',
    run: run({
      stdout: fixture('podman-compose.stdout.txt'), stderr: fixture('podman-compose.banner.stderr.txt'),
      providerEnv: '/usr/bin/podman-compose',
    }),
    want: { ok: false, provider: 'podman-compose', version: '1.3.0' },
    says: [
      '`podman compose version` ran podman-compose 1.3.0 (/usr/bin/podman-compose)',
      'hangs instead of exiting',
      FIX_CONF,
      'unset PODMAN_COMPOSE_PROVIDER (stackd\'s environment has PODMAN_COMPOSE_PROVIDER=/usr/bin/podman-compose, which overrides containers.conf)',
      `or set it to ${DOCKER_COMPOSE_PLUGIN}`,
      /then restart stackd$/,
    ],
  },
  {
    name: 'podman-compose picked by containers.conf (no banner, no env): the conf step and the env alternative',
    run: run({ stdout: fixture('podman-compose.stdout.txt') }),
    want: { ok: false, provider: 'podman-compose', version: '1.3.0' },
    says: ['ran podman-compose 1.3.0;', FIX_CONF, `(or PODMAN_COMPOSE_PROVIDER=${DOCKER_COMPOSE_PLUGIN} in stackd's environment)`],
  },
  {
    name: 'podman-compose with CONTAINERS_CONF set: that file is the one to edit',
    run: run({ stdout: fixture('podman-compose.stdout.txt'), containersConf: '/etc/stackd/containers.conf' }),
    want: { ok: false, provider: 'podman-compose', version: '1.3.0' },
    says: ['in the [engine] section of /etc/stackd/containers.conf'],
  },
  {
    name: 'podman-compose 1.0.x spelling ("version: 1.0.3")',
    run: run({ stdout: "podman-compose version: 1.0.3\n['podman', '--version', '']\nusing podman version: 4.3.1\npodman-compose version 1.0.3\n" }),
    want: { ok: false, provider: 'podman-compose', version: '1.0.3' },
    says: ['podman-compose 1.0.3'],
  },
  {
    name: 'docker-compose v1 (python), with the banner',
    run: run({ stdout: fixture('docker-compose-v1.stdout.txt'), stderr: fixture('docker-compose-v1.banner.stderr.txt'), providerEnv: '/tmp/v1/docker-compose-v1' }),
    want: { ok: false, provider: 'docker-compose', version: '1.29.2' },
    says: ['ran docker-compose 1.29.2 (/tmp/v1/docker-compose-v1), the python v1', 'expected docker-compose v2.x', 'PODMAN_COMPOSE_PROVIDER=/tmp/v1/docker-compose-v1'],
  },
  {
    name: 'a docker-compose major stackd was not built for',
    run: run({ stdout: 'Docker Compose version v5.0.0\n' }),
    want: { ok: false, provider: 'docker-compose', version: '5.0.0' },
    says: ['docker-compose 5.0.0', 'expected docker-compose v2.x'],
  },
  {
    name: 'compose_providers names nothing that exists (podman’s lookup failed)',
    run: run({ exitCode: 125, stderr: fixture('no-provider.stderr.txt') }),
    want: { ok: false, provider: 'none', version: '' },
    says: ['found no compose provider it could run: Error: looking up compose provider failed; exec: "/nonexistent/docker-compose": stat', FIX_CONF],
  },
  {
    name: 'PODMAN_COMPOSE_PROVIDER names a missing file',
    run: run({ exitCode: 125, stderr: fixture('provider-missing.stderr.txt'), providerEnv: '/nonexistent/docker-compose' }),
    want: { ok: false, provider: 'none', version: '' },
    says: ['fork/exec /nonexistent/docker-compose: no such file or directory', 'PODMAN_COMPOSE_PROVIDER=/nonexistent/docker-compose'],
  },
  {
    name: 'PODMAN_COMPOSE_PROVIDER set but empty',
    run: run({ exitCode: 125, stderr: fixture('provider-empty.stderr.txt'), providerEnv: '' }),
    want: { ok: false, provider: 'none', version: '' },
    says: ['exec: no command', 'unset PODMAN_COMPOSE_PROVIDER, which is set but empty'],
  },
  {
    name: 'the provider itself fails',
    run: run({ exitCode: 1, stderr: fixture('provider-failed.stderr.txt'), providerEnv: '/bin/false' }),
    want: { ok: false, provider: 'unknown', version: '' },
    says: ['exited 1: Error: executing /bin/false version: exit status 1', 'expected "Docker Compose version 2.x"'],
  },
  {
    name: 'podman’s socket does not answer: the provider was never asked; the fix is the socket',
    run: run({ exitCode: 125, stderr: fixture('podman-unreachable.stderr.txt') }),
    want: { ok: false, provider: 'unknown', version: '' },
    says: ['podman\'s API socket did not answer: Error: unable to connect to Podman socket', 'systemctl --user enable --now podman.socket'],
  },
  {
    name: 'a provider that prints nothing (exit 0)',
    run: run({ stdout: '', providerEnv: '/bin/true' }),
    want: { ok: false, provider: 'unknown', version: '' },
    says: ['printed nothing, not a compose provider stackd knows', 'expected "Docker Compose version 2.x"'],
  },
  {
    name: 'a provider that prints something else (exit 0)',
    run: run({ stdout: 'nerdctl version 1.7\n' }),
    want: { ok: false, provider: 'unknown', version: '' },
    says: ['printed "nerdctl version 1.7"'],
  },
  {
    name: 'a provider that hangs past the timeout',
    run: run({ exitCode: null, timedOut: true, timeoutMs: 30_000 }),
    want: { ok: false, provider: 'unknown', version: '' },
    says: ['no answer within 30000 ms', FIX_CONF],
  },
  {
    name: 'podman itself cannot be started',
    run: run({ exitCode: null, spawnError: 'cannot start `podman` (ENOENT); check that it is installed and on the PATH given to stackd' }),
    want: { ok: false, provider: 'none', version: '' },
    says: ['`podman compose version` could not start: cannot start `podman` (ENOENT)', 'docker-compose v2'],
  },
  {
    name: 'a custom composeCommand that runs podman-compose directly: the fix names the config key',
    run: run({ argv: ['podman-compose', 'version'], stdout: fixture('podman-compose.stdout.txt') }),
    want: { ok: false, provider: 'podman-compose', version: '1.3.0' },
    says: ['`podman-compose version` ran podman-compose 1.3.0', 'Point podman.composeCommand in stackd\'s config at docker-compose v2'],
  },
  {
    name: 'a wrapper script around podman compose: the banner shows podman picked the provider',
    run: run({ argv: ['/srv/bin/count-compose.sh', 'version'], stdout: fixture('podman-compose.stdout.txt'), stderr: fixture('podman-compose.banner.stderr.txt') }),
    want: { ok: false, provider: 'podman-compose', version: '1.3.0' },
    says: ['To point podman at docker-compose:'],
  },
];

describe('judgeComposeProvider on captured `podman compose version` runs', () => {
  it.each(cases)('$name', ({ run: r, want, says }) => {
    const v = judgeComposeProvider(r);
    expect({ ok: v.ok, provider: v.provider, version: v.version }).toEqual(want);
    for (const s of says) {
      if (typeof s === 'string') expect(v.detail).toContain(s);
      else expect(v.detail).toMatch(s);
    }
    // one line for logs and /readyz, without podman's terminal colours
    expect(v.detail).not.toContain('\n');
    expect(v.detail).not.toContain('\u001b');
  });

  it('only docker-compose v2 is ok', () => {
    const ok = cases.filter((c) => judgeComposeProvider(c.run).ok).map((c) => c.want.version);
    expect(ok).toEqual(['2.26.1-4', '2.26.1-4', '2.29.7']);
  });

  it('every bad verdict says how to fix it', () => {
    for (const c of cases) {
      const v = judgeComposeProvider(c.run);
      // podman's socket not answering is not a provider verdict: stackd asks again by itself, no restart needed
      if (!v.ok) expect(v.detail, c.name).toMatch(v.podmanUnreachable ? /podman\.socket\)$/ : /restart stackd$/);
    }
  });

  it('only the podman-unreachable answer is marked as such (the reconcile retries it as podman-unreachable)', () => {
    for (const c of cases) {
      const v = judgeComposeProvider(c.run);
      expect(v.podmanUnreachable === true, c.name).toBe(/unable to connect to Podman socket|Cannot connect to Podman/.test(c.run.stderr));
    }
  });
});
