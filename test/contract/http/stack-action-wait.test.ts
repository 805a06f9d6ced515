// POST /v1/stacks/:name/{up,stop,down}?wait=MS: the one request a stack unit's curl makes. Every answer (200
// succeeded, 502 failed, 504 no verdict yet, 202 without wait) in both bodies (JSON {job}, one line of text), bad
// waits, unknown stacks, the read-only listener, a client that goes away, and stackd closing mid-wait.
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { buildApp } from '../../../src/http/app.js';
import { listenUnixSocket } from '../../../src/http/listen.js';
import { JobEnvelopeSchema, MAX_ACTION_WAIT_MS } from '../../../src/http/schemas.js';
import { isJobEnvelope } from '../../../src/cli/answers.js';
import type { Job } from '../../../src/supervisor/api.js';
import type { ReconcileResult } from '../../../src/core/model.js';
import { FakeSupervisor, makeStack } from './fake-supervisor.js';

const apps: FastifyInstance[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function setup(writable = true) {
  const supervisor = new FakeSupervisor([makeStack('immich')]);
  const app = buildApp({ supervisor, logger: pino({ level: 'silent' }), writable });
  apps.push(app);
  return { app, supervisor };
}

const result = (over: Partial<ReconcileResult>): ReconcileResult => ({ result: 'ok', startedAt: '2026-02-12T21:00:01.000Z', finishedAt: '2026-02-12T21:00:01.016Z', durationMs: 16, ...over });
const TEXT = { accept: 'text/plain' };

/** The job finishes with `patch` right after it is queued. */
function finishing(supervisor: FakeSupervisor, patch: Partial<Job>): void {
  supervisor.onRequest = (job) => queueMicrotask(() => supervisor.finish(job.id, patch));
}

describe('verdicts', () => {
  const cases: { what: string; patch: Partial<Job>; status: number; line: string }[] = [
    { what: 'ok', patch: { result: result({}) }, status: 200, line: 'ACTION immich: ok in 16ms\n' },
    { what: 'skipped (unchanged)', patch: { result: result({ result: 'skipped', reasonCode: 'unchanged' }) }, status: 200, line: 'ACTION immich: skipped in 16ms: unchanged\n' },
    { what: 'a failed reconcile', patch: { status: 'failed', result: result({ result: 'failed', reasonCode: 'compose-failed', reason: 'pull denied\nfor web' }), error: 'pull denied' }, status: 502, line: 'ACTION immich: failed in 16ms: compose-failed: pull denied for web\n' },
    { what: 'done with a failed result', patch: { result: result({ result: 'failed', reasonCode: 'compose-failed', reason: 'x' }) }, status: 502, line: 'ACTION immich: failed in 16ms: compose-failed: x\n' },
    { what: 'a failed job without a result', patch: { status: 'failed', error: 'could not save the desired state' }, status: 502, line: 'ACTION immich: failed: could not save the desired state\n' },
  ];
  for (const action of ['up', 'stop', 'down'] as const) {
    it.each(cases)(`${action}: $what → $status, as JSON {job} and as one line of text`, async ({ patch, status, line }) => {
      const { app, supervisor } = setup();
      finishing(supervisor, patch);
      const json = await app.inject({ method: 'POST', url: `/v1/stacks/immich/${action}?wait=60000` });
      expect(json.statusCode).toBe(status);
      expect(json.headers['content-type']).toMatch(/^application\/json/);
      const body = json.json<{ job: Job }>();
      expect(body.job).toMatchObject({ kind: action, stack: 'immich', status: patch.status ?? 'done' });
      // the shape the schema promises and stackctl's guard accepts
      expect(Value.Check(JobEnvelopeSchema, body)).toBe(true);
      expect(isJobEnvelope(body)).toBe(true);

      const text = await app.inject({ method: 'POST', url: `/v1/stacks/immich/${action}?wait=60000`, headers: TEXT });
      expect(text.statusCode).toBe(status);
      expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(text.body).toBe(line.replace('ACTION', action));
      expect(supervisor.waitRequests).toEqual([60_000, 60_000]);
    });
  }

  it('504 when the wait passes with the job still queued or running; stackd keeps the job', async () => {
    const { app, supervisor } = setup();
    const json = await app.inject({ method: 'POST', url: '/v1/stacks/immich/up?wait=30' });
    expect(json.statusCode).toBe(504);
    expect(json.json()).toEqual({ job: { id: 'job-1', kind: 'up', stack: 'immich', status: 'queued', createdAt: '2026-02-12T21:00:00.000Z' } });
    supervisor.onRequest = (job) => { supervisor.jobs.set(job.id, { ...job, status: 'running' }); };
    const text = await app.inject({ method: 'POST', url: '/v1/stacks/immich/stop?wait=90', headers: TEXT });
    expect(text.statusCode).toBe(504);
    expect(text.body).toBe('stop immich: no verdict after 0.09s; stackd carries on: follow it with "stackctl status immich"\n');
    expect(supervisor.getJob('job-2')?.status).toBe('running');
  });

  it('the 504 line names the wait as a duration (15m, 90s)', async () => {
    const { app, supervisor } = setup();
    supervisor.maxWaitMs = 10; // the fake answers early; the route still words the wait that was asked for
    for (const [wait, text] of [[900_000, '15m'], [90_000, '90s'], [MAX_ACTION_WAIT_MS, '1h']] as const) {
      const res = await app.inject({ method: 'POST', url: `/v1/stacks/immich/up?wait=${wait}`, headers: TEXT });
      expect(res.statusCode).toBe(504);
      expect(res.body).toBe(`up immich: no verdict after ${text}; stackd carries on: follow it with "stackctl status immich"\n`);
    }
  });

  it('text answers carry no terminal controls', async () => {
    const { app, supervisor } = setup();
    finishing(supervisor, { status: 'failed', error: 'denied\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007 \u009b2Jnow' });
    const res = await app.inject({ method: 'POST', url: '/v1/stacks/immich/up?wait=1000', headers: TEXT });
    expect(res.statusCode).toBe(502);
    expect(res.body).toBe('up immich: failed: denied now\n');
  });

  it('Accept */*, application/json or a tie keep JSON; text/plain outweighing JSON gives text', async () => {
    const { app, supervisor } = setup();
    finishing(supervisor, { result: result({}) });
    for (const accept of ['*/*', 'application/json', 'text/plain, application/json', 'text/plain;q=0.2, application/json']) {
      const res = await app.inject({ method: 'POST', url: '/v1/stacks/immich/up?wait=1000', headers: { accept } });
      expect(res.headers['content-type'], accept).toMatch(/^application\/json/);
    }
    const res = await app.inject({ method: 'POST', url: '/v1/stacks/immich/up?wait=1000', headers: { accept: 'text/plain, application/json;q=0.5' } });
    expect(res.body).toBe('up immich: ok in 16ms\n');
  });
});

describe('without a wait', () => {
  it.each(['', '?wait=0'])('POST %s answers 202 {job} at once and waits for nothing', async (query) => {
    const { app, supervisor } = setup();
    const res = await app.inject({ method: 'POST', url: `/v1/stacks/immich/up${query}`, headers: TEXT });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ job: { id: 'job-1', kind: 'up', stack: 'immich', status: 'queued', createdAt: '2026-02-12T21:00:00.000Z' } });
    expect(supervisor.waitCalls).toBe(0);
  });
});

describe('refusals', () => {
  it.each(['1.5', '0x10', '1e3', '', '-1', ' 5', String(MAX_ACTION_WAIT_MS + 1), 'abc'])('wait=%j is 400 naming the cap, and nothing is requested', async (wait) => {
    const { app, supervisor } = setup();
    const res = await app.inject({ method: 'POST', url: `/v1/stacks/immich/up?wait=${encodeURIComponent(wait)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'bad-request', message: `wait: got ${JSON.stringify(wait)}; expected whole milliseconds as plain decimal digits, 0 to 3600000` } });
    expect(supervisor.requests).toEqual([]);
  });

  it('two waits are 400 naming this route\'s cap; the GET long-poll keeps its own 60 s cap', async () => {
    const { app, supervisor } = setup();
    const two = await app.inject({ method: 'POST', url: '/v1/stacks/immich/up?wait=1&wait=2' });
    expect(two.statusCode).toBe(400);
    expect(two.json<{ error: { message: string } }>().error.message).toBe('wait: got ["1","2"]; expected whole milliseconds as plain decimal digits, 0 to 3600000');
    supervisor.maxWaitMs = 0; // the fake answers at once: the hour itself is not waited out here
    const accepted = await app.inject({ method: 'POST', url: `/v1/stacks/immich/up?wait=${MAX_ACTION_WAIT_MS}` });
    expect(accepted.statusCode).toBe(504);
    expect(supervisor.waitRequests).toEqual([MAX_ACTION_WAIT_MS]);
    const poll = await app.inject({ url: '/v1/jobs/job-1?wait=60001' });
    expect(poll.statusCode).toBe(400);
    expect(poll.json<{ error: { message: string } }>().error.message).toContain('0 to 60000');
  });

  it('an unknown stack is 404 unknown-stack, a bad name 400, with a wait too', async () => {
    const { app, supervisor } = setup();
    const unknown = await app.inject({ method: 'POST', url: '/v1/stacks/nextcloud/up?wait=1000', headers: TEXT });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'unknown-stack', message: expect.stringContaining('"nextcloud"') } });
    const bad = await app.inject({ method: 'POST', url: '/v1/stacks/NOPE/up?wait=1000' });
    expect(bad.statusCode).toBe(400);
    expect(supervisor.requests).toEqual([]);
    expect(supervisor.waitCalls).toBe(0);
  });

  it.each(['up', 'stop', 'down'])('the read-only TCP app has no POST /v1/stacks/:name/%s?wait= (404, nothing requested)', async (action) => {
    const { app, supervisor } = setup(false);
    const res = await app.inject({ method: 'POST', url: `/v1/stacks/immich/${action}?wait=1000`, headers: TEXT });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'not-found', message: expect.stringContaining('read-only') } });
    expect(supervisor.requests).toEqual([]);
  });
});

describe('on a real unix socket', () => {
  async function listening() {
    const { app, supervisor } = setup();
    const dir = await mkdtemp(join(tmpdir(), 'stackd-wait-'));
    dirs.push(dir);
    const path = join(dir, 'stackd.sock');
    await listenUnixSocket(app, path);
    return { app, supervisor, path };
  }

  async function until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  it('the writable server sets no timeout that would cut an answer held for up to an hour', async () => {
    const { app } = await listening();
    // node's socket timeout and whole-request timeout off (fastify's defaults); the keep-alive and headers
    // timeouts only run while no request is being answered
    expect(app.server.timeout).toBe(0);
    expect(app.server.requestTimeout).toBe(0);
  });

  it('a client that goes away ends its wait: no waiter stays behind', async () => {
    const { supervisor, path } = await listening();
    const socket = connect(path);
    socket.write('POST /v1/stacks/immich/up?wait=3600000 HTTP/1.1\r\nHost: stackd\r\nContent-Length: 0\r\n\r\n');
    await until(() => supervisor.openWaits === 1);
    socket.destroy();
    await until(() => supervisor.openWaits === 0);
    expect(supervisor.getJob('job-1')?.status).toBe('queued');
  });

  it('closing the app answers a waiting POST at once with 503 shutting-down, and the close does not hang', async () => {
    const { app, supervisor, path } = await listening();
    const answer = new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      const req = request({ socketPath: path, method: 'POST', path: '/v1/stacks/immich/up?wait=3600000', headers: TEXT }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      req.end();
    });
    await until(() => supervisor.openWaits === 1);
    const started = Date.now();
    await app.close();
    const { status, body } = await answer;
    expect(Date.now() - started).toBeLessThan(5_000); // not the hour the request asked for
    expect(status).toBe(503);
    expect(JSON.parse(body)).toEqual({ error: { code: 'shutting-down', message: 'stackd is shutting down before the up of immich ran to its end; the desired state is saved and stackd carries it out when it starts again' } });
  });

  it('a job that finishes while stackd closes still gets its verdict', async () => {
    const { app, supervisor, path } = await listening();
    const answer = new Promise<number | undefined>((resolve, reject) => {
      const req = request({ socketPath: path, method: 'POST', path: '/v1/stacks/immich/up?wait=3600000' }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
      req.on('error', reject);
      req.end();
    });
    await until(() => supervisor.openWaits === 1);
    supervisor.finish('job-1', { result: result({}) });
    await app.close();
    expect(await answer).toBe(200);
  });
});
