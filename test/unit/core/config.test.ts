import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfigPath, formatConfigIssues, parseConfig, parseListen } from '../../../src/core/config.js';
import type { Config, ConfigEnvironment, ConfigIssue } from '../../../src/core/config-types.js';

const SOURCE = '/etc/stackd/stackd.yaml';
const CTX: ConfigEnvironment = { env: { HOME: '/home/alice' }, uid: 1000 };

function ok(yaml: string, ctx: ConfigEnvironment = CTX): Config {
  const r = parseConfig(yaml, SOURCE, ctx);
  if (!r.ok) throw new Error(formatConfigIssues(SOURCE, r.issues));
  return r.config;
}

function issues(yaml: string, ctx: ConfigEnvironment = CTX): ConfigIssue[] {
  const r = parseConfig(yaml, SOURCE, ctx);
  if (r.ok) throw new Error('expected the config to be refused');
  return r.issues;
}

function issueAt(yaml: string, path: string): ConfigIssue {
  const all = issues(yaml);
  const found = all.find((i) => i.path === path);
  if (!found) throw new Error(`no issue at ${path}; got ${JSON.stringify(all)}`);
  return found;
}

const DEFAULT_SECTIONS = {
  podman: { socket: '/run/user/1000/podman/podman.sock', composeCommand: ['podman', 'compose'], composeInfoCacheMs: 60_000 },
  api: { socket: '/run/user/1000/stackd/stackd.sock' },
  queue: { concurrency: { min: 1, max: 8 }, retryBaseMs: 10_000, retryMaxMs: 300_000, resyncMs: 600_000 },
  defaults: { startupTimeoutMs: 300_000, envWaitMs: 30_000, healthWindowMs: 300_000, repair: 'none' },
  staleHealth: { startingFloorMs: 120_000, unhealthyAfterMs: 300_000, recheckWindowMs: 1_800_000 },
  cleanup: { maxAgeMs: 14_400_000, timerMinAgeMs: 60_000, gcEveryMs: 3_600_000, pruneEveryMs: 86_400_000 },
  stateFile: '/home/alice/.local/state/stackd/state.json',
  removedStacks: 'stop',
  update: { mode: 'apply', settleMs: 120_000, gateSlackMs: 30_000, notifyOnSuccess: false },
  notify: [],
};

describe('parseConfig: podman.composeInfoCache', () => {
  it.each([
    ['5m', 300_000],
    ['0', 0],
    [0, 0],
    ['250ms', 250],
  ])('%j → %i ms', (value, ms) => {
    expect(ok(`podman: { composeInfoCache: ${JSON.stringify(value)} }\nstacks: []\n`).podman.composeInfoCacheMs).toBe(ms);
  });

  it('a value that is no duration names the key', () => {
    expect(issues('podman: { composeInfoCache: soon }\nstacks: []\n').map((i) => i.path)).toEqual(['podman.composeInfoCache']);
  });
});

describe('parseConfig: defaults', () => {
  it('an empty stacks list is valid and everything else defaults', () => {
    expect(ok('stacks: []\n')).toEqual({ source: SOURCE, ...DEFAULT_SECTIONS, stacks: [] });
  });

  it('a stack gets project = name, unit = <name>.service and the durations of `defaults`', () => {
    const config = ok(`
defaults: { startupTimeout: 2m, envWait: 0, healthWindow: 90 }
stacks:
  - name: immich
    compose: /srv/immich/compose.yml
  - name: paperless
    project: paperless-ngx
    unit: docs.service
    compose: [a.yml, b.yml]
    envFiles: [/run/user/1000/secrets/paperless.env]
    startupTimeout: 1h
    healthWindow: 0s
    update: monitor
`);
    expect(config.stacks).toEqual([
      {
        name: 'immich',
        project: 'immich',
        unit: 'immich.service',
        compose: ['/srv/immich/compose.yml'],
        envFiles: [],
        startupTimeoutMs: 120_000,
        envWaitMs: 0,
        healthWindowMs: 90_000,
        repair: 'none',
        update: 'apply',
      },
      {
        name: 'paperless',
        project: 'paperless-ngx',
        unit: 'docs.service',
        compose: ['/etc/stackd/a.yml', '/etc/stackd/b.yml'],
        envFiles: ['/run/user/1000/secrets/paperless.env'],
        startupTimeoutMs: 3_600_000,
        envWaitMs: 0,
        healthWindowMs: 0,
        repair: 'none',
        update: 'monitor',
      },
    ]);
  });

  it.each<[string, ConfigEnvironment['env'], Partial<Record<'podman' | 'api' | 'state', string>>]>([
    ['XDG_RUNTIME_DIR unset → /run/user/<uid>', { HOME: '/home/alice' }, {
      podman: '/run/user/1000/podman/podman.sock',
      api: '/run/user/1000/stackd/stackd.sock',
      state: '/home/alice/.local/state/stackd/state.json',
    }],
    ['XDG_RUNTIME_DIR and XDG_STATE_HOME set', { HOME: '/home/alice', XDG_RUNTIME_DIR: '/tmp/rt', XDG_STATE_HOME: '/var/state' }, {
      podman: '/tmp/rt/podman/podman.sock',
      api: '/tmp/rt/stackd/stackd.sock',
      state: '/var/state/stackd/state.json',
    }],
    ['relative XDG values are ignored (XDG spec)', { HOME: '/home/alice', XDG_RUNTIME_DIR: 'rt', XDG_STATE_HOME: 'st' }, {
      podman: '/run/user/1000/podman/podman.sock',
      state: '/home/alice/.local/state/stackd/state.json',
    }],
  ])('paths from the environment: %s', (_name, env, expected) => {
    const config = ok('stacks: []', { env, uid: 1000 });
    if (expected.podman) expect(config.podman.socket).toBe(expected.podman);
    if (expected.api) expect(config.api.socket).toBe(expected.api);
    if (expected.state) expect(config.stateFile).toBe(expected.state);
  });

  it('without HOME or XDG_STATE_HOME there is no default stateFile: an issue, unless stateFile is set', () => {
    const env = { env: {}, uid: 1000 };
    expect(issues('stacks: []', env)).toEqual([expect.objectContaining({ path: 'stateFile', message: expect.stringContaining('neither XDG_STATE_HOME nor HOME') })]);
    expect(ok('stacks: []\nstateFile: /var/lib/stackd/state.json', env).stateFile).toBe('/var/lib/stackd/state.json');
  });

  it('sections left empty (every key commented out) count as absent', () => {
    expect(ok('podman:\napi:\nqueue:\nnotify:\nstacks: []\n')).toEqual({ source: SOURCE, ...DEFAULT_SECTIONS, stacks: [] });
  });

  it('resolves notifiers', () => {
    const config = ok(`
notify:
  - gotify: { url: http://gotify.lan, tokenFile: ~/.config/stackd/gotify.token, priority: 8 }
  - ntfy: { url: https://ntfy.sh, topic: homelab }
  - webhook: { url: https://hooks.lan/x, headers: { X-Token: abc } }
stacks: []
`);
    expect(config.notify).toEqual([
      { kind: 'gotify', url: 'http://gotify.lan', tokenFile: '/home/alice/.config/stackd/gotify.token', priority: 8 },
      { kind: 'ntfy', url: 'https://ntfy.sh', topic: 'homelab' },
      { kind: 'webhook', url: 'https://hooks.lan/x', headers: { 'X-Token': 'abc' } },
    ]);
  });

  it('accepts YAML anchors and merge keys', () => {
    const config = ok(`
stacks:
  - &common { name: a, compose: a.yml, startupTimeout: 1m }
  - { <<: *common, name: b }
`);
    expect(config.stacks.map((s) => [s.name, s.startupTimeoutMs])).toEqual([['a', 60_000], ['b', 60_000]]);
  });
});

describe('parseConfig: paths', () => {
  it.each<[string, string]>([
    ['~/stacks/a.yml', '/home/alice/stacks/a.yml'],
    ['~', '/home/alice'],
    ['stacks/a.yml', '/etc/stackd/stacks/a.yml'],
    ['./a.yml', '/etc/stackd/a.yml'],
    ['../srv/a.yml', '/etc/srv/a.yml'],
    ['/srv//immich/./a.yml', '/srv/immich/a.yml'],
  ])('%j → %j', (input, expected) => {
    const config = ok(`stacks: [{ name: a, compose: ${JSON.stringify(input)}, envFiles: [${JSON.stringify(input)}] }]\nstateFile: ${JSON.stringify(input)}\n`);
    expect(config.stacks[0]?.compose).toEqual([expected]);
    expect(config.stacks[0]?.envFiles).toEqual([expected]);
    expect(config.stateFile).toBe(expected);
  });

  it('a relative config path is placed with ctx.cwd', () => {
    const r = parseConfig('stacks: [{ name: a, compose: a.yml }]', 'conf/stackd.yaml', { ...CTX, cwd: '/home/alice' });
    expect(r.ok && r.config.stacks[0]?.compose).toEqual(['/home/alice/conf/a.yml']);
  });

  it('~/ without HOME is an issue naming the key', () => {
    const all = issues('stacks: [{ name: a, compose: [/x.yml, ~/a.yml] }]\nstateFile: /s.json', { env: {}, uid: 1 });
    expect(all).toEqual([expect.objectContaining({ path: 'stacks[0].compose[1]', message: expect.stringContaining('got "~/a.yml", but HOME is not set') })]);
  });

  it('~user/ is refused', () => {
    expect(issueAt('stacks: [{ name: a, compose: ~bob/a.yml }]', 'stacks[0].compose').message).toBe(
      'got "~bob/a.yml"; expected an absolute path or ~/… (~user/ is not supported)',
    );
  });
});

describe('parseListen', () => {
  it.each<[string | number, { host: string; port: number }]>([
    ['127.0.0.1:9310', { host: '127.0.0.1', port: 9310 }],
    [9310, { host: '127.0.0.1', port: 9310 }],
    ['9310', { host: '127.0.0.1', port: 9310 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
    ['[::1]:9310', { host: '::1', port: 9310 }],
    ['nas.lan:9310', { host: 'nas.lan', port: 9310 }],
  ])('%j → %j', (input, expected) => {
    expect(parseListen(input)).toEqual(expected);
  });

  it.each<[string | number, string]>([
    ['::1:9310', 'put an IPv6 address in brackets'],
    ['127.0.0.1:0', 'expected a port from 1 to 65535'],
    [70000, 'expected a port from 1 to 65535'],
    ['host:', 'expected host:port or a bare port'],
    [':9310', 'expected host:port or a bare port'],
    ['a b:80', 'expected host:port or a bare port'],
    ['[zz]:80', 'expected host:port or a bare port'],
  ])('%j is refused (%s)', (input, expected) => {
    expect(parseListen(input)).toEqual({ expected: expect.stringContaining(expected) });
  });

  it('api.listen resolves in the config', () => {
    expect(ok('api: { listen: 9310 }\nstacks: []').api.listen).toEqual({ host: '127.0.0.1', port: 9310 });
    expect(issueAt('api: { listen: "::1:80" }\nstacks: []', 'api.listen').message).toContain('got "::1:80"; expected host:port');
  });
});

describe('parseConfig: invalid values name the key, the value and the expectation', () => {
  const S = (extra: string) => `stacks:\n  - name: immich\n    compose: a.yml\n${extra}`;
  it.each<[string, string, string, string[]]>([
    ['bad stack name', 'stacks: [{ name: Immich, compose: a.yml }]', 'stacks[0].name', ['got "Immich"', 'expected a stack name of 1 to 63 characters']],
    ['reserved stack name', 'stacks: [{ name: podman, compose: a.yml }]', 'stacks[0].name', ['got "podman"', 'reserved']],
    ['number as stack name', 'stacks: [{ name: 2024, compose: a.yml }]', 'stacks[0].name', ['got 2024 (number)', 'quote names']],
    ['bad project', S('    project: My.Project\n'), 'stacks[0].project', ['got "My.Project"', 'expected a compose project name']],
    ['bad unit', S('    unit: immich\n'), 'stacks[0].unit', ['got "immich"', 'ending in .service']],
    ['missing compose', 'stacks: [{ name: a }]', 'stacks[0].compose', ['missing required key', 'expected the path of a compose file']],
    ['empty compose list', 'stacks: [{ name: a, compose: [] }]', 'stacks[0].compose', ['got an empty list', 'expected the path of a compose file, or a list of one or more']],
    ['compose item not a string', 'stacks: [{ name: a, compose: [a.yml, 5] }]', 'stacks[0].compose[1]', ['got 5 (number)', 'expected the path of a compose file']],
    ['compose a mapping', 'stacks: [{ name: a, compose: { f: a.yml } }]', 'stacks[0].compose', ['got a mapping with keys f', 'expected the path of a compose file, or a list']],
    ['bad duration', S('    startupTimeout: 5 minutes\n'), 'stacks[0].startupTimeout', ['got "5 minutes"', 'expected a duration like 30s, 5m or 1h']],
    ['boolean duration', 'defaults: { envWait: true }\nstacks: []', 'defaults.envWait', ['got true (boolean)', 'expected a duration like 30s, 5m or 1h']],
    ['zero timeout', 'defaults: { startupTimeout: 0 }\nstacks: []', 'defaults.startupTimeout', ['got 0 (number)', 'greater than 0']],
    ['too long', 'cleanup: { pruneEvery: 30d }\nstacks: []', 'cleanup.pruneEvery', ['got "30d"', 'at most 24d']],
    ['concurrency 0', 'queue: { concurrency: 0 }\nstacks: []', 'queue.concurrency', ['got 0 (number)', 'expected auto or a whole number from 1 to 32']],
    ['concurrency 33', 'queue: { concurrency: 33 }\nstacks: []', 'queue.concurrency', ['got 33 (number)', 'from 1 to 32']],
    ['concurrency 1.5', 'queue: { concurrency: 1.5 }\nstacks: []', 'queue.concurrency', ['got 1.5 (number)', 'from 1 to 32']],
    ['concurrency a word', 'queue: { concurrency: adaptive }\nstacks: []', 'queue.concurrency', ['got "adaptive"', 'expected auto or a whole number']],
    ['concurrency a list', 'queue: { concurrency: [2] }\nstacks: []', 'queue.concurrency', ['expected auto or a whole number']],
    ['maxConcurrency 0', 'queue: { maxConcurrency: 0 }\nstacks: []', 'queue.maxConcurrency', ['got 0 (number)', 'from 1 to 32']],
    ['retryMax below retryBase', 'queue: { retryBase: 1m, retryMax: 10s }\nstacks: []', 'queue.retryMax', ['got "10s"', 'less than queue.retryBase ("1m")', 'expected at least queue.retryBase']],
    ['stacks missing', 'queue: {}', 'stacks', ['missing required key', 'expected a list of stacks']],
    ['stacks a mapping', 'stacks: { immich: {} }', 'stacks', ['got a mapping with keys immich', 'expected a list of stacks']],
    ['root a list', '- a\n- b', '', ['got a list of 2', 'expected a mapping with at least a stacks: key']],
    ['composeCommand empty', 'podman: { composeCommand: [] }\nstacks: []', 'podman.composeCommand', ['got an empty list', 'expected the compose command as a list of arguments']],
    ['composeCommand a string', 'podman: { composeCommand: podman compose }\nstacks: []', 'podman.composeCommand', ['got "podman compose"', 'as a list of arguments']],
    ['notifier url', 'notify: [{ gotify: { url: gotify.lan, tokenFile: t } }]\nstacks: []', 'notify[0].gotify.url', ['got "gotify.lan"', 'expected an absolute http(s) URL']],
    ['notifier scheme', 'notify: [{ ntfy: { url: "ftp://x", topic: t } }]\nstacks: []', 'notify[0].ntfy.url', ['got "ftp://x"', 'not ftp:']],
    ['gotify token missing', 'notify: [{ gotify: { url: "http://g" } }]\nstacks: []', 'notify[0].gotify.tokenFile', ['missing required key', 'Gotify application token']],
    ['ntfy topic', 'notify: [{ ntfy: { url: "http://n", topic: "a b" } }]\nstacks: []', 'notify[0].ntfy.topic', ['got "a b"', 'expected an ntfy topic']],
    ['gotify priority', 'notify: [{ gotify: { url: "http://g", tokenFile: t, priority: 11 } }]\nstacks: []', 'notify[0].gotify.priority', ['got 11 (number)', 'from 0 to 10']],
    ['two notifiers in one entry', 'notify: [{ gotify: { url: "http://g", tokenFile: t }, ntfy: { url: "http://n", topic: t } }]\nstacks: []', 'notify[0]', ['got a mapping with keys gotify, ntfy', 'expected exactly one of gotify, ntfy or webhook']],
    ['empty notifier entry', 'notify: [{}]\nstacks: []', 'notify[0]', ['got an empty mapping', 'expected exactly one of gotify, ntfy or webhook']],
    ['header value hidden', 'notify: [{ webhook: { url: "http://w", headers: { Authorization: 12345678 } } }]\nstacks: []', 'notify[0].webhook.headers.Authorization', ['got a number (value hidden)', 'expected a header value']],
    ['odd header names are quoted in the path', 'notify: [{ webhook: { url: "http://w", headers: { X-Token: [a] } } }]\nstacks: []', 'notify[0].webhook.headers["X-Token"]', ['value hidden']],
  ])('%s', (_name, yaml, path, fragments) => {
    const issue = issueAt(yaml, path);
    for (const f of fragments) expect(issue.message).toContain(f);
  });

  it('the header value itself never appears in a message', () => {
    const all = issues('notify: [{ webhook: { url: "http://w", headers: { Authorization: 99887766 } } }]\nstacks: []');
    expect(JSON.stringify(all)).not.toContain('99887766');
  });

  it('reports every problem at once, in file order, with line and column', () => {
    const all = issues(`queue:
  concurrency: 0
stacks:
  - name: Immich
    compose: a.yml
  - name: ok
    compose: b.yml
    envWait: soon
`);
    expect(all.map((i) => [i.path, i.line, i.column])).toEqual([
      ['queue.concurrency', 2, 3],
      ['stacks[0].name', 4, 5],
      ['stacks[1].envWait', 8, 5],
    ]);
  });
});

describe('parseConfig: unknown keys', () => {
  it.each<[string, string, string[]]>([
    ['stacks: [{ name: a, composee: a.yml }]', 'stacks[0].composee', [
      'unknown key; expected one of name, project, compose, envFiles, unit, startupTimeout, envWait, healthWindow, repair',
      'did you mean compose?',
    ]],
    ['stacks: [{ name: a, compose: a.yml, envfile: x }]', 'stacks[0].envfile', ['did you mean envFiles?']],
    ['stack: []', 'stack', ['unknown key; expected one of podman, api, queue, defaults, staleHealth, cleanup, stateFile, removedStacks, update, notify, stacks', 'did you mean stacks?']],
    ['queue: { concurency: 4 }\nstacks: []', 'queue.concurency', ['expected one of concurrency, maxConcurrency, retryBase, retryMax, resync', 'did you mean concurrency?']],
    ['notify: [{ slack: { url: "http://s" } }]\nstacks: []', 'notify[0].slack', ['unknown key; expected one of gotify, ntfy, webhook']],
    ['notify: [{ gotify: { url: "http://g", tokenFile: t, token: x } }]\nstacks: []', 'notify[0].gotify.token', ['expected one of url, tokenFile, priority']],
    ['podman: { sock: /x }\nstacks: []', 'podman.sock', ['expected one of socket, composeCommand']],
  ])('%j', (yaml, path, fragments) => {
    const issue = issueAt(yaml, path);
    for (const f of fragments) expect(issue.message).toContain(f);
  });

  it('a key far from any known one gets no suggestion', () => {
    expect(issueAt('stacks: []\nbananas: 1', 'bananas').message).not.toContain('did you mean');
  });
});

describe('parseConfig: duplicates', () => {
  it.each<[string, string, string, string[]]>([
    ['names', 'stacks: [{ name: a, compose: x.yml }, { name: b, compose: y.yml }, { name: a, project: c, unit: c.service, compose: z.yml }]', 'stacks[2].name', ['got "a"', 'stacks[0] (a) already uses', 'its own name']],
    ['explicit projects', 'stacks: [{ name: a, project: p, compose: x.yml }, { name: b, project: p, compose: y.yml }]', 'stacks[1].project', ['got "p"', 'stacks[0] (a)', 'its own compose project']],
    ['a project equal to another stack\'s defaulted one', 'stacks: [{ name: a, compose: x.yml }, { name: b, project: a, compose: y.yml }]', 'stacks[1].project', ['got "a"', 'stacks[0] (a)']],
    ['a defaulted project equal to an explicit one', 'stacks: [{ name: b, project: a, compose: y.yml }, { name: a, compose: x.yml }]', 'stacks[1].project', ['"a" (the default, from the name)', 'stacks[0] (b)']],
    ['units', 'stacks: [{ name: a, compose: x.yml }, { name: b, unit: a.service, compose: y.yml }]', 'stacks[1].unit', ['got "a.service"', 'stacks[0] (a)', 'its own unit']],
  ])('%s are refused, naming both stacks', (_name, yaml, path, fragments) => {
    const issue = issueAt(yaml, path);
    for (const f of fragments) expect(issue.message).toContain(f);
  });

  it('a duplicate name is reported once, not again for the project and unit it implies', () => {
    const all = issues('stacks: [{ name: a, compose: x.yml }, { name: a, compose: y.yml }]');
    expect(all.map((i) => i.path)).toEqual(['stacks[1].name']);
  });
});

describe('parseConfig: YAML problems', () => {
  it.each<[string, string, number, number, string]>([
    ['syntax error', 'stacks: [\n  - a: b\n', 2, 3, 'YAML syntax error'],
    ['tab indentation', 'stacks:\n\t- name: a\n', 2, 1, 'YAML syntax error'],
    ['duplicate key', 'stacks: []\nqueue: {}\nstacks: []\n', 3, 1, 'Map keys must be unique'],
    ['empty file', '', 1, 1, 'the file is empty; expected a mapping with at least a stacks: key'],
  ])('%s → issue with line and column', (_name, yaml, line, column, message) => {
    const [first] = issues(yaml);
    expect(first).toEqual({ path: '', line, column, message: expect.stringContaining(message) });
  });
});

describe('formatConfigIssues', () => {
  it('prints file:line:column: key: problem, then what to do', () => {
    const r = parseConfig('stacks:\n  - name: Immich\n    compose: a.yml\n  - name: b\n', SOURCE, CTX);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatConfigIssues(SOURCE, r.issues).split('\n')).toEqual([
      '/etc/stackd/stackd.yaml:2:5: stacks[0].name: got "Immich"; expected a stack name of 1 to 63 characters: a-z, 0-9, "_" or "-", starting with a letter or digit',
      '/etc/stackd/stackd.yaml:4:5: stacks[1].compose: missing required key; expected the path of a compose file, or a list of one or more',
      '2 problems in /etc/stackd/stackd.yaml; fix the keys named above (stackd.example.yaml documents every key)',
    ]);
  });

  it('leaves out position and path when unknown', () => {
    expect(formatConfigIssues('c.yaml', [{ path: '', message: 'boom' }])).toBe(
      'c.yaml: boom\n1 problem in c.yaml; fix the key named above (stackd.example.yaml documents every key)',
    );
  });
});

describe('defaultConfigPath', () => {
  it.each<[ConfigEnvironment['env'], string]>([
    [{ HOME: '/home/alice' }, '/home/alice/.config/stackd/stackd.yaml'],
    [{ HOME: '/home/alice', XDG_CONFIG_HOME: '/etc/xdg-alice' }, '/etc/xdg-alice/stackd/stackd.yaml'],
    [{ HOME: '/home/alice', XDG_CONFIG_HOME: 'relative' }, '/home/alice/.config/stackd/stackd.yaml'],
  ])('%j → %s', (env, expected) => {
    expect(defaultConfigPath(env)).toBe(expected);
  });

  it('without HOME or XDG_CONFIG_HOME it says to pass --config', () => {
    expect(() => defaultConfigPath({})).toThrow('expected --config PATH');
  });
});

describe('config/stackd.example.yaml', () => {
  const file = new URL('../../../config/stackd.example.yaml', import.meta.url);
  const text = readFileSync(file, 'utf8');
  const source = '/home/alice/.config/stackd/stackd.yaml';

  it('parses, and every value it writes out is the default', () => {
    const r = parseConfig(text, source, CTX);
    if (!r.ok) throw new Error(formatConfigIssues(source, r.issues));
    const { stacks, source: _source, ...sections } = r.config;
    expect(sections).toEqual(DEFAULT_SECTIONS);
    expect(stacks).toEqual([
      {
        name: 'immich',
        project: 'immich',
        unit: 'immich.service',
        compose: ['/srv/stacks/immich/docker-compose.yml'],
        envFiles: ['/run/user/1000/secrets/immich.env'],
        startupTimeoutMs: 600_000,
        envWaitMs: 30_000,
        healthWindowMs: 300_000,
        repair: 'none',
        update: 'apply',
      },
      {
        name: 'paperless',
        project: 'paperless',
        unit: 'paperless.service',
        compose: ['/srv/stacks/paperless/docker-compose.yml', '/srv/stacks/paperless/docker-compose.override.yml'],
        envFiles: ['/run/user/1000/secrets/paperless.env'],
        startupTimeoutMs: 300_000,
        envWaitMs: 30_000,
        healthWindowMs: 300_000,
        repair: 'none',
        update: 'apply',
      },
    ]);
  });

  it('the commented-out keys are valid too once uncommented', () => {
    // "#   - gotify: …" and "  # listen: …" are examples; uncommenting them must give a valid config.
    const uncommented = text
      .split('\n')
      .map((line) => line.replace(/^(\s*)# ((?:socket|listen|stateFile|notify):.*)$/, '$1$2').replace(/^#( {2,}- (?:gotify|ntfy|webhook):.*)$/, '$1'))
      .join('\n');
    const r = parseConfig(uncommented, source, CTX);
    if (!r.ok) throw new Error(formatConfigIssues(source, r.issues));
    expect(r.config.api.listen).toEqual({ host: '127.0.0.1', port: 9310 });
    expect(r.config.notify.map((n) => n.kind)).toEqual(['gotify', 'ntfy', 'webhook']);
    expect(r.config.stateFile).toBe(DEFAULT_SECTIONS.stateFile);
    expect(r.config.podman.socket).toBe(DEFAULT_SECTIONS.podman.socket);
  });
});

describe('repair and healthWindow', () => {
  it.each<[string, string, ('none' | 'reconcile')[], number[]]>([
    ['none by default', 'stacks: [{ name: a, compose: a.yml }]', ['none'], [300_000]],
    ['defaults.repair for every stack, a stack may override it', `
defaults: { repair: reconcile, healthWindow: 2m }
stacks:
  - { name: a, compose: a.yml }
  - { name: b, compose: b.yml, repair: none, healthWindow: 30s }
`, ['reconcile', 'none'], [120_000, 30_000]],
    ['reconcile on one stack with its own window', 'stacks: [{ name: a, compose: a.yml, repair: reconcile, healthWindow: 1m }]', ['reconcile'], [60_000]],
  ])('%s', (_name, yaml, repair, windows) => {
    const config = ok(yaml);
    expect(config.stacks.map((s) => s.repair)).toEqual(repair);
    expect(config.stacks.map((s) => s.healthWindowMs)).toEqual(windows);
  });

  it('an unknown policy names the key and both choices', () => {
    const issue = issueAt('stacks: [{ name: a, compose: a.yml, repair: restart }]', 'stacks[0].repair');
    expect(issue.message).toContain('expected none');
    expect(issue.message).toContain('reconcile');
  });

  it.each([
    ['the stack sets both', 'stacks: [{ name: a, compose: a.yml, repair: reconcile, healthWindow: 0 }]', 'stacks[0].repair'],
    ['reconcile comes from defaults', 'defaults: { repair: reconcile, healthWindow: 0 }\nstacks: [{ name: a, compose: a.yml }]', 'defaults.repair'],
  ])('reconcile with a healthWindow of 0 is refused (no rate limit): %s', (_name, yaml, path) => {
    const issue = issueAt(yaml, path);
    expect(issue.message).toContain('stack "a": repair: reconcile needs a healthWindow above 0');
    expect(issue.message).toContain('expected repair: none');
  });
});

describe('removedStacks', () => {
  it.each([
    ['stop', 'stop'], ['down', 'down'], ['keep', 'keep'],
  ] as const)('%s is accepted', (value, expected) => {
    expect(ok(`stacks: []\nremovedStacks: ${value}`).removedStacks).toBe(expected);
  });

  it('defaults to stop', () => {
    expect(ok('stacks: []').removedStacks).toBe('stop');
  });

  it('anything else names the key and the three choices', () => {
    const all = issues('stacks: []\nremovedStacks: delete');
    expect(all).toHaveLength(1);
    expect(all[0]?.path).toBe('removedStacks');
    expect(all[0]?.message).toContain('expected stop');
    expect(all[0]?.message).toContain('volumes kept');
  });
});

describe('update', () => {
  it('the global mode is each stack\'s default; a stack may set its own', () => {
    const c = ok('update: { mode: monitor, settle: 90s, gateSlack: 0 }\nstacks: [{ name: a, compose: /a.yml }, { name: b, compose: /b.yml, update: off }]');
    expect(c.stacks.map((s) => s.update)).toEqual(['monitor', 'off']);
    expect(c.update).toEqual({ mode: 'monitor', settleMs: 90_000, gateSlackMs: 0, notifyOnSuccess: false });
  });

  it.each([
    ['stacks: [{ name: a, compose: /a.yml, update: yes }]', 'stacks[0].update', 'expected off'],
    ['update: { mode: always }\nstacks: []', 'update.mode', 'expected off'],
    ['update: { settle: soon }\nstacks: []', 'update.settle', 'expected a duration'],
    ['update: { notifyOnSuccess: 1 }\nstacks: []', 'update.notifyOnSuccess', 'expected true or false'],
  ])('%s → an issue at %s', (yaml, path, message) => {
    const all = issues(yaml);
    expect(all).toHaveLength(1);
    expect(all[0]?.path).toBe(path);
    expect(all[0]?.message).toContain(message);
  });
});
