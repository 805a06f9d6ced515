// summarizeComposeError over real stderr captured in the lab (docker-compose 2.26.1 behind podman 5.4.2).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeCouldNotReachPodman, describeComposeError, failedServices, parseDependentContainers, parseForeignNetwork, summarizeComposeError } from '../../../src/core/compose-errors.js';
import { makeRedactor } from '../../../src/core/redact.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');

describe('summarizeComposeError on captured stderr', () => {
  it.each<[string, string]>([
    ['compose-up.missing-image.stderr.txt', 'Error response from daemon: manifest unknown: manifest unknown'],
    ['compose-up.registry-unreachable.stderr.txt', 'Error response from daemon: connection refused'],
    ['compose-up.missing-required-variable.stderr.txt',
      'error while interpolating services.a.environment.FOO: required variable STACKD_REQ_X is missing a value'],
    ['compose-config.missing-required-variable.stderr.txt',
      'error while interpolating services.a.environment.FOO: required variable STACKD_REQ_X is missing a value'],
    ['compose-up.missing-env-file.stderr.txt', "Couldn't find env file: /tmp/stackd-ad/nope.env"],
    ['compose-up.missing-compose-file.stderr.txt', 'open /tmp/stackd-ad/nope.yml: no such file or directory'],
    ['compose-up.bad-yaml.stderr.txt', 'yaml: line 2: did not find expected node content'],
    ['compose-up.start-fail.stderr.txt',
      'Error response from daemon: runc: runc create failed: unable to start container process: exec: "/bin/nonexistent-cmd": ' +
      'stat /bin/nonexistent-cmd: no such file or directory: OCI runtime attempted to invoke a command that was not found'],
    ['compose-version.no-provider.stderr.txt',
      'Error: looking up compose provider failed; exec: "/nonexistent/docker-compose": stat /nonexistent/docker-compose: no such file or directory'],
  ])('%s', (name, expected) => {
    expect(summarizeComposeError(fixture(name))).toBe(expected);
  });

  it('a run that only warned yields the warning, unescaped (plain ${X} → blank string)', () => {
    expect(summarizeComposeError(fixture('compose-up.unset-variable-warning.stderr.txt')))
      .toBe('The "STACKD_PLAIN_X" variable is not set. Defaulting to a blank string.');
  });
});

describe('summarizeComposeError rules', () => {
  it('drops progress lines and podman’s "Error: executing … exit status" wrapper when something better exists', () => {
    const stderr = ' a Pulling \n a Error {"message":"x"}\nsomething broke\nError: executing /usr/libexec/docker/cli-plugins/docker-compose -p p up -d: exit status 1\n';
    expect(summarizeComposeError(stderr)).toBe('something broke');
  });

  it('falls back to the wrapper line when nothing else was said', () => {
    const wrapper = 'Error: executing /usr/libexec/docker/cli-plugins/docker-compose -p p up -d: exit status 1';
    expect(summarizeComposeError(` Container x  Starting\n${wrapper}\n`)).toBe(wrapper);
  });

  it('prefers known error lines over other chatter, deduplicated', () => {
    const stderr = 'some note\nError response from daemon: boom\nError response from daemon: boom\n';
    expect(summarizeComposeError(stderr)).toBe('Error response from daemon: boom');
  });

  it('reads logfmt errors and strips ANSI colour', () => {
    expect(summarizeComposeError('time="2026-01-01T00:00:00Z" level=error msg="bad \\"thing\\""\n')).toBe('bad "thing"');
    expect(summarizeComposeError('\u001b[31mError response from daemon: red\u001b[0m\n')).toBe('Error response from daemon: red');
  });

  it('is empty for empty stderr and bounded for huge stderr', () => {
    expect(summarizeComposeError('')).toBe('');
    const many = Array.from({ length: 50 }, (_, i) => `error: ${i} ${'x'.repeat(1000)}`).join('\n');
    const s = summarizeComposeError(many);
    expect(s.split('; ')).toHaveLength(5);
    expect(s.length).toBeLessThan(5 * 510);
  });
});

describe('describeComposeError: redacts before it summarizes', () => {
  // 600 characters: longer than a summary line (500), so a cut before redaction leaves most of it visible
  const secret = Array.from({ length: 60 }, (_, i) => `tok${String(i).padStart(2, '0')}-abcd`).join('');
  const redact = makeRedactor([secret, 'p@ss&w<o>rd', 'line-one-of-key\nline-two-of-key', 'say "hi" $HOME']);
  /** no 12-character piece of any secret may remain */
  const leaks = (s: string) => [secret, 'p@ss&w<o>rd'].some((v) => Array.from({ length: v.length - 11 }, (_, i) => v.slice(i, i + 12)).some((p) => s.includes(p)));

  it('the secret is 600 characters long (the premise)', () => expect(secret).toHaveLength(600));

  it.each<[string, string, string]>([
    ['a long secret spanning the 500-character cut', `Error response from daemon: auth failed for token ${secret} at registry\n`,
      'Error response from daemon: auth failed for token *** at registry'],
    ['inside daemon JSON, where Go escapes & < > (unwrapped by the summary)',
      'Error response from daemon: {"message":"login p@ss\\u0026w\\u003co\\u003erd rejected"}\n', 'Error response from daemon: login *** rejected'],
    // compose quotes the value (Go %q) inside a logfmt message: escaped twice in the raw line
    ['inside a logfmt message, quotes escaped twice', `time="2026-01-01T00:00:00Z" level=error msg="bad value \\"say \\\\\\"hi\\\\\\" $HOME\\""\n`,
      'bad value "***"'],
    ['a multi-line value printed line by line', 'error: key was\nerror: line-two-of-key\n', 'error: key was; error: ***'],
    ['the secret in a long line of other chatter', `something ${'x'.repeat(480)} ${secret}\n`, `something ${'x'.repeat(480)} ***`],
  ])('%s', (_what, stderr, expected) => {
    const out = describeComposeError(stderr, redact);
    expect(leaks(out)).toBe(false);
    expect(out).toBe(expected);
  });

  it('still cuts long lines and keeps at most five', () => {
    const many = Array.from({ length: 50 }, (_, i) => `error: ${i} ${'x'.repeat(1000)} ${secret}`).join('\n');
    const out = describeComposeError(many, redact);
    expect(out.split('; ')).toHaveLength(5);
    expect(out.length).toBeLessThan(5 * 510);
    expect(leaks(out)).toBe(false);
  });

  it('summarizes exactly like summarizeComposeError when there is nothing to hide', () => {
    const stderr = fixture('compose-up.missing-image.stderr.txt');
    expect(describeComposeError(stderr, (s) => s)).toBe(summarizeComposeError(stderr));
  });
});

describe('failedServices', () => {
  it.each<[string, string, string[]]>([
    ['a pull error names the service', 'fixture:compose-up.missing-image.stderr.txt', ['a']],
    ['a start error names the container', ' Container x-a-1  Error\nError response from daemon: boom\n', ['x-a-1']],
    ['progress without errors names nothing', ' a Pulling\n a Pulled\n Container x-a-1  Started\n', []],
    ['repeats are listed once', ' a Error {"m":1}\n a Error {"m":2}\n', ['a']],
  ])('%s', (_what, input, expected) => {
    const text = input.startsWith('fixture:') ? fixture(input.slice('fixture:'.length)) : input;
    expect(failedServices(text)).toEqual(expected);
  });
});

describe('parseDependentContainers', () => {
  it('reads the holder and its dependents from podman\'s refusal (captured from the network-holder demo stack)', () => {
    expect(parseDependentContainers(fixture('compose-up.dependent-containers.stderr.txt'))).toEqual({
      container: 'd64bd508bfd1aa1a87f5e1f7bc9f94336212aa04ca8b49a8557d211d52fb9ab7',
      dependents: ['21dabaa450270a92bcb35db58cbb24d6007544f8e50330e2cf1195775014a761'],
    });
  });

  it.each<[string, string, string[] | undefined]>([
    ['several dependents, comma separated', 'container aaaaaaaaaaaa has dependent containers which must be removed before it: bbbbbbbbbbbb,cccccccccccc: container already exists', ['bbbbbbbbbbbb', 'cccccccccccc']],
    ['another error', 'Error response from daemon: manifest unknown', undefined],
    ['no ids after the colon', 'container aaaaaaaaaaaa has dependent containers which must be removed before it: ', undefined],
  ])('%s', (_what, stderr, dependents) => {
    expect(parseDependentContainers(stderr)?.dependents).toEqual(dependents);
  });
});

describe('parseForeignNetwork', () => {
  it.each([
    ['the captured refusal (podman-compose made the network)', fixture('compose-up.foreign-network.stderr.txt'), { network: 'demo_default', found: '' }],
    ['a label naming another key', 'network p_back was found but has incorrect label com.docker.compose.network set to "front"', { network: 'p_back', found: 'front' }],
    ['with colour codes', '\u001b[31mnetwork p_default was found but has incorrect label com.docker.compose.network set to ""\u001b[0m', { network: 'p_default', found: '' }],
    ['another error', fixture('compose-up.dependent-containers.stderr.txt'), undefined],
    ['a volume warning is not it', 'volume "p_data" already exists but was not created by Docker Compose. Use `external: true` to use an existing volume', undefined],
  ])('%s', (_what, stderr, expected) => {
    expect(parseForeignNetwork(stderr)).toEqual(expected);
  });
});

describe('composeCouldNotReachPodman', () => {
  it.each<[string, boolean]>([
    // podman's wrapper, podman's socket missing / through stackd's relay (closed unanswered: EOF)
    ['compose-version.podman-unreachable.stderr.txt', true],
    ['compose-up.podman-unreachable-relay.stderr.txt', true],
    // docker-compose itself: straight at podman's socket / through the relay after podman went away
    ['docker-compose-up.podman-unreachable.stderr.txt', true],
    ['docker-compose-up.podman-unreachable-relay.stderr.txt', true],
    // compose reached podman, and podman (or the registry behind it) answered with an error: a compose failure
    ['compose-up.missing-image.stderr.txt', false],
    ['compose-up.registry-unreachable.stderr.txt', false],
    ['compose-up.start-fail.stderr.txt', false],
    ['compose-up.missing-compose-file.stderr.txt', false],
    ['compose-up.bad-yaml.stderr.txt', false],
    ['compose-version.no-provider.stderr.txt', false],
  ])('%s → %s', (name, expected) => {
    expect(composeCouldNotReachPodman(fixture(name))).toBe(expected);
  });

  it('sees through ANSI colour codes', () => {
    expect(composeCouldNotReachPodman('\u001b[31mCannot connect to Podman.\u001b[0m Please verify …')).toBe(true);
  });
});
