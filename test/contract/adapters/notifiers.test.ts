// The three notifiers against an in-process node:http server on loopback: the request line, headers and body
// each peer documents (Gotify "Create a message", ntfy "Publish", our webhook's JSON), token files read at each
// send, and every failure naming the notifier and its URL — never the token.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createNotifiers, GotifyNotifier, NotifierHttpError, NotifierTimeoutError, NotifierTokenFileError, NotifierUnreachableError,
  NTFY_MAX_BODY_BYTES, NtfyNotifier, WebhookNotifier,
} from '../../../src/adapters/notifiers.js';
import { InvalidOptionError, StackdError } from '../../../src/adapters/errors.js';
import type { Notification } from '../../../src/supervisor/ports.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = (res: ServerResponse, req: Seen) => void;

let dir: string;
let server: Server;
let base: string;
let seen: Seen[];
let answer: Answer;

const TOKEN = 'AbCdEf.gotify-app-token_123';

const rolledBack: Notification = {
  event: 'update-rolled-back',
  title: 'stackd: update rolled back on nas: immich/server',
  message: 'immich/server ghcr.io/immich-app/immich-server:release: health gate: unhealthy after 2m\n  last log line:\n  | FATAL: db',
  priority: 'high',
  tags: ['rewind', 'update-rolled-back'],
  items: [{ stack: 'immich', service: 'server', image: 'ghcr.io/immich-app/immich-server:release', reason: 'health gate: unhealthy after 2m' }],
};

/** RFC 2047 B-words as Go's mime.WordDecoder (ntfy) reads them: the blank between two words dropped. */
function decodeWords(value: string): string {
  const parts = value.split(/(=\?UTF-8\?B\?[A-Za-z0-9+/=]*\?=)/).filter((p, i, all) =>
    !(p.trim() === '' && i > 0 && i < all.length - 1 && all[i - 1]?.startsWith('=?') && all[i + 1]?.startsWith('=?')));
  return Buffer.concat(parts.map((p) => {
    const m = /^=\?UTF-8\?B\?(.*)\?=$/.exec(p);
    return m ? Buffer.from(m[1] ?? '', 'base64') : Buffer.from(p);
  })).toString('utf8');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-notify-'));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      answer(res, s);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  seen = [];
  answer = (res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"id":1}'); };
  await writeFile(join(dir, 'gotify.token'), `${TOKEN}\n`);
});

describe('GotifyNotifier', () => {
  it('POSTs {url}/message with X-Gotify-Key and JSON {title, message, priority}', async () => {
    const g = new GotifyNotifier({ url: base, tokenFile: join(dir, 'gotify.token') });
    expect(g.kind).toBe('gotify');
    expect(g.target).toBe(`${base}/message`);
    await g.send(rolledBack);
    expect(seen).toHaveLength(1);
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/message');
    expect(req?.headers['x-gotify-key']).toBe(TOKEN);
    expect(req?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(req?.body ?? '')).toEqual({ title: rolledBack.title, message: rolledBack.message, priority: 8 });
  });

  it.each<[Notification['priority'], number | undefined, number]>([
    ['high', undefined, 8], ['default', undefined, 5], ['low', undefined, 2], ['high', 3, 3], ['low', 10, 10], ['default', 0, 0],
  ])('level %s with config priority %s → %d', async (level, configured, expected) => {
    const g = new GotifyNotifier({ url: base, tokenFile: join(dir, 'gotify.token'), ...(configured !== undefined ? { priority: configured } : {}) });
    await g.send({ ...rolledBack, priority: level });
    expect((JSON.parse(seen[0]?.body ?? '') as { priority: number }).priority).toBe(expected);
  });

  it('behind a path (and with a trailing slash) posts to {path}/message', async () => {
    await new GotifyNotifier({ url: `${base}/gotify/`, tokenFile: join(dir, 'gotify.token') }).send(rolledBack);
    expect(seen[0]?.url).toBe('/gotify/message');
  });

  it('reads the token file at every send: a rotated token is used at once', async () => {
    const g = new GotifyNotifier({ url: base, tokenFile: join(dir, 'gotify.token') });
    await g.send(rolledBack);
    await writeFile(join(dir, 'gotify.token'), '  rotated-token-0002  \n');
    await g.send(rolledBack);
    expect(seen.map((s) => s.headers['x-gotify-key'])).toEqual([TOKEN, 'rotated-token-0002']);
  });

  it('a missing token file: a clear error naming the file, and nothing is sent', async () => {
    const file = join(dir, 'nope.token');
    const g = new GotifyNotifier({ url: base, tokenFile: file });
    const err = await g.send(rolledBack).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifierTokenFileError);
    expect(err).toBeInstanceOf(StackdError);
    expect((err as StackdError).code).toBe('STACKD_NOTIFY_TOKEN_FILE');
    expect((err as Error).message).toBe(
      `gotify notifier: token file ${file} does not exist; write the token into it (one line), readable by the user stackd runs as, or fix tokenFile in the config`,
    );
    expect(seen).toEqual([]);
  });

  it.each([
    ['empty', '\n\n', 'is empty'],
    ['two lines', 'a-token\nX-Other: 1\n', 'holds more than one line'],
  ])('a token file that is %s is refused, without quoting it', async (_n, text, problem) => {
    await writeFile(join(dir, 'bad.token'), text);
    const err = await new GotifyNotifier({ url: base, tokenFile: join(dir, 'bad.token') }).send(rolledBack).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`token file ${join(dir, 'bad.token')} ${problem}`);
    expect((err as Error).message).not.toContain('X-Other');
    expect(seen).toEqual([]);
  });

  it('a 401: an error naming the notifier and URL and what to check, without the token even when the server echoes it', async () => {
    answer = (res, req) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Unauthorized', errorCode: 401, errorDescription: `token ${String(req.headers['x-gotify-key'])} is not valid` }));
    };
    const err = await new GotifyNotifier({ url: base, tokenFile: join(dir, 'gotify.token') }).send(rolledBack).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifierHttpError);
    expect(err).toMatchObject({ code: 'STACKD_NOTIFY_HTTP', kind: 'gotify', target: `${base}/message`, statusCode: 401 });
    const msg = (err as Error).message;
    expect(msg).toContain(`gotify notifier: POST ${base}/message answered 401`);
    expect(msg).toContain('token *** is not valid');
    expect(msg).toContain(`check the application token in ${join(dir, 'gotify.token')}`);
    expect(msg).not.toContain(TOKEN);
    expect(JSON.stringify(err)).not.toContain(TOKEN);
  });

  it('a URL with user:password: sent as Basic auth, never shown', async () => {
    const url = `${base.replace('http://', 'http://stackd:pa55word-xyz@')}/`;
    const g = new GotifyNotifier({ url, tokenFile: join(dir, 'gotify.token') });
    expect(g.target).toBe(`${base}/message`);
    answer = (res) => { res.writeHead(500); res.end('pa55word-xyz broke'); };
    const err = await g.send(rolledBack).catch((e: unknown) => e);
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from('stackd:pa55word-xyz').toString('base64')}`);
    expect((err as Error).message).toBe(`gotify notifier: POST ${base}/message answered 500 (*** broke); the server failed; check its logs`);
  });
});

describe('NtfyNotifier', () => {
  beforeEach(async () => {
    await writeFile(join(dir, 'ntfy.token'), 'tk_ntfyaccesstoken0000000000001\n');
  });

  it('POSTs {url}/{topic}: the message as body, title, priority and tags as headers, the token as Bearer', async () => {
    const n = new NtfyNotifier({ url: base, topic: 'homelab-stacks', tokenFile: join(dir, 'ntfy.token') });
    expect(n.target).toBe(`${base}/homelab-stacks`);
    await n.send(rolledBack);
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/homelab-stacks');
    expect(req?.headers['x-title']).toBe(rolledBack.title);
    expect(req?.headers['x-priority']).toBe('high');
    expect(req?.headers['x-tags']).toBe('rewind,update-rolled-back');
    expect(req?.headers.authorization).toBe('Bearer tk_ntfyaccesstoken0000000000001');
    expect(req?.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(req?.body).toBe(rolledBack.message);
  });

  it('a non-ASCII title travels as RFC 2047 words (ASCII on the wire) and decodes to itself', async () => {
    await new NtfyNotifier({ url: base, topic: 't' }).send({ ...rolledBack, title: 'Ünïcode ✓', tags: ['warning', 'ünï'] });
    const title = String(seen[0]?.headers['x-title']);
    expect(title).toBe('=?UTF-8?B?w5xuw69jb2RlIOKckw==?=');
    expect(decodeWords(title)).toBe('Ünïcode ✓');
    expect(String(seen[0]?.headers['x-tags']).split(',').map(decodeWords)).toEqual(['warning', 'ünï']);
  });

  it('a long non-ASCII title: several words, decoding to the whole title', async () => {
    const long = `stackd: update rolled back on ${'höst-✓'.repeat(20)}: immich/server`;
    await new NtfyNotifier({ url: base, topic: 't' }).send({ ...rolledBack, title: long });
    expect(decodeWords(String(seen[0]?.headers['x-title']))).toBe(long);
  });

  it('without tokenFile: no Authorization; the priorities are ntfy\'s names', async () => {
    const n = new NtfyNotifier({ url: `${base}/`, topic: 't' });
    for (const p of ['high', 'default', 'low'] as const) await n.send({ ...rolledBack, priority: p });
    expect(seen.map((s) => [s.url, s.headers.authorization, s.headers['x-priority']])).toEqual([
      ['/t', undefined, 'high'], ['/t', undefined, 'default'], ['/t', undefined, 'low'],
    ]);
  });

  it('a body at or over ntfy\'s 4096-byte limit is cut below it (at 4096 ntfy makes it an attachment and refuses)', async () => {
    const message = Array.from({ length: 200 }, (_, i) => `line ${i} ${'é'.repeat(20)}`).join('\n');
    await new NtfyNotifier({ url: base, topic: 't' }).send({ ...rolledBack, message });
    const body = seen[0]?.body ?? '';
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(NTFY_MAX_BODY_BYTES);
    expect(NTFY_MAX_BODY_BYTES).toBeLessThan(4096);
    expect(body.endsWith('\n… (truncated)')).toBe(true);
    expect(message.startsWith(body.slice(0, -'\n… (truncated)'.length))).toBe(true);
  });

  it('a 403 names ntfy and the topic URL and what to check, never the token', async () => {
    answer = (res) => { res.writeHead(403, { 'content-type': 'application/json' }); res.end('{"code":40301,"http":403,"error":"forbidden"}'); };
    const err = await new NtfyNotifier({ url: base, topic: 't', tokenFile: join(dir, 'ntfy.token') }).send(rolledBack).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `ntfy notifier: POST ${base}/t answered 403 ({"code":40301,"http":403,"error":"forbidden"}); ` +
        `check the access token in ${join(dir, 'ntfy.token')} and that it may write to the topic`,
    );
    expect((err as Error).message).not.toContain('tk_');
  });
});

describe('WebhookNotifier', () => {
  it('POSTs JSON {event, title, message, priority, tags, items, host} with the configured headers', async () => {
    const w = new WebhookNotifier({ url: `${base}/hooks/stackd?source=nas`, host: 'nas', headers: { 'X-Source': 'stackd', Authorization: 'Bearer hook-secret-1' } });
    expect(w.target).toBe(`${base}/hooks/stackd?source=***`);
    await w.send(rolledBack);
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/hooks/stackd?source=nas');
    expect(req?.headers['x-source']).toBe('stackd');
    expect(req?.headers.authorization).toBe('Bearer hook-secret-1');
    expect(req?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(req?.body ?? '')).toEqual({
      event: 'update-rolled-back', title: rolledBack.title, message: rolledBack.message, priority: 'high',
      tags: ['rewind', 'update-rolled-back'], items: rolledBack.items, host: 'nas',
    });
  });

  it('a configured Content-Type replaces ours (one header, not two)', async () => {
    await new WebhookNotifier({ url: base, host: 'nas', headers: { 'Content-Type': 'application/vnd.stackd+json' } }).send(rolledBack);
    expect(seen[0]?.headers['content-type']).toBe('application/vnd.stackd+json');
  });

  it('a non-2xx names the webhook and its URL; configured header values are scrubbed from the answer', async () => {
    answer = (res) => { res.writeHead(404); res.end('no hook for Bearer hook-secret-1'); };
    const err = await new WebhookNotifier({ url: `${base}/x`, host: 'nas', headers: { Authorization: 'Bearer hook-secret-1' } })
      .send(rolledBack).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`webhook notifier: POST ${base}/x answered 404 (no hook for ***); check the URL in the config`);
  });

  it('refuses a header value with a line break at construction, without printing it', () => {
    expect(() => new WebhookNotifier({ url: base, host: 'nas', headers: { 'X-Token': 'secret\r\nX-Evil: 1' } }))
      .toThrow('Expected `headers.X-Token` to be a one-line string, got `(hidden)` (string)');
  });
});

describe('timeouts and unreachable servers', () => {
  it('a server that never answers: NotifierTimeoutError after timeoutMs', async () => {
    answer = () => { /* never answers */ };
    const started = Date.now();
    const err = await new NtfyNotifier({ url: base, topic: 't', timeoutMs: 300 }).send(rolledBack).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifierTimeoutError);
    expect((err as Error).message).toBe(`ntfy notifier: POST ${base}/t did not answer within 300 ms; is the server up and the URL right?`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a 2xx whose body then stalls counts as delivered (a retry would be a second message)', async () => {
    answer = (res) => { res.writeHead(200); res.write('{"id":'); };
    const g = new GotifyNotifier({ url: base, tokenFile: join(dir, 'gotify.token'), timeoutMs: 300 });
    await expect(g.send(rolledBack)).resolves.toBeUndefined();
  });

  it('a 500 whose body then stalls is reported as the 500 it is, with what came', async () => {
    answer = (res) => { res.writeHead(500); res.write('partial'); };
    const err = await new GotifyNotifier({ url: base, tokenFile: join(dir, 'gotify.token'), timeoutMs: 300 }).send(rolledBack).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifierHttpError);
    expect((err as Error).message).toBe(`gotify notifier: POST ${base}/message answered 500 (partial); the server failed; check its logs`);
  });

  it('nothing listening: NotifierUnreachableError with the socket error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await new WebhookNotifier({ url: `http://127.0.0.1:${port}/hook`, host: 'nas' }).send(rolledBack).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifierUnreachableError);
    expect((err as Error).message).toBe(`webhook notifier: cannot reach http://127.0.0.1:${port}/hook (ECONNREFUSED); is the server up and the URL right?`);
  });
});

describe('construction', () => {
  it.each<[string, () => unknown, string]>([
    ['a relative URL', () => new GotifyNotifier({ url: 'gotify.lan', tokenFile: '/t' }), 'Expected `url` to be an absolute http(s) URL, got `gotify.lan` (string)'],
    ['an ftp URL', () => new WebhookNotifier({ url: 'ftp://x/y', host: 'h' }), 'Expected `url` to be an http(s) URL'],
    ['a relative token file', () => new GotifyNotifier({ url: 'https://g.lan', tokenFile: 'gotify.token' }), 'Expected `tokenFile` to be an absolute path'],
    ['a Gotify priority of 11', () => new GotifyNotifier({ url: 'https://g.lan', tokenFile: '/t', priority: 11 }), 'Expected `priority` to be an integer from 0 to 10, got `11` (number)'],
    ['a topic with a slash', () => new NtfyNotifier({ url: 'https://ntfy.sh', topic: 'a/b' }), 'Expected `topic` to be an ntfy topic'],
    ['a timeout of 0', () => new NtfyNotifier({ url: 'https://ntfy.sh', topic: 'a', timeoutMs: 0 }), 'Expected `timeoutMs` to be a number of milliseconds above 0'],
  ])('refuses %s', (_n, make, message) => {
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(message);
  });

  it('createNotifiers builds one notifier per config entry, in order', async () => {
    const list = createNotifiers([
      { kind: 'gotify', url: base, tokenFile: join(dir, 'gotify.token'), priority: 6 },
      { kind: 'ntfy', url: base, topic: 'stacks' },
      { kind: 'webhook', url: `${base}/hook`, headers: { 'X-Source': 'stackd' } },
    ], { host: 'nas' });
    expect(list.map((n) => [n.kind, n.target])).toEqual([['gotify', `${base}/message`], ['ntfy', `${base}/stacks`], ['webhook', `${base}/hook`]]);
    for (const n of list) await n.send(rolledBack);
    expect(seen.map((s) => s.url)).toEqual(['/message', '/stacks', '/hook']);
    expect((JSON.parse(seen[0]?.body ?? '') as { priority: number }).priority).toBe(6);
    expect((JSON.parse(seen[2]?.body ?? '') as { host: string }).host).toBe('nas');
  });
});
