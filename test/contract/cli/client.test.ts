// stackctl's HTTP client (node:http over the unix socket) against a raw socket server that answers byte for byte
// what each test says: malformed answers, answers in pieces, stalls and dropped connections.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AnswerTimeoutError, ApiError, DaemonUnreachableError, StackdClient } from '../../../src/cli/client.js';
import { main } from '../../../src/cli/stackctl.js';
import { makeStack } from '../http/fake-supervisor.js';

let dir: string;
let socket: string;
let server: Server;
/** What the server does with each request: gets the request's head and body, writes to the socket. */
let answer: (socket: Socket, request: string) => void;
const requests: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackctl-client-'));
  socket = join(dir, 'stackd.sock');
  server = createServer((s) => {
    let text = '';
    s.on('data', (d: Buffer) => {
      text += d.toString();
      const head = text.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head))?.[1] ?? 0);
      if (text.length < head + 4 + length) return;
      requests.push(text);
      answer(s, text);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => { requests.length = 0; });

function http(status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): string {
  const lines = Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(body)) }).map(([k, v]) => `${k}: ${v}`);
  return `HTTP/1.1 ${status} X\r\n${lines.join('\r\n')}\r\nconnection: close\r\n\r\n${body}`;
}

const answering = (status: number, body: string) => (s: Socket) => s.end(http(status, body));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    env: { STACKD_SOCKET: socket }, uid: 1000,
    stdout: { write: (t: string) => { stdout += t; } }, stderr: { write: (t: string) => { stderr += t; } },
  });
  return { code, stdout, stderr };
}

describe('requests', () => {
  it('GET and POST over the socket, one connection each, closed with the answer', async () => {
    answer = answering(202, JSON.stringify({ job: { id: 'j1', kind: 'update', status: 'queued', createdAt: 'x' } }));
    const client = new StackdClient(socket);
    await client.startJob('update', 'immich', { dryRun: true });
    answer = answering(202, JSON.stringify({ job: { id: 'j2', kind: 'up', stack: 'immich', status: 'queued', createdAt: 'x' } }));
    await client.requestAction('immich', 'up');
    answer = answering(200, JSON.stringify({ stacks: [] }));
    await client.listStacks();
    await client.close();
    const [update, up, list] = requests.map((r) => r.toLowerCase());
    expect(update).toMatch(/^post \/v1\/update http\/1\.1\r\n/);
    expect(update).toContain('\r\ncontent-type: application/json\r\n');
    expect(update).toMatch(/\r\n\r\n\{"stack":"immich","dryrun":true\}$/);
    // a POST without a body says so (an empty chunked body is refused by fastify)
    expect(up).toMatch(/^post \/v1\/stacks\/immich\/up http\/1\.1\r\n/);
    expect(up).toContain('\r\ncontent-length: 0\r\n');
    expect(up).not.toContain('transfer-encoding');
    expect(list).toMatch(/^get \/v1\/stacks http\/1\.1\r\n/);
    for (const r of [update, up, list]) expect(r).toContain('\r\nconnection: close\r\n');
  });

  it('reads an answer that arrives in pieces, chunked, with a character split across chunks', async () => {
    const body = Buffer.from(JSON.stringify({ stacks: [makeStack('café-日本')] }));
    const cut = body.indexOf(Buffer.from('日')) + 1; // inside the three bytes of 日
    answer = (s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n');
      const parts = [body.subarray(0, cut), body.subarray(cut)];
      let i = 0;
      const next = () => {
        const part = parts[i++];
        if (!part) { s.end('0\r\n\r\n'); return; }
        s.write(`${part.length.toString(16)}\r\n`);
        s.write(Buffer.concat([part, Buffer.from('\r\n')]));
        setTimeout(next, 10);
      };
      next();
    };
    const stacks = await new StackdClient(socket).listStacks();
    expect(stacks.map((s) => s.name)).toEqual(['café-日本']);
  });
});

describe('answers stackctl does not accept', () => {
  it.each([
    ['no JSON', 200, 'Internal Server Error', /^stackd answered GET \/v1\/stacks with HTTP 200 and no JSON: Internal Server Error$/],
    ['JSON of the wrong shape', 200, JSON.stringify({ stacks: [{ name: 'x' }] }), /^unexpected answer from stackd to GET \/v1\/stacks \(are stackctl and stackd the same version\?\)$/],
    ['an unknown enum value', 200, JSON.stringify({ stacks: [makeStack('x', { phase: 'dancing' as never })] }), /^unexpected answer from stackd/],
    ['an error status without the error shape', 500, JSON.stringify({ message: 'boom' }), /^stackd answered GET \/v1\/stacks with HTTP 500$/],
    ['an error status with an unknown error code', 500, JSON.stringify({ error: { code: 'weird', message: 'boom' } }), /^stackd answered GET \/v1\/stacks with HTTP 500$/],
  ])('%s: ApiError bad-response', async (_what, status, body, message) => {
    answer = answering(status, body);
    const err = await new StackdClient(socket).listStacks().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status, apiCode: 'bad-response', message: expect.stringMatching(message) });
  });

  it('no JSON: the text quoted is cut to 200 characters and cleaned of terminal controls', async () => {
    answer = answering(502, `\u001b[2J${'x'.repeat(300)}`);
    const err = await new StackdClient(socket).listStacks().catch((e: unknown) => e) as ApiError;
    expect(err.message).toBe(`stackd answered GET /v1/stacks with HTTP 502 and no JSON: ${'x'.repeat(196)}`);
  });

  it('through the CLI: exit 1 with the message', async () => {
    answer = answering(200, JSON.stringify({ stacks: 'none' }));
    expect(await cli(['status'])).toEqual({
      code: 1, stdout: '', stderr: 'stackctl: unexpected answer from stackd to GET /v1/stacks (are stackctl and stackd the same version?)\n',
    });
  });

  it('an error in the API shape keeps its code: unknown-stack exits 4, shutting-down 3, bad-request 2', async () => {
    for (const [code, status, exit] of [['unknown-stack', 404, 4], ['shutting-down', 503, 3], ['bad-request', 400, 2], ['internal', 500, 1]] as const) {
      answer = answering(status, JSON.stringify({ error: { code, message: `said ${code}` } }));
      expect(await cli(['status', 'immich'])).toEqual({ code: exit, stdout: '', stderr: `stackctl: said ${code}\n` });
    }
  });
});

describe('connections that fail', () => {
  it('no socket file: DaemonUnreachableError ENOENT', async () => {
    const err = await new StackdClient(join(dir, 'none.sock')).listStacks().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonUnreachableError);
    expect(err).toMatchObject({ reason: 'ENOENT', message: `cannot reach stackd at ${join(dir, 'none.sock')} (ENOENT)` });
  });

  it('a socket file nobody listens on: ECONNREFUSED', async () => {
    // what a killed daemon leaves: the file of a listening socket nobody accepts on (process.exit skips the unlink)
    const stale = join(dir, 'stale.sock');
    execFileSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.exit(0))`]);
    const err = await new StackdClient(stale).listStacks().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonUnreachableError);
    expect((err as DaemonUnreachableError).reason).toBe('ECONNREFUSED');
  });

  it('the daemon closes the connection before answering: unreachable (ECONNRESET), as before', async () => {
    answer = (s) => s.destroy();
    const err = await new StackdClient(socket).listStacks().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonUnreachableError);
  });

  it('the daemon closes the connection in the middle of the answer: an error, not unreachable', async () => {
    answer = (s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"stacks":[');
      setTimeout(() => s.destroy(), 20);
    };
    const err = await new StackdClient(socket).listStacks().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(DaemonUnreachableError);
  });

  it.each([
    ['no answer at all', (_s: Socket) => undefined],
    ['an answer that stalls after its head', (s: Socket) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"sta')],
  ])('%s: AnswerTimeoutError after answerTimeoutMs', async (_what, stall) => {
    answer = stall;
    const client = new StackdClient(socket, { answerTimeoutMs: 100 });
    const err = await client.getJob('j1', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnswerTimeoutError);
    expect((err as Error).message).toBe('stackd did not answer GET /v1/jobs/j1?wait=0 within 0.1s');
  });
});
