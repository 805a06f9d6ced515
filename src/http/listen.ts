// Puts a built app on a socket: the 0600 unix socket (or the one systemd passes in), or the read-only TCP port.
import { lstat, mkdir, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Server } from 'node:net';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';

export type ListenErrorCode = 'STACKD_SOCKET_IN_USE' | 'STACKD_SOCKET_NOT_A_SOCKET' | 'STACKD_SOCKET_DIR_UNSAFE' | 'STACKD_SOCKET_NOT_UNIX';

// Not a StackdError on purpose: this file imports no other stackd module, so the socket-activation contract test
// can run it in a bare `node --experimental-transform-types` child (which cannot map ../core/errors.js to .ts).
export class ListenError extends Error {
  constructor(message: string, readonly code: ListenErrorCode, options?: ErrorOptions) {
    super(message, options);
  }
}

export interface UnixSocketOptions {
  /** the uid that must own the socket's directory; this process's by default (tests pass another) */
  uid?: number;
}

/**
 * Listens on a unix socket at `path`, owner-only from the first instant: the socket's directory must be a real
 * directory of this user that nobody else can write (created 0700 when missing), so nobody else can swap the
 * socket or plant a link; a stale socket left by a crashed stackd is removed (only when nothing answers on it);
 * anything else at the path is refused; and the socket is bound under umask 0177, so it is born 0600 instead of
 * being chmod'ed after a window with the umask's mode.
 */
export async function listenUnixSocket(app: FastifyInstance, path: string, opts: UnixSocketOptions = {}): Promise<void> {
  await ensurePrivateDirectory(dirname(path), opts.uid ?? process.getuid?.());
  await removeStaleSocket(path);
  await app.ready();
  await listenOwnerOnly(app.server, path);
}

async function ensurePrivateDirectory(dir: string, uid: number | undefined): Promise<void> {
  const unsafe = (why: string) => new ListenError(`the API socket's directory ${dir} ${why}`, 'STACKD_SOCKET_DIR_UNSAFE');
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST' || err.code === 'ENOTDIR') throw unsafe('is not a directory');
    throw err;
  });
  // lstat: a link would let whoever controls its target decide where the socket goes
  const st = await lstat(dir);
  if (st.isSymbolicLink()) throw unsafe('is a symbolic link; set api.socket to a path in the real directory');
  if (!st.isDirectory()) throw unsafe('is not a directory');
  if (uid !== undefined && st.uid !== uid) {
    throw unsafe(`belongs to uid ${st.uid}, not to this user (uid ${uid}): another user could replace the socket; set api.socket to a directory of your own`);
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    throw unsafe(`is writable by other users (mode ${mode}): another user could replace the socket; chmod 700 ${dir}, or set api.socket to a directory only you can write`);
  }
}

/**
 * node binds the socket inside listen(), synchronously, so the umask set around that call alone is the one the
 * socket is created with. (fastify's listen() first awaits its boot, so the umask could not be scoped around it;
 * the app is made ready first and node's server listens directly, as in listenFd.)
 */
function listenOwnerOnly(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    const umask = process.umask(0o177);
    try {
      server.listen({ path }, () => {
        server.removeListener('error', onError);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}

async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!stat) return;
  if (stat.isSymbolicLink()) {
    throw new ListenError(`${path} is a symbolic link; stackd will not create its API socket through a link (it could point anywhere): remove it (rm ${path}), or set api.socket to another path`, 'STACKD_SOCKET_NOT_A_SOCKET');
  }
  if (!stat.isSocket()) {
    throw new ListenError(`${path} exists and is ${describeKind(stat)}, not a socket; stackd will not replace it: move it away, or set api.socket to another path`, 'STACKD_SOCKET_NOT_A_SOCKET');
  }
  const probe = await probeSocket(path);
  if (probe === 'stackd') throw new ListenError(`another stackd is already listening on ${path}`, 'STACKD_SOCKET_IN_USE');
  if (probe === 'other') throw new ListenError(`another process is listening on ${path}; refusing to replace its socket`, 'STACKD_SOCKET_IN_USE');
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

function describeKind(stat: Stats): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe';
  return 'a device or other special file';
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
 * The app served here takes writes, so the socket must be a unix socket: a socket unit with a TCP ListenStream=
 * (`ListenStream=9310`) would otherwise put every write route on the network. node reports a TCP socket's
 * address as {address, port} and an inherited unix socket's as null; the check runs in the 'listening'
 * callback, before the event loop could hand any connection to the app.
 */
export async function listenFd(app: FastifyInstance, fd: number): Promise<void> {
  await app.ready();
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    app.server.once('error', onError);
    app.server.listen({ fd }, () => {
      app.server.removeListener('error', onError);
      const address = app.server.address();
      if (address !== null && typeof address === 'object') {
        app.server.close();
        reject(new ListenError(`the socket systemd passed as fd ${fd} is a TCP socket (${address.address} port ${address.port}); stackd takes writes only on a unix socket: set the socket unit's ListenStream= to a path (e.g. %t/stackd/stackd.sock), and use api.listen for the read-only TCP listener`, 'STACKD_SOCKET_NOT_UNIX'));
        return;
      }
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
