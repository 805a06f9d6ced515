// Which compose provider `podman compose` runs, judged from what `<command> version` printed and how it exited.
// stackd runs compose only through docker-compose v2: the owner left podman-compose because it hung instead of
// exiting and made pods, and docker-compose v1 (the python one) is out of support. Anything else is refused
// with a detail that names what was found and how to point podman at docker-compose.
//
// Shapes captured in the lab (podman 5.4.2; test/fixtures/compose-version.*):
//   exit 0   `Docker Compose version 2.26.1-4`                     docker-compose v2 (Debian; upstream prints v2.x.y)
//   exit 0   `podman version 5.4.2` / `podman-compose version 1.3.0` podman-compose (1.0.x printed `version: 1.0.3`)
//   exit 0   `docker-compose version 1.29.2, build unknown` / …     docker-compose v1
//   stderr   `>>>> Executing external compose provider "/usr/bin/podman-compose". Please see …` (ANSI underlined;
//            podman prints it unless PODMAN_COMPOSE_WARNING_LOGS=false) — the only place the provider's path shows
//   exit 125 `Error: looking up compose provider failed` / `exec: "…": stat …`   compose_providers names nothing there
//   exit 125 `Error: executing /x version: fork/exec /x: no such file or directory`  PODMAN_COMPOSE_PROVIDER=/x missing
//   exit 125 `Error: executing  version: exec: no command`                PODMAN_COMPOSE_PROVIDER set but empty
//   exit 125 `Cannot connect to Podman. …` / `Error: unable to connect to Podman socket: …`  podman pings its socket first
//   exit 1   `Error: executing /bin/false version: exit status 1`          the provider itself failed
import { PODMAN_WRAPPER_UNREACHABLE } from './compose-errors.js';

export type ComposeProviderName = 'docker-compose' | 'podman-compose' | 'none' | 'unknown';

export interface ComposeProviderVerdict {
  /** true only for docker-compose v2.x */
  ok: boolean;
  provider: ComposeProviderName;
  /** as printed without a leading "v", e.g. "2.26.1-4"; "" when not known */
  version: string;
  /** one line: "docker-compose 2.26.1-4 (/path)", or what was found, what stackd expects and how to fix it */
  detail: string;
  /**
   * podman's own socket did not answer, so the provider was never asked: not a provider verdict at all (the
   * reconcile fails as podman-unreachable and retries; the provider is asked again next time)
   */
  podmanUnreachable?: boolean;
}

/** What running `<command> version` gave, plus the environment facts that decide which provider podman picks. */
export interface ComposeVersionRun {
  /** what ran, e.g. ['podman', 'compose', 'version'] */
  argv: readonly string[];
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
  timeoutMs?: number;
  /** the command could not be started at all (not installed, not executable); the spawn error's message */
  spawnError?: string;
  /** PODMAN_COMPOSE_PROVIDER as the child saw it; undefined when unset */
  providerEnv?: string;
  /** CONTAINERS_CONF as the child saw it; undefined when unset */
  containersConf?: string;
}

/** Where Debian's (and Docker's) docker-compose package puts the v2 plugin; podman looks there by default. */
export const DOCKER_COMPOSE_PLUGIN = '/usr/libexec/docker/cli-plugins/docker-compose';
const USER_CONTAINERS_CONF = '~/.config/containers/containers.conf';
const SUPPORTED_MAJOR = 2;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const BANNER = /Executing external compose provider "([^"]*)"/;
const DOCKER_COMPOSE_V2 = /^Docker Compose version v?((\d+)\.\S*)/m;
// v1 spells its name with a hyphen in lower case; v2 says "Docker Compose"
const DOCKER_COMPOSE_V1 = /^docker-compose version v?(\d[^,\s]*)/m;
const PODMAN_COMPOSE = /^podman-compose version:?\s*v?(\d\S*)/m;
const LOOKUP_FAILED = /looking up compose provider failed/;
const PROVIDER_NOT_RUN = /^Error: executing .*(no such file or directory|no command|permission denied)/im;

export function judgeComposeProvider(run: ComposeVersionRun): ComposeProviderVerdict {
  const cmd = `\`${run.argv.join(' ')}\``;
  const stderr = run.stderr.replace(ANSI, '');
  const path = BANNER.exec(stderr)?.[1];
  const at = path ? ` (${path})` : '';
  const fix = fixFor(run, path !== undefined);

  if (run.spawnError !== undefined) {
    return bad('none', '', `${cmd} could not start: ${run.spawnError}. stackd needs podman with docker-compose v2 as its ` +
      `compose provider (Debian: the podman and docker-compose packages); then restart stackd`);
  }
  if (run.timedOut) {
    return bad('unknown', '', `${cmd} gave no answer within ${run.timeoutMs ?? '?'} ms (a hanging provider is what ` +
      `podman-compose does); expected "Docker Compose version 2.x". ${fix}`);
  }
  if (run.exitCode !== 0) {
    const said = errorLines(stderr) || `exit ${run.exitCode ?? 'by a signal'}`;
    if (PODMAN_WRAPPER_UNREACHABLE.test(stderr)) {
      // podman's wrapper pings its socket before it runs any provider: the provider is not the problem (yet)
      return {
        ...bad('unknown', '', `${cmd} could not ask its compose provider because podman's API socket did not ` +
          `answer: ${said}. Start it (systemctl --user enable --now podman.socket)`),
        podmanUnreachable: true,
      };
    }
    if (LOOKUP_FAILED.test(stderr) || PROVIDER_NOT_RUN.test(stderr)) {
      return bad('none', '', `${cmd} found no compose provider it could run: ${said}. ${fix}`);
    }
    return bad('unknown', '', `${cmd}${at} exited ${run.exitCode ?? 'by a signal'}: ${said}; expected "Docker Compose version 2.x". ${fix}`);
  }

  const stdout = run.stdout.replace(ANSI, '');
  const v2 = DOCKER_COMPOSE_V2.exec(stdout);
  if (v2) {
    const version = v2[1] ?? '';
    if (Number(v2[2]) === SUPPORTED_MAJOR) return { ok: true, provider: 'docker-compose', version, detail: `docker-compose ${version}${at}` };
    return bad('docker-compose', version, `${cmd} ran docker-compose ${version}${at}, a major version stackd was not ` +
      `built and tested for; expected docker-compose v${SUPPORTED_MAJOR}.x. ${fix}`);
  }
  const v1 = DOCKER_COMPOSE_V1.exec(stdout);
  if (v1) {
    const version = v1[1] ?? '';
    return bad('docker-compose', version, `${cmd} ran docker-compose ${version}${at}, the python v1 (out of support, ` +
      `reads compose files differently); expected docker-compose v${SUPPORTED_MAJOR}.x. ${fix}`);
  }
  const pc = PODMAN_COMPOSE.exec(stdout);
  if (pc) {
    const version = pc[1] ?? '';
    return bad('podman-compose', version, `${cmd} ran podman-compose ${version}${at}; stackd runs compose only through ` +
      `docker-compose v${SUPPORTED_MAJOR} (podman-compose hangs instead of exiting and makes pods). ${fix}`);
  }
  const first = stdout.trim().split('\n')[0]?.trim() ?? '';
  return bad('unknown', '', `${cmd}${at} printed ${first ? `"${clip(first)}"` : 'nothing'}, not a compose ` +
    `provider stackd knows; expected "Docker Compose version 2.x". ${fix}`);
}

/** How to make `podman compose` run docker-compose v2, for the facts at hand. */
function fixFor(run: ComposeVersionRun, bannerSeen: boolean): string {
  const viaPodman = bannerSeen || isPodmanCompose(run.argv);
  const conf = run.containersConf || USER_CONTAINERS_CONF;
  const confStep = `set compose_providers = ["${DOCKER_COMPOSE_PLUGIN}"] in the [engine] section of ${conf}`;
  let envStep: string;
  if (run.providerEnv === undefined) {
    envStep = `(or PODMAN_COMPOSE_PROVIDER=${DOCKER_COMPOSE_PLUGIN} in stackd's environment)`;
  } else if (run.providerEnv === '') {
    envStep = `and unset PODMAN_COMPOSE_PROVIDER, which is set but empty in stackd's environment and overrides containers.conf ` +
      `(or set it to ${DOCKER_COMPOSE_PLUGIN})`;
  } else {
    envStep = `and unset PODMAN_COMPOSE_PROVIDER (stackd's environment has PODMAN_COMPOSE_PROVIDER=${run.providerEnv}, ` +
      `which overrides containers.conf) or set it to ${DOCKER_COMPOSE_PLUGIN}`;
  }
  if (viaPodman) return `To point podman at docker-compose: ${confStep} ${envStep}; then restart stackd`;
  return `Point podman.composeCommand in stackd's config at docker-compose v${SUPPORTED_MAJOR} (the default, ` +
    `["podman", "compose"], runs podman's provider: ${confStep} ${envStep}); then restart stackd`;
}

function isPodmanCompose(argv: readonly string[]): boolean {
  const base = (argv[0] ?? '').split('/').pop();
  return base === 'podman' && argv[1] === 'compose';
}

/** podman's error lines, without the banner, its "podman machine" advice and blank lines, joined into one line. */
function errorLines(stderr: string): string {
  return stderr.split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !BANNER.test(l) && !l.startsWith('Cannot connect to Podman.'))
    .slice(-3)
    .map(clip)
    .join('; ');
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

function bad(provider: ComposeProviderName, version: string, detail: string): ComposeProviderVerdict {
  return { ok: false, provider, version, detail };
}
