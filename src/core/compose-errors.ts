// Picks the line(s) of `podman compose` stderr that say what went wrong, for a reconcile's `reason`.
// Shapes seen in the lab (docker-compose 2.26.1 behind podman 5.4.2, fixtures test/fixtures/compose-*.stderr.txt):
//   ` a Pulling` / ` Container x  Started`                   progress: indented, dropped
//   `Error response from daemon: {"message":"manifest unknown: manifest unknown"}`
//   `error while interpolating services.a.environment.FOO: required variable X is missing a value`
//   `open /srv/x/compose.yml: no such file or directory` · `Couldn't find env file: /run/…/x.env`
//   `time="…" level=warning msg="The \"X\" variable is not set. Defaulting to a blank string."`
//   `Error: executing /usr/libexec/docker/cli-plugins/docker-compose … exit status 18`   podman's wrapper, dropped
//   `Error: looking up compose provider failed` + `exec: "…": stat …: no such file or directory`
//   `Cannot connect to Podman. …` + `Error: unable to connect to Podman socket: …`     podman down (see below)

const MAX_LINES = 5;
const MAX_LINE_CHARS = 500;

const KNOWN_ERROR = [
  /^Error response from daemon:/,
  /required variable .* is missing a value/,
  /no such file or directory/i,
  /^Couldn't find env file/i,
  /^error[:\s]/i,
];
const PODMAN_WRAPPER = /^Error: executing \S+.* exit status \d+$/;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const LOGFMT = /^time="[^"]*"\s+level=(\w+)\s+msg="((?:[^"\\]|\\.)*)"/;

/**
 * The error line(s) of compose's stderr, redacted, for a reason an operator sees. Redaction runs on the raw
 * text (before anything is cut, so a secret longer than a summary line cannot be half-shown) and again on
 * each picked line (the summary unescapes logfmt and daemon JSON, which can turn an escaped form of a value
 * back into the value itself), and only then are lines cut to length.
 */
export function describeComposeError(stderr: string, redact: (text: string) => string): string {
  return formatSummary(pickErrorLines(redact(stderr)).map(redact));
}

/**
 * The same summary WITHOUT redaction: only for output that cannot hold an env value (`compose version`).
 * Anything a stack's files feed into goes through describeComposeError.
 */
export function summarizeComposeError(stderr: string): string {
  return formatSummary(pickErrorLines(stderr));
}

/** The lines that say what went wrong, whole (unescaped, not yet cut), best first. */
function pickErrorLines(stderr: string): string[] {
  const known: string[] = [];
  const other: string[] = [];
  const warnings: string[] = [];
  let wrapper: string | undefined;

  for (const raw of stderr.split('\n')) {
    const line = raw.replace(ANSI, '').replace(/\r$/, '').trimEnd();
    if (line.trim() === '') continue;
    // compose progress lines (" a Pulling", " Container x  Starting") are indented
    if (/^\s/.test(line)) continue;
    if (PODMAN_WRAPPER.test(line)) {
      wrapper = line;
      continue;
    }
    const logfmt = LOGFMT.exec(line);
    if (logfmt) {
      const msg = unescapeLogfmt(logfmt[2] ?? '');
      if (logfmt[1] === 'error' || logfmt[1] === 'fatal') known.push(msg);
      else if (logfmt[1] === 'warning') warnings.push(msg);
      continue;
    }
    const clean = unwrapDaemonJson(line);
    (KNOWN_ERROR.some((re) => re.test(clean)) ? known : other).push(clean);
  }

  return known.length ? known : other.length ? other.slice(-MAX_LINES) : warnings.length ? warnings : wrapper ? [wrapper] : [];
}

function formatSummary(lines: string[]): string {
  return dedupe(lines)
    .slice(0, MAX_LINES)
    .map((l) => (l.length > MAX_LINE_CHARS ? `${l.slice(0, MAX_LINE_CHARS)}…` : l))
    .join('; ');
}

/** `Error response from daemon: {"message":"x"}` → `Error response from daemon: x` */
function unwrapDaemonJson(line: string): string {
  const m = /^(Error response from daemon: )(\{.*\})$/.exec(line);
  if (!m) return line;
  try {
    const parsed: unknown = JSON.parse(m[2] ?? '');
    if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string') {
      return `${m[1] ?? ''}${parsed.message}`;
    }
  } catch {
    // not JSON after all: keep the line as it was
  }
  return line;
}

function unescapeLogfmt(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}

/**
 * Services that compose's progress output marks as failed (` ghost Error {"message":…}` while pulling,
 * ` Container x-ghost-1  Error` while starting). The daemon's error line alone does not say which
 * service or image it was about; these names let the reason say so.
 */
export function failedServices(stderr: string): string[] {
  const names: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.replace(ANSI, '');
    const m = /^\s+(?:Container\s+)?(\S+)\s+Error\b/.exec(line);
    if (m?.[1]) names.push(m[1]);
  }
  return dedupe(names);
}

/**
 * podman's compose wrapper pings podman before it runs the provider, and says this when nothing answered
 * (fixtures compose-version.podman-unreachable.stderr.txt: podman's own socket missing;
 * compose-up.podman-unreachable-relay.stderr.txt: through stackd's relay, which closes the connection unanswered).
 */
export const PODMAN_WRAPPER_UNREACHABLE = /unable to connect to Podman socket|Cannot connect to Podman/;

const COMPOSE_UNREACHABLE = [
  PODMAN_WRAPPER_UNREACHABLE,
  // docker-compose itself, talking to podman's socket directly (fixture docker-compose-up.podman-unreachable)
  /^Cannot connect to the Docker daemon at /m,
  // docker-compose through the relay when podman went away after the wrapper's ping: the relay's unanswered
  // close reads as EOF (fixture docker-compose-up.podman-unreachable-relay)
  /^error during connect: /m,
];

/**
 * A compose run that never reached podman: the reconcile fails as podman-unreachable (podman is what to
 * fix), not as compose-failed, whose reason would read like a problem with the stack's files.
 */
export function composeCouldNotReachPodman(stderr: string): boolean {
  const text = stderr.replace(ANSI, '');
  return COMPOSE_UNREACHABLE.some((re) => re.test(text));
}

export interface DependentContainersError {
  /** the container compose wanted to replace */
  container: string;
  /** containers joined to its namespaces (network_mode: "service:…") that podman will not orphan */
  dependents: string[];
}

/**
 * Podman refuses to remove a container whose namespaces others share, so docker-compose cannot recreate a
 * "network holder" whose definition changed: `Error response from daemon: container <id> has dependent
 * containers which must be removed before it: <id>[,<id>…]: container already exists`
 * (fixture compose-up.dependent-containers.stderr.txt).
 */
export function parseDependentContainers(stderr: string): DependentContainersError | undefined {
  const m = /container ([0-9a-f]{12,64}) has dependent containers which must be removed before it: ([0-9a-f][0-9a-f,\s]*[0-9a-f])/.exec(stderr);
  if (!m?.[1] || !m[2]) return undefined;
  const dependents = m[2].split(/[\s,]+/).filter((id) => /^[0-9a-f]{12,64}$/.test(id));
  return dependents.length ? { container: m[1], dependents } : undefined;
}

/**
 * docker-compose refuses to reuse a network whose `com.docker.compose.network` label is not the network's key
 * in the file: `network adoptpc_default was found but has incorrect label com.docker.compose.network set to ""`
 * (fixture compose-up.foreign-network.stderr.txt). podman-compose labels its networks with the project but
 * never with that key, so every project it created fails here when docker-compose takes it over.
 */
export function parseForeignNetwork(stderr: string): { network: string; found: string } | undefined {
  const m = /network (\S+) was found but has incorrect label com\.docker\.compose\.network set to "([^"]*)"/.exec(stderr.replace(ANSI, ''));
  return m?.[1] !== undefined ? { network: m[1], found: m[2] ?? '' } : undefined;
}
