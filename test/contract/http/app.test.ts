import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/http/app.js';
import { ShuttingDownError } from '../../../src/supervisor/api.js';
import type { AppOptions } from '../../../src/http/app.js';
import { FakeSupervisor, makeStack } from './fake-supervisor.js';

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  return { logger: pino({ level: 'info' }, stream), lines };
}

let app: FastifyInstance | undefined;
afterEach(async () => { await app?.close(); app = undefined; });

function setup(opts: Partial<AppOptions> = {}) {
  const supervisor = new FakeSupervisor([makeStack('immich'), makeStack('paperless', { state: 'failed', health: 'degraded' })]);
  const log = captureLogger();
  app = buildApp({ supervisor, logger: log.logger, writable: true, ...opts });
  return { app, supervisor, log };
}

describe('read routes', () => {
  it('GET /healthz answers ok', async () => {
    const res = await setup().app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  it('GET /readyz is 200 when podman is reachable and 503 with the reason when not', async () => {
    const { app, supervisor } = setup();
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    supervisor.readiness = async () => ({ ready: false, podman: { reachable: false, error: 'connect ENOENT /run/user/1000/podman/podman.sock' } });
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ ready: false, podman: { reachable: false, error: 'connect ENOENT /run/user/1000/podman/podman.sock' } });
  });

  it('GET /readyz is 503 (not 500) when the readiness check itself throws', async () => {
    const { app, supervisor, log } = setup();
    supervisor.readiness = async () => { throw new Error('boom inside'); };
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain('boom inside');
    expect(log.lines.join('')).toContain('boom inside');
  });

  it('GET /v1/stacks lists every stack in the status JSON shape, and nothing beyond it', async () => {
    const { app, supervisor } = setup();
    supervisor.stacks[0] = { ...makeStack('immich'), internalNote: 'not for clients' } as ReturnType<typeof makeStack>;
    const res = await app.inject({ url: '/v1/stacks' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ stacks: Record<string, unknown>[] }>();
    expect(body.stacks.map((s) => s.name)).toEqual(['immich', 'paperless']);
    expect(body.stacks[0]).toEqual(makeStack('immich'));
    expect(body.stacks[0]).not.toHaveProperty('internalNote');
  });

  it('GET /v1/stacks/:name carries the stack\'s last update run through the response schema', async () => {
    const { app, supervisor } = setup();
    const lastUpdate = { result: 'rolled back' as const, finishedAt: '2026-02-12T03:00:00.000Z' };
    supervisor.stacks[0] = makeStack('immich', { lastUpdate });
    const res = await app.inject({ url: '/v1/stacks/immich' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ lastUpdate?: unknown }>().lastUpdate).toEqual(lastUpdate);
  });

  it('GET /v1/stacks/:name returns one stack', async () => {
    const res = await setup().app.inject({ url: '/v1/stacks/paperless' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(makeStack('paperless', { state: 'failed', health: 'degraded' }));
  });

  it('GET /v1/stacks/:name is 404 unknown-stack naming the stack and the known ones', async () => {
    const res = await setup().app.inject({ url: '/v1/stacks/nextcloud' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'unknown-stack', message: 'no stack named "nextcloud" in the config; known stacks: immich, paperless' } });
  });

  it.each([
    ['Immich', '"Immich"'],
    ['-lead', '"-lead"'],
    ['a'.repeat(64), `"${'a'.repeat(64)}"`],
    ['has.dot', '"has.dot"'],
  ])('GET /v1/stacks/%s is 400 with a clear message', async (name, quoted) => {
    const res = await setup().app.inject({ url: `/v1/stacks/${name}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'bad-request', message: `invalid stack name ${quoted}: expected 1 to 63 characters from a-z, 0-9, "_" and "-", starting with a letter or digit` } });
  });

  it('GET /metrics serves the callback text, or 404 when metrics are off', async () => {
    const metrics = async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'stackd_podman_up 1\n' });
    const on = await setup({ metrics }).app.inject({ url: '/metrics' });
    expect(on.statusCode).toBe(200);
    expect(on.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(on.body).toBe('stackd_podman_up 1\n');
    await app?.close();
    const off = await setup().app.inject({ url: '/metrics' });
    expect(off.statusCode).toBe(404);
    expect(off.json()).toMatchObject({ error: { code: 'not-found' } });
  });

  it('an unknown route is 404 not-found in the error shape', async () => {
    const res = await setup().app.inject({ url: '/v2/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not-found', message: 'no route GET /v2/nothing' } });
  });
});

describe('write routes (unix socket)', () => {
  it.each(['up', 'stop', 'down'] as const)('POST /v1/stacks/:name/%s queues and answers 202 {job}', async (action) => {
    const { app, supervisor } = setup();
    const res = await app.inject({ method: 'POST', url: `/v1/stacks/immich/${action}` });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ job: { id: 'job-1', kind: action, stack: 'immich', status: 'queued', createdAt: '2026-02-12T21:00:00.000Z' } });
    expect(supervisor.requests).toEqual([{ kind: action, stack: 'immich' }]);
  });

  it('POST on an unknown stack is 404 unknown-stack; on a bad name 400', async () => {
    const { app, supervisor } = setup();
    const unknown = await app.inject({ method: 'POST', url: '/v1/stacks/nextcloud/up' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'unknown-stack', message: expect.stringContaining('"nextcloud"') } });
    const bad = await app.inject({ method: 'POST', url: '/v1/stacks/NOPE/up' });
    expect(bad.statusCode).toBe(400);
    expect(supervisor.requests).toEqual([]);
  });

  it.each(['up', 'stop', 'down'] as const)('POST /v1/stacks/:name/%s while stackd shuts down is 503 shutting-down, not a 500', async (action) => {
    const { app, supervisor, log } = setup();
    supervisor.shuttingDown = true;
    const res = await app.inject({ method: 'POST', url: `/v1/stacks/immich/${action}` });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: { code: 'shutting-down', message: new ShuttingDownError().message } });
    expect(supervisor.requests).toEqual([]);
    // an expected refusal, not a bug: no error-level "request failed" line
    expect(log.lines.join('')).not.toContain('request failed');
  });

  it.each(['check', 'gc'] as const)('POST /v1/%s takes no body, or {stack}', async (kind) => {
    const { app, supervisor } = setup();
    const bare = await app.inject({ method: 'POST', url: `/v1/${kind}` });
    expect(bare.statusCode).toBe(202);
    expect(bare.json()).toMatchObject({ job: { kind, status: 'queued' } });
    const one = await app.inject({ method: 'POST', url: `/v1/${kind}`, payload: { stack: 'immich' } });
    expect(one.statusCode).toBe(202);
    expect(supervisor.requests).toEqual([{ kind }, { kind, stack: 'immich' }]);
  });

  it('POST /v1/check rejects a bad body with 400 and passes fastify 4xx messages through', async () => {
    const { app } = setup();
    const badName = await app.inject({ method: 'POST', url: '/v1/check', payload: { stack: 'Bad Name' } });
    expect(badName.statusCode).toBe(400);
    expect(badName.json().error.message).toContain('invalid stack name "Bad Name"');
    const extra = await app.inject({ method: 'POST', url: '/v1/check', payload: { stak: 'immich' } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toEqual({ error: { code: 'bad-request', message: 'body has unexpected field(s): "stak"' } });
    const badJson = await app.inject({ method: 'POST', url: '/v1/check', headers: { 'content-type': 'application/json' }, payload: '{nope' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ error: { code: 'bad-request', message: expect.stringMatching(/JSON/) } });
    const unknown = await app.inject({ method: 'POST', url: '/v1/check', payload: { stack: 'nextcloud' } });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('read-only app (TCP listener)', () => {
  it.each([
    ['/v1/stacks/immich/up'], ['/v1/stacks/immich/stop'], ['/v1/stacks/immich/down'], ['/v1/check'], ['/v1/gc'],
  ])('POST %s does not exist: 404 saying writes are unix-socket only', async (url) => {
    const { app, supervisor } = setup({ writable: false });
    const res = await app.inject({ method: 'POST', url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not-found', message: `no route POST ${url}: this listener is read-only; writes are accepted only on the unix socket` } });
    expect(supervisor.requests).toEqual([]);
  });

  it('serves the read routes', async () => {
    const { app } = setup({ writable: false });
    for (const url of ['/healthz', '/readyz', '/v1/stacks', '/v1/stacks/immich']) {
      expect((await app.inject({ url })).statusCode, url).toBe(200);
    }
  });
});

describe('GET /v1/jobs/:id', () => {
  it('returns the job now without wait, 404 unknown-job for an unknown id', async () => {
    const { app } = setup();
    await app.inject({ method: 'POST', url: '/v1/stacks/immich/up' });
    const res = await app.inject({ url: '/v1/jobs/job-1' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ job: { id: 'job-1', status: 'queued' } });
    const unknown = await app.inject({ url: '/v1/jobs/job-99?wait=1000' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'unknown-job', message: expect.stringContaining('"job-99"') } });
  });

  it('long-polls: resolves as soon as the job finishes, with its verdict', async () => {
    const { app, supervisor } = setup();
    await app.inject({ method: 'POST', url: '/v1/stacks/immich/up' });
    const pending = app.inject({ url: '/v1/jobs/job-1?wait=60000' });
    setImmediate(() => supervisor.finish('job-1', { result: { result: 'failed', reasonCode: 'compose-failed', reason: 'image not found', startedAt: 'a', finishedAt: 'b', durationMs: 10 } }));
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ job: { status: 'done', result: { result: 'failed', reasonCode: 'compose-failed', reason: 'image not found' } } });
  });

  it('long-poll returns the current state when the wait runs out', async () => {
    const { app } = setup();
    await app.inject({ method: 'POST', url: '/v1/gc' });
    const res = await app.inject({ url: '/v1/jobs/job-1?wait=20' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ job: { status: 'queued' } });
  });

  it.each([
    ['60001', '"60001"'], ['-1', '"-1"'], ['soon', '"soon"'], ['1.5', '"1.5"'], ['0x10', '"0x10"'], ['1e3', '"1e3"'],
    ['', '""'], ['%2010', '" 10"'], ['%2B5', '"+5"'], ['10%20', '"10 "'], ['1&wait=2', '["1","2"]'],
  ])('rejects wait=%s with 400 naming the parameter and what was expected', async (wait, got) => {
    const { app, supervisor } = setup();
    await app.inject({ method: 'POST', url: '/v1/stacks/immich/up' });
    const res = await app.inject({ url: `/v1/jobs/job-1?wait=${wait}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'bad-request', message: `wait: got ${got}; expected whole milliseconds as plain decimal digits, 0 to 60000` } });
    expect(supervisor.waitCalls).toBe(0);
  });

  it.each([['0', 0], ['20', 1], ['007', 1], ['60000', 1]])('accepts wait=%s', async (wait, waits) => {
    const { app, supervisor } = setup();
    await app.inject({ method: 'POST', url: '/v1/stacks/immich/up' });
    setImmediate(() => supervisor.finish('job-1', {}));
    const res = await app.inject({ url: `/v1/jobs/job-1?wait=${wait}` });
    expect(res.statusCode).toBe(200);
    expect(supervisor.waitCalls).toBe(waits);
  });

  it('serializes check/gc output as given', async () => {
    const { app, supervisor } = setup();
    supervisor.onRequest = (job) => supervisor.finish(job.id, { output: { lines: ['ok: immich'], counts: { violations: 0 } } });
    await app.inject({ method: 'POST', url: '/v1/check' });
    const res = await app.inject({ url: '/v1/jobs/job-1' });
    expect(res.json()).toMatchObject({ job: { output: { lines: ['ok: immich'], counts: { violations: 0 } } } });
  });
});

describe('every error fastify makes comes in the API error shape', () => {
  const shape = { error: { code: expect.any(String), message: expect.any(String) } };

  it('414 for a path segment longer than fastify takes, saying what the limit is', async () => {
    const res = await setup().app.inject({ url: `/v1/stacks/${'a'.repeat(200)}` });
    expect(res.statusCode).toBe(414);
    expect(res.json()).toEqual({ error: { code: 'bad-request', message: expect.stringMatching(/^URL too long: a path segment of "\/v1\/stacks\/a+…" is longer than 100 characters; stack names have at most 63$/) } });
  });

  it('400 for a URL with a broken %-escape', async () => {
    const res = await setup().app.inject({ url: '/v1/stacks/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'bad-request', message: 'the URL "/v1/stacks/%E0%A4%A" is not valid: a %-escape is broken' } });
  });

  it('413 for a body over the limit, naming the limit', async () => {
    const res = await setup().app.inject({ method: 'POST', url: '/v1/check', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ stack: 'x'.repeat(1_100_000) }) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'bad-request', message: 'request body larger than 1048576 bytes; this API takes at most {"stack":"NAME"}' } });
  });

  it('415 for a body that is not JSON, naming the content-type', async () => {
    const res = await setup().app.inject({ method: 'POST', url: '/v1/check', headers: { 'content-type': 'text/xml' }, payload: '<stack/>' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ error: { code: 'bad-request', message: 'unsupported content-type "text/xml": send application/json, or no body' } });
  });

  it.each([
    ['{nope', /JSON/], ['', /empty/], ['{"__proto__":{"x":1}}', /.+/],
  ])('400 for the JSON body %j', async (payload, message) => {
    const res = await setup().app.inject({ method: 'POST', url: '/v1/check', headers: { 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(shape);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(message);
  });
});

describe('error handler', () => {
  it('hides 5xx details from the client and logs them', async () => {
    const { app, supervisor, log } = setup();
    supervisor.listStacks = () => { throw new Error('state file /home/u/.local/state/stackd/state.json: EIO'); };
    const res = await app.inject({ url: '/v1/stacks' });
    expect(res.statusCode).toBe(500);
    const body = res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('internal');
    expect(body.error.message).toMatch(/^internal error in stackd \(request .+\); the details are in the stackd log$/);
    expect(res.body).not.toContain('EIO');
    const line = log.lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } }).find((l) => l.msg === 'request failed');
    expect(line?.level).toBe(50);
    expect(line?.err?.message).toContain('EIO');
  });

  it('passes the message through for any error code, even one named like an Object method', async () => {
    const { app, supervisor } = setup();
    supervisor.request = () => { throw Object.assign(new Error('immich is busy'), { statusCode: 409, code: 'constructor' }); };
    const res = await app.inject({ method: 'POST', url: '/v1/stacks/immich/up' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: { code: 'bad-request', message: 'immich is busy' } });
  });

  it('passes the message of a 4xx error through', async () => {
    const { app, supervisor } = setup();
    supervisor.request = () => { throw Object.assign(new Error('immich is being removed; try again later'), { statusCode: 409 }); };
    const res = await app.inject({ method: 'POST', url: '/v1/stacks/immich/up' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: { code: 'bad-request', message: 'immich is being removed; try again later' } });
  });
});

describe('POST /v1/update', () => {
  it.each([
    [undefined, { kind: 'update', dryRun: false }],
    ['{}', { kind: 'update', dryRun: false }],
    ['{"dryRun":true}', { kind: 'update', dryRun: true }],
    ['{"stack":"immich","dryRun":false}', { kind: 'update', stack: 'immich', dryRun: false }],
  ])('body %s starts an update job with %j', async (payload, expected) => {
    const { app, supervisor } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/update', ...(payload === undefined ? {} : { payload, headers: { 'content-type': 'application/json' } }) });
    expect(res.statusCode).toBe(202);
    expect(res.json().job.kind).toBe('update');
    expect(supervisor.jobRequests).toEqual([expected]);
  });

  it.each([
    ['{"stack":"nosuch"}', 404, 'unknown-stack'],
    ['{"dryRun":"yes"}', 400, 'bad-request'],
    ['{"force":true}', 400, 'bad-request'],
  ])('%s → %i %s, nothing started', async (payload, status, code) => {
    const { app, supervisor } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/update', payload, headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(supervisor.jobRequests).toEqual([]);
  });

  it('does not exist on the read-only TCP listener (a body there is refused before routing)', async () => {
    const { app, supervisor } = setup({ writable: false });
    expect((await app.inject({ method: 'POST', url: '/v1/update' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/v1/update', payload: '{}', headers: { 'content-type': 'application/json' } })).statusCode).toBe(413);
    expect(supervisor.jobRequests).toEqual([]);
  });
});
