// The relay compose talks through (src/adapters/podman-relay.ts), against an in-process stand-in for podman's
// socket that counts what reaches it: which answers are reused, that everything else (bodies, streams,
// hijacked connections, errors) passes through unchanged, and how the socket file is made.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PodmanRelay } from '../../../src/adapters/podman-relay.js';

let dir: string;
let upstream: Server;
let hits: string[];
let relay: PodmanRelay;
let clock: number;
let infoStatus: number;
/** the stand-in's hijacked sockets: its server no longer tracks them */
let tunnels: Socket[];

/** Polls until `done` (the relay's sibling fetch runs on its own). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(done()).toBe(true);
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve) => server.listen(path, () => resolve()));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-relay-'));
  hits = [];
  tunnels = [];
  clock = 1_000_000;
  infoStatus = 200;
  upstream = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      if (req.url?.endsWith('/info') || req.url?.endsWith('/version')) {
        res.writeHead(infoStatus, { 'Content-Type': 'application/json', 'Api-Version': '1.41' });
        res.end(JSON.stringify({ answer: hits.length, url: req.url }));
      } else if (req.url === '/slow') {
        setTimeout(() => { res.writeHead(200); res.end('slow'); }, 150);
      } else if (req.url === '/stream') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"status":"first"}\n');
        setTimeout(() => res.end('{"status":"last"}\n'), 200);
      } else {
        res.writeHead(201, { 'Content-Type': 'text/plain', 'X-Echo-Length': String(Buffer.concat(body).length) });
        res.end(`${req.method} ${req.url} ${Buffer.concat(body).toString()}`);
      }
    });
  });
  upstream.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    hits.push(`UPGRADE ${req.url}`);
    tunnels.push(socket);
    socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}`));
  });
  await listen(upstream, join(dir, 'podman.sock'));
  relay = new PodmanRelay({ listenPath: join(dir, 'stackd', 'podman-relay.sock'), upstreamPath: join(dir, 'podman.sock'), ttlMs: 60_000, now: () => clock });
  await relay.start();
});

afterEach(async () => {
  await relay.stop();
  for (const t of tunnels) t.destroy();
  await new Promise<void>((r) => upstream.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

interface Answer { status: number; headers: IncomingMessage['headers']; body: string; firstChunkAtMs?: number; endAtMs?: number }

function ask(method: string, path: string, body?: string, socketPath = relay.path): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = request({ socketPath, method, path, headers: body ? { 'Content-Type': 'text/plain' } : {} }, (res) => {
      let text = '';
      let first: number | undefined;
      res.on('data', (c: Buffer) => {
        first ??= Date.now() - started;
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ...(first !== undefined ? { firstChunkAtMs: first } : {}), endAtMs: Date.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('PodmanRelay: /info and /version', () => {
  const of = (path: string) => hits.filter((h) => h === `GET ${path}`);

  it.each(['/v1.41/info', '/v1.41/version', '/info', '/version'])('GET %s: fetched once, then reused until the copy is ttlMs old', async (path) => {
    const a = await ask('GET', path);
    const b = await ask('GET', path);
    expect(a).toMatchObject({ status: 200, body: b.body });
    expect(a.headers['api-version']).toBe('1.41');
    expect(of(path)).toHaveLength(1);
    clock += 60_000;
    const c = await ask('GET', path);
    expect(c.body).not.toBe(a.body);
    expect(of(path)).toHaveLength(2);
    expect(relay.counts.served).toBe(1);
  });

  it.each([
    ['/v1.41/info', '/v1.41/version'],
    ['/v1.41/version', '/v1.41/info'],
    ['/info', '/version'],
  ])('fetching %s fetches %s beside it (compose asks it later in the same run), under the same prefix', async (asked, sibling) => {
    await ask('GET', asked);
    await until(() => of(sibling).length === 1);
    const before = relay.counts.served;
    await ask('GET', sibling);
    expect(of(sibling)).toHaveLength(1);
    expect(relay.counts.served).toBe(before + 1);
    // a fresh sibling is not fetched again when the first one's copy is renewed
    clock += 30_000;
    await ask('GET', asked);
    expect(of(asked)).toHaveLength(1);
    expect(of(sibling)).toHaveLength(1);
  });

  it('many compose runs asking at once share one fetch', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask('GET', '/v1.41/version')));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(of('/v1.41/version')).toHaveLength(1);
  });

  it('an error answer is passed on but not kept', async () => {
    infoStatus = 500;
    expect((await ask('GET', '/v1.41/info')).status).toBe(500);
    infoStatus = 200;
    expect((await ask('GET', '/v1.41/info')).status).toBe(200);
    expect(of('/v1.41/info')).toHaveLength(2);
  });

  it.each([
    ['libpod info (compose does not ask it; podman\'s own clients may want it fresh)', 'GET', '/v5.0.0/libpod/info'],
    ['a container called info', 'GET', '/v1.41/containers/info/json'],
    ['not a GET', 'POST', '/v1.41/info'],
  ])('%s: always passed through', async (_what, method, path) => {
    await ask(method, path);
    await ask(method, path);
    expect(hits).toEqual([`${method} ${path}`, `${method} ${path}`]);
  });

  it('ttlMs 0 reuses nothing', async () => {
    await relay.stop();
    relay = new PodmanRelay({ listenPath: join(dir, 'stackd', 'podman-relay.sock'), upstreamPath: join(dir, 'podman.sock'), ttlMs: 0 });
    await relay.start();
    await ask('GET', '/v1.41/info');
    await ask('GET', '/v1.41/info');
    expect(hits).toHaveLength(2);
  });
});

describe('PodmanRelay: everything else passes through', () => {
  it('a request body, the status and the headers', async () => {
    const a = await ask('POST', '/v1.41/containers/create?name=x', '{"Image":"busybox"}');
    expect(a).toMatchObject({ status: 201, body: 'POST /v1.41/containers/create?name=x {"Image":"busybox"}' });
    expect(a.headers['x-echo-length']).toBe('19');
  });

  it('a stream arrives as it is written, not at its end', async () => {
    const a = await ask('GET', '/stream');
    expect(a.body).toBe('{"status":"first"}\n{"status":"last"}\n');
    expect(a.firstChunkAtMs).toBeLessThan((a.endAtMs ?? 0) - 100);
  });

  it('a hijacked connection (attach/exec: 101, then raw bytes both ways)', async () => {
    const sock = connect(relay.path);
    const got = await new Promise<string>((resolve, reject) => {
      let text = '';
      sock.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\r\n\r\n') && !text.includes('echo:')) sock.write('ping');
        if (text.includes('echo:ping')) resolve(text);
      });
      sock.on('error', reject);
      sock.write('POST /v1.41/containers/x/attach?stream=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    });
    sock.destroy();
    expect(got).toMatch(/^HTTP\/1\.1 101 UPGRADED/);
    expect(got).toContain('echo:ping');
    expect(hits).toEqual(['UPGRADE /v1.41/containers/x/attach?stream=1']);
  });

  it('stop() ends an open hijacked connection instead of waiting for it', async () => {
    const sock = connect(relay.path);
    await new Promise<void>((resolve) => {
      sock.once('data', () => resolve());
      sock.write('POST /v1.41/exec/x/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    });
    const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
    await relay.stop();
    await closed;
    await relay.start();
  });

  it('onRequest is told of every request as it arrives: passed through, answered from a copy, hijacked', async () => {
    await relay.stop();
    const seen: string[] = [];
    relay = new PodmanRelay({
      listenPath: join(dir, 'stackd', 'podman-relay.sock'), upstreamPath: join(dir, 'podman.sock'), ttlMs: 60_000, now: () => clock,
      onRequest: (method, url) => seen.push(`${method} ${url}`),
    });
    await relay.start();
    await ask('GET', '/v1.41/info');
    await until(() => hits.includes('GET /v1.41/version')); // fetched beside /info, by the relay itself
    await ask('GET', '/v1.41/info');
    await ask('POST', '/v1.41/containers/create?name=x', '{}');
    const sock = connect(relay.path);
    await new Promise<void>((resolve) => {
      sock.once('data', () => resolve());
      sock.write('POST /v1.41/exec/x/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    });
    sock.destroy();
    expect(seen).toEqual(['GET /v1.41/info', 'GET /v1.41/info', 'POST /v1.41/containers/create?name=x', 'POST /v1.41/exec/x/start']);
    // the two fetches run side by side: either may reach podman first
    expect([...hits.slice(0, 2)].sort()).toEqual(['GET /v1.41/info', 'GET /v1.41/version']);
    expect(hits.slice(2)).toEqual(['POST /v1.41/containers/create?name=x', 'UPGRADE /v1.41/exec/x/start']);
  });

  it('onAnswer is told how long podman took to start each passed-through answer (headers, not the whole body)', async () => {
    await relay.stop();
    const seen: { url: string; ms: number }[] = [];
    relay = new PodmanRelay({
      listenPath: join(dir, 'stackd', 'podman-relay.sock'), upstreamPath: join(dir, 'podman.sock'), ttlMs: 60_000, now: () => clock,
      onAnswer: (_method, url, ms) => seen.push({ url, ms }),
    });
    await relay.start();
    await ask('GET', '/v1.41/info');
    await ask('GET', '/v1.41/info'); // from the copy: podman was not asked
    await ask('GET', '/slow');
    const stream = await ask('GET', '/stream');
    expect(stream.endAtMs).toBeGreaterThanOrEqual(190);
    expect(seen.map((s) => s.url)).toEqual(['/slow', '/stream']);
    expect(seen[0]!.ms).toBeGreaterThanOrEqual(140);
    // the stream's headers came at once and its end 200 ms later: the time counted is the headers'
    expect(seen[1]!.ms).toBeLessThanOrEqual((stream.endAtMs ?? 0) - 150);
  });

  it('podman not there: the connection is closed unanswered, as podman\'s missing socket would (for /info too)', async () => {
    await new Promise<void>((r) => upstream.close(() => r()));
    await rm(join(dir, 'podman.sock'), { force: true });
    await expect(ask('GET', '/v1.41/containers/json')).rejects.toThrow(/socket hang up|ECONNRESET/);
    await expect(ask('GET', '/v1.41/info')).rejects.toThrow(/socket hang up|ECONNRESET/);
    upstream = createServer();
    await listen(upstream, join(dir, 'podman.sock'));
  });
});

describe('PodmanRelay: its socket file', () => {
  it('is 0600', async () => {
    expect((await stat(relay.path)).mode & 0o777).toBe(0o600);
  });

  it('replaces a socket a dead stackd left behind', async () => {
    await relay.stop();
    // a socket file without a listener, the way a SIGKILL leaves it
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(relay.path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    await new Promise((resolve) => child.once('exit', resolve));
    expect((await stat(relay.path)).isSocket()).toBe(true);
    await relay.start();
    expect((await ask('GET', '/v1.41/info')).status).toBe(200);
  });

  it('refuses a socket something still listens on (another stackd\'s relay), and leaves it working', async () => {
    await relay.stop();
    const other = createServer((_req, res) => res.end('other'));
    await listen(other, relay.path);
    try {
      await expect(relay.start()).rejects.toThrow(`${relay.path}: another process listens there (another stackd's podman relay?); stop it, or give this stackd its own api.socket directory`);
      expect((await stat(relay.path)).isSocket()).toBe(true);
    } finally {
      await new Promise<void>((r) => { other.close(() => r()); });
    }
    await relay.start();
  });

  it('refuses a symlink at its path, and leaves it and its target alone', async () => {
    await relay.stop();
    const target = join(dir, 'precious');
    await writeFile(target, 'keep');
    await symlink(target, relay.path);
    await expect(relay.start()).rejects.toThrow(/podman-relay\.sock exists and is not a socket/);
    expect((await lstat(relay.path)).isSymbolicLink()).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('keep');
    await rm(relay.path);
    await relay.start();
  });

  it('refuses a path that holds something other than a socket, and leaves it alone', async () => {
    await relay.stop();
    await writeFile(relay.path, 'not a socket');
    await expect(relay.start()).rejects.toThrow(/podman-relay\.sock exists and is not a socket .*set podman\.composeInfoCache: 0/);
    await expect(stat(relay.path).then((s) => s.isFile())).resolves.toBe(true);
    await rm(relay.path);
    await relay.start();
  });
});
