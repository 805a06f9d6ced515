// summarizeComposeError over real stderr captured in the lab (docker-compose 2.26.1 behind podman 5.4.2).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { failedServices, parseDependentContainers, summarizeComposeError } from '../../../src/core/compose-errors.js';

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
