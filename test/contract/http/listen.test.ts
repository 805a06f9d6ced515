// listen.ts against real sockets in a temp dir: stale-socket handling, 0600, socket activation, the TCP listener.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Client, request } from 'undici';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/http/app.js';
import { listenTcp, listenUnixSocket, systemdListenFd } from '../../../src/http/listen.js';
import { FakeSupervisor, makeStack } from './fake-supervisor.js';

let dir: string;
const apps: FastifyInstance[] = [];

function newApp(writable = true): FastifyInstance {
  const app = buildApp({ supervisor: new FakeSupervisor([makeStack('immich')]), logger: pino({ level: 'silent' }), writable });
  apps.push(app);
  return app;
}

beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'stackd-listen-')); });
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await rm(dir, { recursive: true, force: true });
});

/** Leaves a socket file nobody listens on, the way a SIGKILLed stackd does. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  await new Promise((resolve) => child.once('exit', resolve));
  expect((await stat(path)).isSocket()).toBe(true);
}

async function getOverSocket(socketPath: string, path: string): Promise<{ status: number; body: unknown }> {
  const client = new Client('http://stackd', { socketPath });
  try {
    const res = await client.request({ method: 'GET', path });
    return { status: res.statusCode, body: await res.body.json() };
  } finally {
    await client.close();
  }
}

describe('listenUnixSocket', () => {
  it('replaces a stale socket file and serves on a 0600 socket', async () => {
    const path = join(dir, 'stackd.sock');
    await staleSocket(path);
    await listenUnixSocket(newApp(), path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await getOverSocket(path, '/healthz')).toEqual({ status: 200, body: { ok: true } });
  });

  it('refuses when a live stackd answers on the socket', async () => {
    const path = join(dir, 'stackd.sock');
    await listenUnixSocket(newApp(), path);
    await expect(listenUnixSocket(newApp(), path)).rejects.toThrow(`another stackd is already listening on ${path}`);
    expect((await getOverSocket(path, '/healthz')).status).toBe(200);
  });

  it('refuses when some other process listens there', async () => {
    const path = join(dir, 'other.sock');
    // reads (so it notices the probe hanging up) and answers something that is not HTTP
    const other = createServer((s) => { s.on('error', () => undefined); s.resume(); s.end('SSH-2.0-nope\r\n'); });
    await new Promise<void>((resolve) => other.listen(path, resolve));
    try {
      await expect(listenUnixSocket(newApp(), path)).rejects.toThrow(`another process is listening on ${path}`);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('never removes a regular file: refuses, naming the path and what to do', async () => {
    const path = join(dir, 'stackd.sock');
    await writeFile(path, 'precious');
    await expect(listenUnixSocket(newApp(), path)).rejects.toThrow(
      `${path} exists and is a regular file, not a socket; stackd will not replace it: move it away, or set api.socket to another path`);
    expect((await stat(path)).isFile()).toBe(true);
  });

  it('never listens through a symlink at the socket path, even one to a stale socket', async () => {
    const target = join(dir, 'elsewhere.sock');
    await staleSocket(target);
    const path = join(dir, 'stackd.sock');
    await symlink(target, path);
    await expect(listenUnixSocket(newApp(), path)).rejects.toThrow(
      `${path} is a symbolic link; stackd will not create its API socket through a link (it could point anywhere): remove it (rm ${path}), or set api.socket to another path`);
    expect((await stat(target)).isSocket()).toBe(true);
  });

  it('never follows a symlink to a file someone wants clobbered: refuses, the link and its target untouched', async () => {
    const target = join(dir, 'precious.conf');
    await writeFile(target, 'do not clobber');
    const path = join(dir, 'stackd.sock');
    await symlink(target, path);
    await expect(listenUnixSocket(newApp(), path)).rejects.toThrow(
      `${path} is a symbolic link; stackd will not create its API socket through a link (it could point anywhere): remove it (rm ${path}), or set api.socket to another path`);
    expect(await readFile(target, 'utf8')).toBe('do not clobber');
    expect((await lstat(path)).isSymbolicLink()).toBe(true);
  });

  it('refuses a dangling symlink (it would create the socket wherever the link points)', async () => {
    const path = join(dir, 'stackd.sock');
    await symlink(join(dir, 'nowhere', 'planted.sock'), path);
    await expect(listenUnixSocket(newApp(), path)).rejects.toThrow(`${path} is a symbolic link`);
    expect((await lstat(path)).isSymbolicLink()).toBe(true);
  });

  it('refuses a named pipe at the socket path, and leaves it', async () => {
    const path = join(dir, 'stackd.sock');
    execFileSync('mkfifo', [path]);
    await expect(listenUnixSocket(newApp(), path)).rejects.toThrow(`${path} exists and is a named pipe, not a socket; stackd will not replace it: move it away, or set api.socket to another path`);
    expect((await lstat(path)).isFIFO()).toBe(true);
  });

  it('refuses a directory at the socket path', async () => {
    const path = join(dir, 'stackd.sock');
    await mkdir(path);
    await expect(listenUnixSocket(newApp(), path)).rejects.toThrow(`${path} exists and is a directory, not a socket`);
  });

  it('is 0600 from the moment it exists, whatever the umask', async () => {
    const path = join(dir, 'stackd.sock');
    const app = newApp();
    let modeWhenListening = -1;
    // 'listening' fires before anything could chmod the socket afterwards
    app.server.once('listening', () => { modeWhenListening = statSync(path).mode & 0o777; });
    const umask = process.umask(0);
    try {
      await listenUnixSocket(app, path);
      // and the process's umask is as it was (process.umask() without an argument is deprecated)
      expect(process.umask(0)).toBe(0);
    } finally {
      process.umask(umask);
    }
    expect(modeWhenListening.toString(8)).toBe('600');
    expect(await getOverSocket(path, '/healthz')).toEqual({ status: 200, body: { ok: true } });
  });

  it('binds under umask 0177: the mechanism, read from the kernel at the moment node binds', async () => {
    const path = join(dir, 'stackd.sock');
    const app = newApp();
    // node binds inside server.listen(), synchronously; /proc/self/status shows the umask in force right then
    const listen = app.server.listen.bind(app.server);
    let umaskAtBind = '';
    app.server.listen = ((...args: Parameters<typeof listen>) => {
      umaskAtBind = /^Umask:\s*(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
      return listen(...args);
    }) as typeof app.server.listen;
    const umask = process.umask(0o022);
    try {
      await listenUnixSocket(app, path);
      expect(process.umask(0o022)).toBe(0o022);
    } finally {
      process.umask(umask);
    }
    expect(umaskAtBind).toBe('0177');
  });

  it('is never seen wider than 0600, by another process racing the start (umask 0, five rounds)', async () => {
    // A watcher spins on lstat from before the bind and reports the first mode it sees. Binding with the
    // process's umask 0 and chmod'ing afterwards is seen as 777 in most rounds (tried: 7 of 10).
    for (let round = 0; round < 5; round++) {
      const path = join(dir, `race-${round}.sock`);
      const watcher = spawn(process.execPath, ['-e', `
        const fs = require('node:fs');
        process.stdout.write('ready\\n');
        for (;;) { try { const s = fs.lstatSync(${JSON.stringify(path)}); process.stdout.write('mode ' + (s.mode & 0o777).toString(8) + '\\n'); process.exit(0); } catch {} }`]);
      let out = '';
      watcher.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise((resolve) => watcher.once('exit', resolve));
      await waitUntil(() => out.includes('ready\n'));
      const app = newApp();
      const umask = process.umask(0);
      try {
        await listenUnixSocket(app, path);
      } finally {
        process.umask(umask);
      }
      await exited;
      expect(out, `round ${round}`).toContain('mode 600\n');
    }
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('listenUnixSocket: the socket\'s directory', () => {
  it('is created 0700 when missing, whatever the umask', async () => {
    const path = join(dir, 'run', 'stackd', 'stackd.sock');
    const umask = process.umask(0);
    try {
      await listenUnixSocket(newApp(), path);
    } finally {
      process.umask(umask);
    }
    expect((await stat(join(dir, 'run', 'stackd'))).mode & 0o777).toBe(0o700);
  });

  it('may not be a symbolic link', async () => {
    const real = join(dir, 'real');
    await mkdir(real, { mode: 0o700 });
    const link = join(dir, 'link');
    await symlink(real, link);
    await expect(listenUnixSocket(newApp(), join(link, 'stackd.sock'))).rejects.toThrow(
      `the API socket's directory ${link} is a symbolic link; set api.socket to a path in the real directory`);
  });

  it('must belong to this user', async () => {
    const sub = join(dir, 'theirs');
    await mkdir(sub, { mode: 0o700 });
    const uid = (process.getuid?.() ?? 0) + 1;
    await expect(listenUnixSocket(newApp(), join(sub, 'stackd.sock'), { uid })).rejects.toThrow(
      `the API socket's directory ${sub} belongs to uid ${uid - 1}, not to this user (uid ${uid}): another user could replace the socket; set api.socket to a directory of your own`);
  });

  it('may not be writable by others', async () => {
    const sub = join(dir, 'open');
    await mkdir(sub);
    await chmod(sub, 0o777);
    await expect(listenUnixSocket(newApp(), join(sub, 'stackd.sock'))).rejects.toThrow(
      `the API socket's directory ${sub} is writable by other users (mode 0777): another user could replace the socket; chmod 700 ${sub}, or set api.socket to a directory only you can write`);
  });

  it('may not be a file', async () => {
    const file = join(dir, 'file');
    await writeFile(file, '');
    await expect(listenUnixSocket(newApp(), join(file, 'stackd.sock'))).rejects.toThrow(
      `the API socket's directory ${file} is not a directory`);
  });
});

describe('systemdListenFd', () => {
  it.each([
    [{ LISTEN_PID: '42', LISTEN_FDS: '1' }, 42, 3],
    [{ LISTEN_PID: '42', LISTEN_FDS: '2' }, 42, 3],
    [{ LISTEN_PID: '41', LISTEN_FDS: '1' }, 42, undefined],
    [{ LISTEN_FDS: '1' }, 42, undefined],
    [{ LISTEN_PID: '42', LISTEN_FDS: '0' }, 42, undefined],
    [{ LISTEN_PID: '42' }, 42, undefined],
    [{}, 42, undefined],
  ])('%j for pid %i → %s', (env, pid, fd) => expect(systemdListenFd(env, pid)).toBe(fd));
});

describe('listenFd (socket activation)', () => {
  it('serves on the listening socket passed as fd 3 with LISTEN_PID/LISTEN_FDS', async () => {
    const path = join(dir, 'activated.sock');
    const listenTs = pathToFileURL(join(import.meta.dirname, '../../../src/http/listen.ts')).href;
    const daemon = `
      import Fastify from 'fastify';
      import { listenFd, systemdListenFd } from ${JSON.stringify(listenTs)};
      const app = Fastify();
      app.get('/healthz', async () => ({ ok: true, pid: process.pid }));
      await listenFd(app, systemdListenFd(process.env, process.pid));
      process.stdout.write('ready\\n');
      process.on('SIGTERM', () => { app.close().then(() => process.exit(0)); });`;
    // The helper plays systemd: it binds the socket, starts the daemon with it as fd 3 and leaves without
    // accepting or unlinking (process.exit skips the close that would remove the file). `exec` keeps the
    // shell's pid, so LISTEN_PID=$$ names the daemon process, as systemd's does.
    const helper = `
      const net = require('node:net');
      const { spawn } = require('node:child_process');
      const srv = net.createServer();
      srv.listen(${JSON.stringify(path)}, () => {
        const child = spawn('/bin/sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', process.execPath,
          '--experimental-transform-types', '--no-warnings', '--input-type=module', '-e', ${JSON.stringify(daemon)}],
          { stdio: ['ignore', 'inherit', 'inherit', srv._handle.fd] });
        process.stdout.write('pid ' + child.pid + '\\n', () => process.exit(0));
      });`;
    const proc = spawn(process.execPath, ['-e', helper], { cwd: join(import.meta.dirname, '../../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready\n')) resolve(); });
      proc.stdout.once('end', () => reject(new Error(`daemon did not start: ${out} ${err}`)));
    });
    const pid = Number(/pid (\d+)/.exec(out)?.[1]);
    try {
      expect(await getOverSocket(path, '/healthz')).toEqual({ status: 200, body: { ok: true, pid } });
    } finally {
      process.kill(pid, 'SIGTERM');
      await new Promise((resolve) => proc.stdout.once('end', resolve));
    }
  });
});

describe('listenTcp', () => {
  it('serves the read-only app on loopback: reads work, writes are 404', async () => {
    const app = newApp(false);
    const address = await listenTcp(app, '127.0.0.1', 0);
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const read = await request(`${address}/v1/stacks/immich`);
    expect(read.statusCode).toBe(200);
    await read.body.dump();
    const write = await request(`${address}/v1/stacks/immich/up`, { method: 'POST' });
    expect(write.statusCode).toBe(404);
    expect(await write.body.json()).toMatchObject({ error: { code: 'not-found', message: expect.stringContaining('read-only') } });
  });
});
