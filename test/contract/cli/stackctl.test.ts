// stackctl against the real HTTP app (fake supervisor) on a real unix socket; main() runs in-process.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/http/app.js';
import { listenUnixSocket } from '../../../src/http/listen.js';
import { defaultSocketPath, main } from '../../../src/cli/stackctl.js';
import type { CliIo } from '../../../src/cli/stackctl.js';
import { FakeSupervisor, makeStack } from '../http/fake-supervisor.js';
import type { Job } from '../../../src/supervisor/api.js';

let dir: string;
let socket: string;
let app: FastifyInstance;
let supervisor: FakeSupervisor;

const NOW = Date.parse('2026-02-12T21:10:00.000Z');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackctl-'));
  socket = join(dir, 'run', 'stackd', 'stackd.sock');
  supervisor = new FakeSupervisor([]);
  app = buildApp({ supervisor, logger: pino({ level: 'silent' }), writable: true });
  await listenUnixSocket(app, socket);
});

afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  supervisor.stacks = [
    makeStack('immich', { lastResult: { result: 'ok', startedAt: '2026-02-12T21:06:55.000Z', finishedAt: '2026-02-12T21:07:00.000Z', durationMs: 4200 } }),
    makeStack('broken', { state: 'failed', health: 'down', containers: [] }),
  ];
  supervisor.onRequest = () => undefined;
  supervisor.shuttingDown = false;
  supervisor.maxWaitMs = Infinity;
  supervisor.waitCalls = 0;
  supervisor.waitRequests.length = 0;
  supervisor.requests.length = 0;
});

interface Run { code: number; stdout: string; stderr: string }

async function run(args: string[], extra: Partial<CliIo> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    env: { STACKD_SOCKET: socket },
    uid: 1000,
    stdout: { write: (s: string) => { stdout += s; } },
    stderr: { write: (s: string) => { stderr += s; } },
    now: () => NOW,
    sleep: async () => undefined,
    ...extra,
  });
  return { code, stdout, stderr };
}

/** Jobs finish a moment after they are requested, with this verdict. */
function finishWith(patch: (job: Job) => Partial<Job>, delayMs = 30): void {
  supervisor.onRequest = (job) => { setTimeout(() => supervisor.finish(job.id, patch(job)), delayMs); };
}

const ok = { result: 'ok' as const, startedAt: '2026-02-12T21:09:55.000Z', finishedAt: '2026-02-12T21:10:00.000Z', durationMs: 4200 };

describe('the socket', () => {
  it('is 0600 in a 0700 directory', async () => {
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'run', 'stackd'))).mode & 0o777).toBe(0o700);
  });
});

describe('status', () => {
  it('prints a table of all stacks', async () => {
    const r = await run(['status']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.split('\n')).toEqual([
      'STACK   STATE      HEALTH   CONTAINERS  LAST        REASON',
      'immich  converged  healthy  2/2         ok 3m ago',
      'broken  failed     down     0/0         ok 10m ago',
      '',
    ]);
  });

  it('--json prints {stacks:[...]} exactly as the API sends it', async () => {
    const r = await run(['status', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ stacks: supervisor.stacks });
  });

  it('status NAME shows the stack with each container', async () => {
    const r = await run(['status', 'immich']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('immich: converged, health healthy\n');
    expect(r.stdout).toContain('    immich-app-1  app      running  healthy\n');
    expect(r.stdout).toContain('    immich-db-1   db       running  none\n');
  });

  it('status NAME --json prints the stack', async () => {
    const r = await run(['--json', 'status', 'broken']);
    expect(JSON.parse(r.stdout)).toEqual(supervisor.stacks[1]);
  });

  it('shows a stack that left the config with what happened to its containers; --json stays raw', async () => {
    const old = makeStack('old', { desired: 'removed', state: 'removed', health: 'down', containers: [], lastResult: undefined, removedFromConfig: { action: 'stop', done: true } });
    supervisor.stacks.push(old);
    const table = await run(['status']);
    expect(table.stdout.split('\n')[3]).toBe('old     removed (left config; containers stopped)  down     0/0         -');
    const detail = await run(['status', 'old']);
    expect(detail.stdout).toContain('old: removed (left config; containers stopped), health down\n');
    expect(detail.stdout).toContain('  config:      not in the config any more; removedStacks: stop, so its containers were stopped\n');
    const json = await run(['status', 'old', '--json']);
    expect(JSON.parse(json.stdout)).toEqual(old);
    expect(JSON.parse((await run(['status', '--json'])).stdout)).toEqual({ stacks: supervisor.stacks });
  });

  it('an unknown stack exits 4 and lists the known ones', async () => {
    const r = await run(['status', 'nextcloud']);
    expect(r).toEqual({ code: 4, stdout: '', stderr: 'stackctl: no stack named "nextcloud" in the config; known stacks: immich, broken\n' });
  });

  it('a name too long for the URL exits 2 with the daemon\'s message, not "bad response"', async () => {
    const r = await run(['status', 'a'.repeat(200)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stackctl: URL too long: a path segment of ".+" is longer than 100 characters; stack names have at most 63\n$/);
  });

  it('an invalid stack name exits 2 with the daemon\'s message', async () => {
    const r = await run(['status', 'Not_OK']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid stack name "Not_OK"');
  });
});

describe('up / stop / down', () => {
  it('up waits for the verdict and exits 0 when the reconcile succeeded', async () => {
    finishWith(() => ({ result: ok }));
    const r = await run(['up', 'immich']);
    expect(r).toEqual({ code: 0, stdout: 'up immich: ok in 4.2s\n', stderr: '' });
    expect(supervisor.requests).toContainEqual({ kind: 'up', stack: 'immich' });
  });

  it('up exits 1 with the reason when the reconcile failed', async () => {
    finishWith(() => ({ result: { ...ok, result: 'failed', reasonCode: 'compose-failed', reason: 'pull access denied for nosuch/image' } }));
    const r = await run(['up', 'broken']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'stackctl: up broken: failed in 4.2s: compose-failed: pull access denied for nosuch/image\n' });
  });

  it('a job that failed without a verdict exits 1', async () => {
    finishWith(() => ({ status: 'failed', error: 'stackd is shutting down' }));
    const r = await run(['stop', 'immich']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stackctl: stop immich: failed: stackd is shutting down\n');
  });

  it('follows a long job across many long-polls (well within the deadline)', async () => {
    supervisor.maxWaitMs = 10;
    finishWith(() => ({ result: ok }), 120);
    const r = await run(['down', 'immich']);
    expect(r.code).toBe(0);
    expect(supervisor.waitCalls).toBeGreaterThan(3);
  });

  it('--no-block returns once queued', async () => {
    const r = await run(['up', 'immich', '--no-block']);
    expect(r).toEqual({ code: 0, stdout: expect.stringMatching(/^up immich: queued \(job job-\d+\)\n$/), stderr: '' });
  });

  it('--json prints the finished job', async () => {
    finishWith(() => ({ result: ok }));
    const r = await run(['up', 'immich', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'up', stack: 'immich', status: 'done', result: ok });
  });

  it.each(['up', 'stop', 'down'])('%s while stackd shuts down prints its message and exits 3 (not there to do it)', async (action) => {
    supervisor.shuttingDown = true;
    const r = await run([action, 'immich']);
    expect(r).toEqual({ code: 3, stdout: '', stderr: 'stackctl: stackd is shutting down and accepts no new work; retry once it has restarted\n' });
  });

  it('an unknown stack exits 4', async () => {
    const r = await run(['up', 'nextcloud']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('no stack named "nextcloud"');
  });
});

describe('up --healthy', () => {
  it('waits until the stack is healthy', async () => {
    finishWith(() => ({ result: ok }));
    supervisor.stacks[0] = { ...makeStack('immich'), health: 'progressing', state: 'progressing' };
    let polls = 0;
    const r = await run(['up', 'immich', '--healthy'], {
      sleep: async () => { if (++polls === 3) supervisor.stacks[0] = makeStack('immich'); },
    });
    expect(r).toEqual({ code: 0, stdout: 'up immich: ok in 4.2s\nimmich: healthy\n', stderr: '' });
    expect(polls).toBe(3);
  });

  it('fails when the stack turns down', async () => {
    finishWith(() => ({ result: ok }));
    supervisor.stacks[0] = { ...makeStack('immich'), health: 'progressing' };
    const r = await run(['up', 'immich', '--healthy'], {
      sleep: async () => { supervisor.stacks[0] = { ...makeStack('immich'), health: 'down', state: 'degraded' }; },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stackctl: immich did not become healthy: state degraded, health down\n');
  });

  it('gives up when --timeout (the one deadline for the verdict and health) passes: exit 5', async () => {
    finishWith(() => ({ result: ok }));
    supervisor.stacks[0] = { ...makeStack('immich'), health: 'degraded', state: 'degraded' };
    let clock = NOW;
    const r = await run(['up', 'immich', '--healthy', '--timeout', '10s'], {
      now: () => clock,
      sleep: async (ms) => { clock += ms; },
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('stackctl: immich not healthy after 10s (--timeout): state degraded, health degraded, phase idle\n');
  });
});

describe('text from stackd cannot drive the terminal', () => {
  // decoded from JSON's \u001b / \u0007 / \u009b escapes: nothing in stackd's raw bytes looks like a control
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
  const OSC52 = '\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007';

  beforeEach(() => {
    supervisor.stacks[1] = makeStack('broken', {
      state: 'failed', health: 'down',
      lastResult: { ...ok, result: 'failed', reasonCode: 'compose-failed', reason: `pull denied${OSC52} for \u009b31mweb\u001b[0m` },
      containers: [{ id: 'c1', name: `broken-web-1${OSC52}`, service: 'web\u009b2J', state: 'exited', health: 'none' }],
    });
  });

  it.each([[['status']], [['status', 'broken']], [['status', '--json']], [['status', 'broken', '--json']]])('%j', async (args) => {
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(CONTROL);
    expect(r.stdout).not.toMatch(/\\u00(?:1b|07|9b)/i); // nor as JSON escapes in --json
    expect(r.stdout).toContain('pull denied for web');
  });

  it('in a job\'s error and verdict', async () => {
    finishWith(() => ({ status: 'failed', error: `compose crashed${OSC52}\u009b6n` }));
    const r = await run(['up', 'immich']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'stackctl: up immich: failed: compose crashed\n' });
  });

  it('in an error message', async () => {
    supervisor.request = () => { throw Object.assign(new Error(`immich is busy${OSC52}; try again`), { statusCode: 409 }); };
    try {
      const r = await run(['up', 'immich']);
      expect(r).toEqual({ code: 2, stdout: '', stderr: 'stackctl: immich is busy; try again\n' });
    } finally {
      Reflect.deleteProperty(supervisor, 'request');
    }
  });
});

describe('up / stop / down give up at a deadline (--timeout, default 15m)', () => {
  /** A clock that moves `stepMs` each time stackctl looks at it; the job never finishes unless the test says so. */
  function ticking(stepMs: number): Partial<CliIo> {
    let clock = NOW;
    return { now: () => (clock += stepMs) };
  }

  beforeEach(() => {
    supervisor.maxWaitMs = 5;
    supervisor.stacks[0] = makeStack('immich', { phase: 'reconciling', state: 'progressing', health: 'progressing' });
  });

  it.each(['up', 'stop', 'down'])('%s says what is still running and exits 5', async (action) => {
    const r = await run([action, 'immich', '--timeout', '30s'], ticking(1000));
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([
      `stackctl: ${action} immich: no verdict after 30s (--timeout); still in stackd:`,
      `  job job-${supervisor.jobs.size}: queued`,
      '  immich: reconciling, state progressing, health progressing, desired running',
      'stackd carries on with it: follow it with "stackctl status immich", or wait longer with --timeout (0 waits for ever)',
      '',
    ]);
    // no long-poll asks the daemon to wait past the deadline, and each wait is plain digits
    expect(supervisor.waitRequests.length).toBeGreaterThan(0);
    for (const ms of supervisor.waitRequests) expect(Number.isInteger(ms) && ms > 0 && ms <= 30_000).toBe(true);
  });

  it('the default deadline is 15 minutes', async () => {
    const r = await run(['up', 'immich'], ticking(60_000));
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('stackctl: up immich: no verdict after 15m (--timeout); still in stackd:\n');
  });

  it('a bare number is seconds', async () => {
    const r = await run(['down', 'immich', '--timeout', '900'], ticking(60_000));
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('no verdict after 15m (--timeout)');
  });

  it('--timeout 0 waits for ever', async () => {
    finishWith(() => ({ result: ok }), 100);
    const r = await run(['up', 'immich', '--timeout', '0'], ticking(3_600_000));
    expect(r).toEqual({ code: 0, stdout: 'up immich: ok in 4.2s\n', stderr: '' });
  });

  it('--json prints the job as it stands when the deadline passes', async () => {
    const r = await run(['stop', 'immich', '--timeout', '5s', '--json'], ticking(1000));
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'stop', stack: 'immich', status: 'queued' });
  });

  it('still reports the job when the stack cannot be read any more', async () => {
    // the stack leaves the config once the request is in (stackd was reloaded meanwhile)
    supervisor.onRequest = () => { supervisor.getStack = () => undefined; };
    try {
      const r = await run(['up', 'immich', '--timeout', '5s'], ticking(1000));
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/\n {2}job job-\d+: queued\n {2}immich: could not be read \(no stack named "immich".*\)\n/);
    } finally {
      Reflect.deleteProperty(supervisor, 'getStack');
    }
  });
});

describe('check and gc', () => {
  it('check prints the job\'s lines', async () => {
    finishWith(() => ({ output: { lines: ['immich: ok', 'broken: PODMAN_SYSTEMD_UNIT missing on broken-app-1'] } }));
    const r = await run(['check']);
    expect(r).toEqual({ code: 0, stdout: 'immich: ok\nbroken: PODMAN_SYSTEMD_UNIT missing on broken-app-1\n', stderr: '' });
  });

  it('check NAME sends the stack; unknown exits 4', async () => {
    finishWith(() => ({ output: { lines: [] } }));
    expect((await run(['check', 'immich'])).code).toBe(0);
    expect(supervisor.requests).toContainEqual({ kind: 'check', stack: 'immich' });
    expect((await run(['check', 'nope'])).code).toBe(4);
  });

  it('gc prints structured output as JSON', async () => {
    finishWith(() => ({ output: { removed: ['abc.timer'] } }));
    const r = await run(['gc']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ removed: ['abc.timer'] });
  });
});

describe('no daemon', () => {
  it('exits 3 naming the socket and how to start stackd', async () => {
    const missing = join(dir, 'nowhere', 'stackd.sock');
    const r = await run(['status', '--socket', missing]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`stackctl: cannot reach stackd at ${missing} (ENOENT). Is it running? Start it with: systemctl --user start stackd.socket stackd.service   (or: stackd --config <path>)\n`);
  });

  it('uses STACKD_SOCKET, then $XDG_RUNTIME_DIR/stackd/stackd.sock, then /run/user/<uid>', async () => {
    const r = await run(['up', 'immich'], { env: { XDG_RUNTIME_DIR: join(dir, 'xdg') } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach stackd at ${join(dir, 'xdg', 'stackd', 'stackd.sock')} (ENOENT)`);
    expect(defaultSocketPath({}, 1234)).toBe('/run/user/1234/stackd/stackd.sock');
    expect(defaultSocketPath({ STACKD_SOCKET: '/x.sock', XDG_RUNTIME_DIR: '/r' }, 1)).toBe('/x.sock');
  });
});

describe('usage', () => {
  it.each([
    [[], 'missing command'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['up'], '"up" takes exactly one stack name, got 0'],
    [['stop', 'a', 'b'], '"stop" takes exactly one stack name, got 2'],
    [['status', 'a', 'b'], '"status" takes at most one stack name, got 2'],
    [['gc', 'x'], '"gc" takes no arguments, got "x"'],
    [['status', '--healthy'], '--no-block and --healthy apply only to "up"'],
    [['stop', 'immich', '--no-block'], '--no-block and --healthy apply only to "up"'],
    [['gc', '--timeout', '5m'], '--timeout applies only to "up", "stop" and "down"'],
    [['up', 'immich', '--no-block', '--timeout', '5m'], '--timeout has no effect with --no-block (nothing is waited for)'],
    [['up', 'immich', '--healthy', '--timeout', 'soon'], '--timeout: got "soon"; expected a duration like 30s, 5m or 1h (units ms, s, m, h, d; a bare number means seconds), or 0 to wait for ever'],
    [['stop', 'immich', '--timeout=-5m'], '--timeout: got "-5m"'],
    [['up', 'immich', '--healthy', '--no-block'], '--no-block and --healthy exclude each other'],
    [['status', '--colour'], "Unknown option '--colour'"],
    [['check', '--write'], '--write and --qualify-images apply only to "fix"'],
    [['status', '--qualify-images'], '--write and --qualify-images apply only to "fix"'],
    [['fix', '--json'], '--json does not apply to "fix"'],
    [['import'], '"import" needs --from-podman or at least one DIR'],
    [['status', '--from-podman'], '--from-podman applies only to "import"'],
    [['gc', '--offline'], '--offline and --config apply only to "check", "fix" and "units"'],
  ])('%j exits 2: %s', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('stackctl --help');
    expect(supervisor.requests).toEqual([]);
  });

  it('--help prints usage and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: stackctl/);
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 stackd unreachable or shutting down,\n            4 unknown stack, 5 --timeout passed (stackd carries on with the request)');
    expect(r.stdout).toContain('--timeout DUR');
    expect(r.stdout).toContain('default 15m');
  });
});
