// Puts a built app on a socket: the 0600 unix socket (or the one systemd passes in), or the read-only TCP port.
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';

export class ListenError extends Error {
  constructor(message: string, readonly code: 'STACKD_SOCKET_IN_USE' | 'STACKD_SOCKET_NOT_A_SOCKET', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Listens on a unix socket at `path`: creates the parent directory (0700), removes a stale socket file left by a
 * crashed stackd (only when nothing answers on it), listens, then restricts the socket to its owner (0600).
 */
export async function listenUnixSocket(app: FastifyInstance, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await removeStaleSocket(path);
  // Connecting needs write permission on the socket; under the usual umask (022) it is born 0755, so nobody
  // else can connect before the chmod below. The 0700 directory covers the default location as well.
  await app.listen({ path });
  await chmod(path, 0o600);
}

async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!stat) return;
  if (!stat.isSocket()) {
    throw new ListenError(`${path} exists and is not a socket; refusing to replace it (check api.socket in the config)`, 'STACKD_SOCKET_NOT_A_SOCKET');
  }
  const probe = await probeSocket(path);
  if (probe === 'stackd') throw new ListenError(`another stackd is already listening on ${path}`, 'STACKD_SOCKET_IN_USE');
  if (probe === 'other') throw new ListenError(`another process is listening on ${path}; refusing to replace its socket`, 'STACKD_SOCKET_IN_USE');
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** 'none' when nothing accepts connections (a stale file), 'stackd' when /healthz answers, else 'other'. */
async function probeSocket(path: string): Promise<'none' | 'stackd' | 'other'> {
  const accepts = await new Promise<boolean>((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
  if (!accepts) return 'none';
  return new Promise((resolve) => {
    // agent: false, and destroyed once answered: the probe must not leave a pooled connection behind
    const req = request({ socketPath: path, path: '/healthz', timeout: 2000, agent: false }, (res) => {
      resolve(res.statusCode === 200 ? 'stackd' : 'other');
      req.destroy();
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve('other'));
    req.once('close', () => resolve('other'));
    req.end();
  });
}

/**
 * The fd systemd passed (socket activation, `sd_listen_fds`): 3 when LISTEN_PID is this process and LISTEN_FDS
 * is at least 1, else undefined. `env` and `pid` come from the entry point.
 */
export function systemdListenFd(env: Record<string, string | undefined>, pid: number): number | undefined {
  if (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== pid) return undefined;
  const count = Number(env.LISTEN_FDS);
  return Number.isInteger(count) && count >= 1 ? 3 : undefined;
}

/**
 * Serves on an inherited listening socket. fastify's listen() has no `fd` option (and would try to resolve a host
 * for it), so the app is made ready and node's server listens on the handle directly; app.close() still closes it.
 */
export async function listenFd(app: FastifyInstance, fd: number): Promise<void> {
  await app.ready();
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    app.server.once('error', onError);
    app.server.listen({ fd }, () => {
      app.server.removeListener('error', onError);
      resolve();
    });
  });
}

/**
 * The optional read-only TCP listener. Build its app with `writable: false`: that app carries the listener's
 * timeouts, connection cap and refusal of bodies (read-only.ts). Returns the bound address.
 */
export async function listenTcp(app: FastifyInstance, host: string, port: number): Promise<string> {
  return app.listen({ host, port });
}
