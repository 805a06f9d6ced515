// The Reconciler over in-memory ports (test/unit/supervisor/fakes.ts): every reason code it produces, the skip
// path, the network-holder retry, stop/down and retiring a stack that left the config. The stack is the lab's
// "demo" (fixtures compose-config.demo.json and libpod-containers-json.demo.json); preflight is the real
// PreflightRunner unless a row says otherwise.
import { describe, expect, it } from 'vitest';
import { PodmanApiError } from '../../../src/adapters/errors.js';
import type { StackConfig } from '../../../src/core/config-types.js';
import type { DesiredState, ReasonCode, ReconcileResult } from '../../../src/core/model.js';
import { REASON_CODES, retriesByClock } from '../../../src/core/reason-codes.js';
import { ObservedStore } from '../../../src/supervisor/observed-store.js';
import { PreflightRunner } from '../../../src/supervisor/preflight-runner.js';
import { Reconciler, type ReconcilerDeps } from '../../../src/supervisor/reconciler.js';
import {
  fail, fixtureText, makeConfig, PODMAN_COMPOSE, silentLogger, stackConfig, timeout, unreachable, World,
} from './fakes.js';

const COMPOSE_FILE = '/srv/demo/compose.yml';
const ENV_FILE = '/srv/demo/demo.env';
const SECRET = 'hunter2-correct-horse-battery';
const DEMO_YAML = `services:
  holder:
    image: localhost/busybox:lab
    command: ["sh", "-c", "httpd -f -p 8080 -h /tmp"]
    healthcheck: { test: ["CMD", "true"], interval: 5s, retries: 2, start_period: 2s }
    labels: { io.containers.autoupdate: registry, PODMAN_SYSTEMD_UNIT: demo.service }
  app:
    image: localhost/busybox:lab
    network_mode: "service:holder"
  web:
    image: localhost/busybox:lab
  client:
    image: localhost/busybox:lab
`;

/** The demo model with the holder's PODMAN_SYSTEMD_UNIT label taken out (auto-update stays on). */
function demoModelWithoutUnitLabel(): string {
  const doc = JSON.parse(fixtureText('compose-config.demo.json')) as { services: { holder: { labels: Record<string, string> } } };
  delete doc.services.holder.labels['PODMAN_SYSTEMD_UNIT'];
  return JSON.stringify(doc);
}

/** The captured "has dependent containers" stderr, with its ids replaced by these. */
function dependentStderr(holder: string, dependent: string): string {
  return fixtureText('compose-up.dependent-containers.stderr.txt')
    .replaceAll('d64bd508bfd1aa1a87f5e1f7bc9f94336212aa04ca8b49a8557d211d52fb9ab7', holder)
    .replaceAll('d64bd508bfd1', holder.slice(0, 12))
    .replaceAll('21dabaa450270a92bcb35db58cbb24d6007544f8e50330e2cf1195775014a761', dependent);
}

function setup(opts: { preflight?: ReconcilerDeps['preflight']; stack?: Partial<StackConfig> } = {}) {
  const w = new World();
  w.files.set(COMPOSE_FILE, DEMO_YAML).set(ENV_FILE, `DB_PASSWORD=${SECRET}\nTZ=UTC\n`);
  w.compose.models.set('demo', fixtureText('compose-config.demo.json'));
  const stack = stackConfig('demo', { compose: [COMPOSE_FILE], envFiles: [ENV_FILE], envWaitMs: 30_000, ...opts.stack });
  const store = new ObservedStore();
  const preflight = new PreflightRunner({ podman: w.podman, config: () => makeConfig([]), now: w.clock.now });
  const after: string[] = [];
  const inputs: { stack: string; redact: (text: string) => string }[] = [];
  const reconciler = new Reconciler({
    compose: w.compose, podman: w.podman, files: w.files, store, now: w.clock.now, sleep: w.clock.sleep,
    childEnv: { PATH: '/usr/bin' }, composeProvider: w.probeComposeProvider,
    preflight: opts.preflight ?? preflight.run,
    after: async (s) => { after.push(s.name); },
    onInputs: (name, redact) => inputs.push({ stack: name, redact }),
  });
  const run = (desired: DesiredState = 'running') => reconciler.reconcile(stack, desired, silentLogger);
  return { w, stack, store, reconciler, after, inputs, run };
}

type Setup = ReturnType<typeof setup>;

interface Row {
  name: string;
  code: ReasonCode;
  /** the owner's retry policy for the code: clock = retried with backoff, inputs = waits for a new config/file/request */
  retry: 'clock' | 'inputs';
  desired?: DesiredState;
  preflight?: ReconcilerDeps['preflight'];
  arrange: (t: Setup) => void;
  check: (r: ReconcileResult, t: Setup) => void;
}

const rows: Row[] = [
  {
    name: 'env-file-missing: still missing at the envWait deadline (30 s of injected sleeps)',
    code: 'env-file-missing', retry: 'clock',
    arrange: (t) => t.w.files.delete(ENV_FILE),
    check: (r, t) => {
      expect(t.w.clock.sleptMs).toBe(30_000);
      expect(t.w.clock.sleeps.every((ms) => ms <= 250)).toBe(true);
      expect(r.durationMs).toBe(30_000);
      expect(r.reason).toContain(`env file ${ENV_FILE} does not exist (waited 30s, envWait)`);
      expect(t.w.compose.calls).toEqual([]);
    },
  },
  {
    name: 'compose-config: compose config rejects the files',
    code: 'compose-config', retry: 'inputs',
    arrange: (t) => t.w.compose.script('config', fail(fixtureText('compose-config.missing-required-variable.stderr.txt'), 15)),
    check: (r, t) => {
      expect(r.reason).toContain('required variable STACKD_REQ_X is missing a value');
      expect(r.reason).toContain(COMPOSE_FILE);
      expect(t.w.compose.verbs()).toEqual(['config']);
    },
  },
  {
    name: 'compose-config: compose config succeeds but prints no JSON stackd can read (not internal)',
    code: 'compose-config', retry: 'inputs',
    arrange: (t) => t.w.compose.script('config', { kind: 'stdout', stdout: 'name: demo\nservices: {}\n' }),
    check: (r, t) => {
      expect(r.reason).toContain('cannot read the model compose resolved');
      expect(r.reason).toContain('is not JSON');
      expect(t.w.compose.verbs()).toEqual(['config']);
      expect(t.store.get('demo').model).toBeUndefined();
    },
  },
  {
    name: 'compose-config: compose config prints JSON of the wrong shape (services a list)',
    code: 'compose-config', retry: 'inputs',
    arrange: (t) => t.w.compose.script('config', { kind: 'stdout', stdout: '{"name":"demo","services":["web"]}' }),
    check: (r) => expect(r.reason).toContain('Expected `services` to be a mapping, got a list'),
  },
  {
    name: 'compose-timeout: compose config does not answer',
    code: 'compose-timeout', retry: 'clock',
    arrange: (t) => t.w.compose.script('config', timeout),
    check: (_r, t) => expect(t.w.compose.verbs()).toEqual(['config']),
  },
  {
    name: 'compose-failed: compose up exits non-zero (image missing), reason names the daemon error',
    code: 'compose-failed', retry: 'clock',
    arrange: (t) => t.w.compose.script('up', fail(fixtureText('compose-up.missing-image.stderr.txt'), 18)),
    check: (r, t) => {
      expect(r.reason).toContain('compose up failed (exit 18) in a: Error response from daemon: manifest unknown');
      expect(t.w.compose.verbs()).toEqual(['config', 'up']);
    },
  },
  {
    name: 'compose-timeout: compose up killed at startupTimeout',
    code: 'compose-timeout', retry: 'clock',
    arrange: (t) => t.w.compose.script('up', timeout),
    check: (r) => expect(r.reason).toContain('compose up did not finish within 300s (startupTimeout) and was killed'),
  },
  {
    name: 'label-invariant: the real preflight finds a service without PODMAN_SYSTEMD_UNIT; nothing touched',
    code: 'label-invariant', retry: 'inputs',
    arrange: (t) => {
      t.w.podman.seedDemo();
      t.w.compose.models.set('demo', demoModelWithoutUnitLabel());
    },
    check: (r, t) => {
      expect(r.reason).toContain('service "holder" has no PODMAN_SYSTEMD_UNIT label');
      expect(t.w.podman.mutations()).toEqual([]);
      expect(t.w.podman.calls.filter((c) => c.startsWith('inspect') || c.startsWith('runHealthcheck'))).toEqual([]);
      expect(t.w.compose.verbs()).toEqual(['config']);
    },
  },
  {
    name: 'label-invariant: a preflight that returns it (the reason is redacted)',
    code: 'label-invariant', retry: 'inputs',
    preflight: async () => ({ reasonCode: 'label-invariant', reason: `service "x" is wrong; DB_PASSWORD=${SECRET}` }),
    arrange: () => undefined,
    check: (r, t) => {
      expect(r.reason).not.toContain(SECRET);
      expect(t.w.compose.verbs()).toEqual(['config']);
    },
  },
  {
    name: 'preflight-remove-failed: a drifted container cannot be removed',
    code: 'preflight-remove-failed', retry: 'clock',
    arrange: (t) => {
      const { web } = t.w.podman.seedDemo();
      const e = t.w.podman.containers.get(web);
      if (e) e.Labels['PODMAN_SYSTEMD_UNIT'] = 'podman-compose@demo.service';
      t.w.podman.failNext('removeContainer', new PodmanApiError(500, 'DELETE', `/containers/${web}`, 'device or resource busy'));
    },
    check: (r, t) => {
      expect(r.reason).toContain('preflight could not remove container demo-web-1');
      expect(r.reason).toContain('its PODMAN_SYSTEMD_UNIT is podman-compose@demo.service');
      expect(t.w.compose.verbs()).toEqual(['config']);
      expect(t.w.podman.states('demo')['web']).toBe('running');
    },
  },
  {
    name: 'podman-unreachable: the socket refuses while listing the project',
    code: 'podman-unreachable', retry: 'clock',
    arrange: (t) => t.w.podman.failNext('listProjectContainers', unreachable()),
    check: (r, t) => {
      expect(r.reason).toContain('cannot reach the podman API');
      expect(t.w.compose.count('up')).toBe(0);
    },
  },
  {
    // captured in the lab: podman.socket stopped, `podman compose up` through stackd's relay (podman 5.4.2)
    name: 'podman-unreachable: podman went away before compose up ran (its wrapper could not ping it through the relay)',
    code: 'podman-unreachable', retry: 'clock',
    arrange: (t) => t.w.compose.script('up', fail(fixtureText('compose-up.podman-unreachable-relay.stderr.txt'), 125)),
    check: (r, t) => {
      expect(r.reason).toBe('stack "demo": compose up could not reach podman (exit 125): podman\'s API socket did not answer: ' +
        'Error: unable to connect to Podman socket: Get "http://d/v5.4.2/libpod/_ping": EOF: unix:///tmp/f2exp/run/relay.sock. ' +
        'Start it (systemctl --user enable --now podman.socket); stackd retries');
      expect(t.w.compose.verbs()).toEqual(['config', 'up']);
    },
  },
  {
    name: 'podman-unreachable: podman went away while docker-compose ran (through the relay: EOF)',
    code: 'podman-unreachable', retry: 'clock',
    arrange: (t) => t.w.compose.script('up', fail(fixtureText('docker-compose-up.podman-unreachable-relay.stderr.txt'), 1)),
    check: (r) => expect(r.reason).toMatch(/^stack "demo": compose up could not reach podman \(exit 1\): podman's API socket did not answer: error during connect: /),
  },
  {
    name: 'podman-unreachable: compose down without podman (docker-compose straight at its socket)',
    code: 'podman-unreachable', retry: 'clock', desired: 'removed',
    arrange: (t) => {
      t.w.podman.seedDemo();
      t.w.compose.script('down', fail(fixtureText('docker-compose-up.podman-unreachable.stderr.txt'), 1));
    },
    check: (r) => expect(r.reason).toContain('compose down could not reach podman (exit 1): podman\'s API socket did not answer: Cannot connect to the Docker daemon at unix://'),
  },
  {
    name: 'podman-unreachable: bringing a stack down',
    code: 'podman-unreachable', retry: 'clock', desired: 'stopped',
    arrange: (t) => {
      t.w.podman.seedDemo();
      t.w.podman.failNext('listProjectContainers', unreachable());
    },
    check: (_r, t) => expect(t.w.compose.calls).toEqual([]),
  },
  {
    name: 'compose-provider: podman compose runs podman-compose; nothing run, nothing removed',
    code: 'compose-provider', retry: 'inputs',
    arrange: (t) => {
      t.w.podman.seedDemo();
      t.w.provider = PODMAN_COMPOSE;
    },
    check: (r, t) => {
      expect(r.reason).toBe(`stack "demo": not touched: ${PODMAN_COMPOSE.detail}`);
      expect(t.w.compose.calls).toEqual([]);
      expect(t.w.podman.mutations()).toEqual([]);
    },
  },
  {
    name: 'internal: podman answers 500 to the list',
    code: 'internal', retry: 'clock',
    arrange: (t) => t.w.podman.failNext('listProjectContainers', new PodmanApiError(500, 'GET', '/containers/json', 'database is locked')),
    check: (r) => expect(r.reason).toContain('database is locked'),
  },
  {
    name: 'internal: a compose file cannot be read (EIO)',
    code: 'internal', retry: 'clock',
    arrange: (t) => t.w.files.failNextRead(Object.assign(new Error(`EIO: i/o error, read '${COMPOSE_FILE}'`), { code: 'EIO' }), COMPOSE_FILE),
    check: (r, t) => {
      expect(r.reason).toContain('EIO');
      expect(t.w.compose.calls).toEqual([]);
    },
  },
];

describe('Reconciler: every failure reason code', () => {
  it.each(rows)('$name', async (row) => {
    const t = setup(row.preflight ? { preflight: row.preflight } : {});
    row.arrange(t);
    const r = await t.run(row.desired ?? 'running');
    expect(r).toMatchObject({ result: 'failed', reasonCode: row.code });
    expect(retriesByClock(r.reasonCode)).toBe(row.retry === 'clock');
    row.check(r, t);
    // every verdict is kept for status, the post-reconcile hook ran, and no secret leaks into the reason
    expect(t.store.get('demo').lastResult).toEqual(r);
    expect(t.after).toEqual(['demo']);
    expect(r.reason).not.toContain(SECRET);
  });

  it('the table, the skip test and retire cover every reason code core defines (but the updater\'s own)', () => {
    // update-rollback-failed is the updater's verdict on a stack (updater.test.ts), never a reconcile's
    const covered = new Set<ReasonCode>([...rows.map((r) => r.code), 'unchanged', 'not-configured', 'update-rollback-failed']);
    expect([...covered].sort()).toEqual([...REASON_CODES].sort());
  });

  it('env-file wait: the file appears mid-wait → up runs, no failure', async () => {
    const t = setup();
    t.w.files.delete(ENV_FILE);
    t.w.clock.onSleep = (slept) => {
      if (slept >= 5_000) t.w.files.set(ENV_FILE, 'TZ=UTC\n');
    };
    const r = await t.run();
    expect(r.result).toBe('ok');
    expect(t.w.clock.sleptMs).toBe(5_000);
    expect(t.w.compose.verbs()).toEqual(['config', 'up']);
    expect(t.w.compose.calls[1]?.spec.envFiles).toEqual([ENV_FILE]);
  });

  it('env-file wait: envWait 0 fails at once, without sleeping', async () => {
    const t = setup({ stack: { envWaitMs: 0 } });
    t.w.files.delete(ENV_FILE);
    const r = await t.run();
    expect(r.reasonCode).toBe('env-file-missing');
    expect(t.w.clock.sleeps).toEqual([]);
  });

  it('a compose failure that echoes an env-file value is redacted', async () => {
    const t = setup();
    t.w.compose.script('up', fail(`Error response from daemon: invalid reference format: "registry/${SECRET}:x"`));
    const r = await t.run();
    expect(r.reasonCode).toBe('compose-failed');
    expect(r.reason).toContain('invalid reference format');
    expect(r.reason).not.toContain(SECRET);
  });
});

describe('Reconciler: up, and the skip path (unchanged)', () => {
  it('up from nothing: config, up; the model containers now exist and the verdict is ok', async () => {
    const t = setup();
    const r = await t.run();
    expect(r).toMatchObject({ result: 'ok' });
    expect(r.reasonCode).toBeUndefined();
    expect(t.w.compose.verbs()).toEqual(['config', 'up']);
    expect(t.w.podman.states('demo')).toEqual({ app: 'running', client: 'running', holder: 'running', web: 'running' });
    const obs = t.store.get('demo');
    expect(obs.containers).toHaveLength(4);
    expect(obs.deployFinishedAtMs).toBe(t.w.clock.now());
    expect(obs.upFingerprint).toBe(obs.modelFingerprint);
  });

  it('a second up with the same inputs and everything running runs no compose at all', async () => {
    const t = setup();
    await t.run();
    t.w.clock.advance(60_000);
    const r = await t.run();
    expect(r).toMatchObject({ result: 'skipped', reasonCode: 'unchanged' });
    expect(t.w.compose.verbs()).toEqual(['config', 'up']);
    expect(t.w.podman.mutations()).toEqual([]);
  });

  it('the live fixture containers without a successful up of ours: compose up still runs', async () => {
    const t = setup();
    t.w.podman.seedDemo();
    const r = await t.run();
    expect(r.result).toBe('ok');
    expect(t.w.compose.count('up')).toBe(1);
  });

  it.each([
    { change: 'the compose file is edited', edit: (t: Setup) => t.w.files.set(COMPOSE_FILE, `${DEMO_YAML}  extra:\n    image: localhost/busybox:lab\n`), verbs: ['config', 'up'] },
    { change: 'the env file is edited', edit: (t: Setup) => t.w.files.set(ENV_FILE, 'DB_PASSWORD=rotated-password-value\n'), verbs: ['config', 'up'] },
    { change: 'an env_file the compose file names is created', edit: (t: Setup) => t.w.files.set('/srv/demo/web.env', 'GREETING=hi\n'), verbs: ['config', 'up'] },
    { change: 'a container was stopped', edit: (t: Setup) => {
      const holder = [...t.w.podman.containers.values()].find((e) => e.Labels['com.docker.compose.service'] === 'holder');
      if (holder) holder['State'] = 'exited';
    }, verbs: ['up'] },
    { change: 'a container was removed', edit: (t: Setup) => {
      const web = t.w.podman.project('demo').find((c) => c.service === 'web');
      if (web) t.w.podman.containers.delete(web.id);
    }, verbs: ['up'] },
  ])('up runs again when $change', async ({ edit, verbs }) => {
    const t = setup();
    // web names an env_file that does not exist yet (compose treats it as optional here; it is an input)
    t.w.files.set(COMPOSE_FILE, DEMO_YAML.replace('  web:\n', '  web:\n    env_file: { path: web.env, required: false }\n'));
    expect((await t.run()).result).toBe('ok');
    expect((await t.run()).reasonCode).toBe('unchanged');
    edit(t);
    const r = await t.run();
    expect(r.result).toBe('ok');
    expect(t.w.compose.verbs().slice(2)).toEqual(verbs);
    // and the run after that has nothing left to do
    expect((await t.run()).reasonCode).toBe('unchanged');
  });

  it('after a failed up, the same inputs run compose up again (a failure is never skipped)', async () => {
    const t = setup();
    await t.run();
    t.w.compose.script('up', fail('Error response from daemon: boom'));
    // make up necessary once, so the failure happens
    t.w.files.set(ENV_FILE, 'DB_PASSWORD=second-password-value\n');
    expect((await t.run()).result).toBe('failed');
    const r = await t.run();
    expect(r.result).toBe('ok');
    expect(t.w.compose.count('up')).toBe(3);
  });
});

describe('Reconciler: onInputs (the daemon log\'s scrubber)', () => {
  it('hands over the redactor of the env files as each reconcile read them', async () => {
    const t = setup();
    await t.run();
    expect(t.inputs.map((i) => i.stack)).toEqual(['demo']);
    expect(t.inputs[0]?.redact(`password ${SECRET}`)).not.toContain(SECRET);
    t.w.files.set(ENV_FILE, 'DB_PASSWORD=second-password-value\n');
    await t.run();
    expect(t.inputs).toHaveLength(2);
    expect(t.inputs[1]?.redact('second-password-value')).not.toContain('second-password-value');
  });
});

describe('Reconciler: the network-holder retry', () => {
  it('podman refuses to recreate the holder because a container of the same project joined it: that one is removed, up runs once more', async () => {
    const t = setup();
    const ids = t.w.podman.seedDemo();
    t.w.compose.script('up', fail(dependentStderr(ids.holder, ids.app)));
    const r = await t.run();
    expect(r.result).toBe('ok');
    expect(t.w.podman.mutations()).toEqual([`removeContainer ${ids.app}`]);
    expect(t.w.compose.count('up')).toBe(2);
    // compose recreated it
    const app = t.w.podman.project('demo').find((c) => c.service === 'app');
    expect(app?.state).toBe('running');
    expect(app?.id).not.toBe(ids.app);
  });

  it('the new holder compose left under its temporary name (<old id>_<name>) is removed too, so the retried up can make it again', async () => {
    const t = setup();
    const ids = t.w.podman.seedDemo();
    const holderName = t.w.podman.project('demo').find((c) => c.id === ids.holder)?.name ?? '';
    const leftover = t.w.podman.add({ project: 'demo', service: 'holder', name: `${ids.holder.slice(0, 12)}_${holderName}`, state: 'created' });
    const unrelated = t.w.podman.add({ project: 'demo', service: 'holder', name: `abcdefabcdef_${holderName}`, state: 'created' });
    t.w.compose.script('up', fail(dependentStderr(ids.holder, ids.app)));
    const r = await t.run();
    expect(r.result, r.reason).toBe('ok');
    expect(t.w.podman.mutations()).toEqual([`removeContainer ${ids.app}`, `removeContainer ${leftover.Id}`]);
    expect(t.w.podman.containers.has(unrelated.Id)).toBe(true);
  });

  it('the dependent belongs to another project: it is not removed and the failure stands', async () => {
    const t = setup();
    const ids = t.w.podman.seedDemo();
    const foreign = t.w.podman.add({ project: 'other', service: 'sidecar' });
    t.w.compose.script('up', fail(dependentStderr(ids.holder, foreign.Id)));
    const r = await t.run();
    expect(r).toMatchObject({ result: 'failed', reasonCode: 'compose-failed' });
    expect(r.reason).toContain('has dependent containers which must be removed before it');
    expect(t.w.podman.mutations()).toEqual([]);
    expect(t.w.compose.count('up')).toBe(1);
    expect(t.w.podman.containers.has(foreign.Id)).toBe(true);
  });

  it('the retried up fails too: one retry only, the second failure is the verdict', async () => {
    const t = setup();
    const ids = t.w.podman.seedDemo();
    t.w.compose.script('up', fail(dependentStderr(ids.holder, ids.app)), fail('Error response from daemon: still broken'));
    const r = await t.run();
    expect(r.reasonCode).toBe('compose-failed');
    expect(r.reason).toContain('still broken');
    expect(t.w.compose.count('up')).toBe(2);
  });
});

/** The captured refusal of a network podman-compose made, for this network. */
function foreignNetworkStderr(network: string): string {
  return fixtureText('compose-up.foreign-network.stderr.txt').replaceAll('demo_default', network);
}

describe('Reconciler: adopting a project podman-compose created', () => {
  it('compose refuses the podman-compose network: the project\'s podman-compose containers and the network are removed, up runs once more', async () => {
    const t = setup();
    const old = t.w.podman.add({ project: 'demo', service: 'web', scheme: 'podman-compose', name: 'demo_web_1', labels: { 'com.docker.compose.project': 'demo' } });
    const other = t.w.podman.add({ project: 'other', service: 'web' });
    t.w.compose.script('up', fail(foreignNetworkStderr('demo_default')));
    const r = await t.run();
    expect(r.result, r.reason).toBe('ok');
    expect(t.w.podman.mutations()).toEqual([`removeContainer ${old.Id}`, 'removeNetwork demo_default']);
    expect(t.w.compose.count('up')).toBe(2);
    expect(t.w.podman.containers.has(other.Id)).toBe(true);
  });

  it('a network not labelled with this project is left alone and the failure stands', async () => {
    const t = setup();
    t.w.podman.seedDemo();
    t.w.podman.networks.set('shared_default', 'shared');
    t.w.compose.script('up', fail(foreignNetworkStderr('shared_default')));
    const r = await t.run();
    expect(r).toMatchObject({ result: 'failed', reasonCode: 'compose-failed' });
    expect(r.reason).toContain('network shared_default was found but has incorrect label');
    expect(t.w.podman.mutations()).toEqual([]);
    expect(t.w.compose.count('up')).toBe(1);
  });

  it('the network cannot be removed (still in use): nothing retried, the compose failure is the verdict', async () => {
    const t = setup();
    t.w.podman.add({ project: 'demo', service: 'web', scheme: 'podman-compose', labels: { 'com.docker.compose.project': 'demo' } });
    t.w.podman.failNext('removeNetwork', new PodmanApiError(500, 'DELETE', '/networks/demo_default', 'network is being used by a container'));
    t.w.compose.script('up', fail(foreignNetworkStderr('demo_default')));
    const r = await t.run();
    expect(r.reasonCode).toBe('compose-failed');
    expect(t.w.compose.count('up')).toBe(1);
  });
});

describe('Reconciler: stop and down', () => {
  it('stopped: compose stop stops every container', async () => {
    const t = setup();
    t.w.podman.seedDemo();
    const r = await t.run('stopped');
    expect(r.result).toBe('ok');
    expect(t.w.compose.verbs()).toEqual(['stop']);
    expect(Object.values(t.w.podman.states('demo'))).toEqual(['exited', 'exited', 'exited', 'exited']);
  });

  it('stopped: compose stop fails → the containers are stopped through the API and the verdict is ok', async () => {
    const t = setup();
    const ids = t.w.podman.seedDemo();
    t.w.compose.script('stop', fail(fixtureText('compose-config.missing-required-variable.stderr.txt'), 15));
    const r = await t.run('stopped');
    expect(r).toMatchObject({ result: 'ok' });
    expect(t.w.compose.verbs()).toEqual(['stop']);
    expect(t.w.podman.mutations().sort()).toEqual([ids.app, ids.client, ids.holder, ids.web].map((id) => `stopContainer ${id}`).sort());
    expect(Object.values(t.w.podman.states('demo'))).toEqual(['exited', 'exited', 'exited', 'exited']);
  });

  // Found by this test (it failed before the fix): the fallback stopped only `running` containers, although a paused
  // one counts as not stopped, so it stayed paused and every later reconcile ran the failing compose stop again.
  it('stopped: compose stop fails → a paused container is stopped through the API too', async () => {
    const t = setup();
    const paused = t.w.podman.add({ project: 'demo', service: 'web', state: 'paused' });
    t.w.compose.script('stop', fail('error while interpolating services.web.image: required variable TAG is missing a value', 15));
    const r = await t.run('stopped');
    expect(r.result).toBe('ok');
    expect(t.w.podman.mutations()).toEqual([`stopContainer ${paused.Id}`]);
  });

  it('stopped: an env file that is gone is left out of compose stop instead of blocking it', async () => {
    const t = setup();
    t.w.podman.seedDemo();
    t.w.files.delete(ENV_FILE);
    expect((await t.run('stopped')).result).toBe('ok');
    expect(t.w.compose.calls[0]?.spec.envFiles).toEqual([]);
    expect(t.w.clock.sleeps).toEqual([]);
  });

  it.each([
    { desired: 'stopped' as const, what: 'nothing running' },
    { desired: 'removed' as const, what: 'no container left' },
  ])('$desired with $what: ok without running compose', async ({ desired }) => {
    const t = setup();
    if (desired === 'stopped') {
      t.w.podman.seedDemo();
      for (const e of t.w.podman.containers.values()) e['State'] = 'exited';
    }
    expect((await t.run(desired)).result).toBe('ok');
    expect(t.w.compose.calls).toEqual([]);
  });

  it('removed: compose down removes the containers and the network', async () => {
    const t = setup();
    t.w.podman.seedDemo();
    const r = await t.run('removed');
    expect(r.result).toBe('ok');
    expect(t.w.compose.verbs()).toEqual(['down']);
    expect(t.w.podman.project('demo')).toEqual([]);
    expect([...t.w.podman.networks.keys()]).toEqual([]);
    expect(t.store.get('demo').containers).toEqual([]);
  });

  it.each([
    { how: 'exits non-zero', step: fail('Error response from daemon: network demo_default is in use'), code: 'compose-failed' as const },
    { how: 'times out', step: timeout, code: 'compose-timeout' as const },
  ])('removed: compose down $how → failed with a clock-retried code, never turned into a stop', async ({ step, code }) => {
    const t = setup();
    t.w.podman.seedDemo();
    t.w.compose.script('down', step);
    const r = await t.run('removed');
    expect(r).toMatchObject({ result: 'failed', reasonCode: code });
    expect(retriesByClock(r.reasonCode)).toBe(true);
    expect(t.w.compose.verbs()).toEqual(['down']);
    expect(t.w.podman.mutations()).toEqual([]);
    expect(Object.values(t.w.podman.states('demo'))).toEqual(['running', 'running', 'running', 'running']);
  });
});

describe('Reconciler: retire (a stack that left the config)', () => {
  it.each([
    {
      action: 'stop' as const,
      reason: 'removedStacks: stop: its 5 running containers stopped (kept, with their volumes)',
      after: (t: Setup) => {
        expect(t.w.podman.project('demo').map((c) => c.state)).toEqual(['exited', 'exited', 'exited', 'exited', 'exited']);
        expect([...t.w.podman.networks.keys()]).toEqual(['demo_default']);
        expect(t.w.podman.mutations().every((c) => c.startsWith('stopContainer'))).toBe(true);
      },
    },
    {
      action: 'down' as const,
      reason: 'removedStacks: down: 5 containers and 1 network removed (volumes kept)',
      after: (t: Setup) => {
        expect(t.w.podman.project('demo')).toEqual([]);
        expect([...t.w.podman.networks.keys()]).toEqual([]);
        expect(t.store.get('demo').containers).toEqual([]);
      },
    },
    {
      action: 'keep' as const,
      reason: 'removedStacks: keep: its containers left as they are',
      after: (t: Setup) => {
        expect(t.w.podman.mutations()).toEqual([]);
        expect(t.w.podman.project('demo').every((c) => c.state === 'running')).toBe(true);
      },
    },
  ])('$action', async ({ action, reason, after }) => {
    const t = setup();
    t.w.podman.seedDemo();
    // a leftover created by podman-compose: found by its own project label
    t.w.podman.add({ project: 'demo', service: 'old', name: 'demo_old_1', scheme: 'podman-compose' });
    const r = await t.reconciler.retire({ name: 'demo', project: 'demo' }, action, silentLogger);
    expect(r).toMatchObject({ result: 'ok', reasonCode: 'not-configured' });
    expect(r.reason).toBe(`stack "demo" is no longer in the config; ${reason}`);
    // its compose files may be gone: compose is never asked
    expect(t.w.compose.calls).toEqual([]);
    expect(t.store.get('demo').lastResult).toEqual(r);
    after(t);
  });

  it('down: podman refuses the holder while a same-project container shares it → that one goes first', async () => {
    const t = setup();
    const ids = t.w.podman.seedDemo();
    const r = await t.reconciler.retire({ name: 'demo', project: 'demo' }, 'down', silentLogger);
    expect(r.result).toBe('ok');
    const removes = t.w.podman.calls.filter((c) => c.startsWith('removeContainer '));
    expect(removes.slice(0, 3)).toEqual([`removeContainer ${ids.holder}`, `removeContainer ${ids.app}`, `removeContainer ${ids.holder}`]);
    expect(t.w.podman.containers.size).toBe(0);
  });

  it.each(['stop', 'down', 'keep'] as const)('%s with podman unreachable → failed, podman-unreachable', async (action) => {
    const t = setup();
    t.w.podman.seedDemo();
    t.w.podman.failNext('listProjectContainers', unreachable());
    const r = await t.reconciler.retire({ name: 'demo', project: 'demo' }, action, silentLogger);
    expect(r).toMatchObject({ result: 'failed', reasonCode: 'podman-unreachable' });
    expect(r.reason).toContain(`(no longer in the config; removedStacks: ${action})`);
    expect(t.w.podman.mutations()).toEqual([]);
  });

  it('down: unreachable halfway (after some removals) → failed; what is left stays', async () => {
    const t = setup();
    t.w.podman.seedDemo();
    t.w.podman.failNext('listProjectNetworks', unreachable());
    const r = await t.reconciler.retire({ name: 'demo', project: 'demo' }, 'down', silentLogger);
    expect(r.reasonCode).toBe('podman-unreachable');
    expect(t.w.podman.containers.size).toBe(0);
    expect([...t.w.podman.networks.keys()]).toEqual(['demo_default']);
  });
});
