// An in-process node:http server on a unix socket that answers like podman 5.4 (status codes and error bodies as
// seen in the lab), for the PodmanClient contract tests. Routes are keyed by method and the RAW (still
// percent-encoded) path, as podman's router matches them: libpod routes under API, compat routes without it.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const API = '/v5.0.0/libpod';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface Seen {
  method: string;
  url: string;
  /** the request body as received (libpod's POSTs here take none) */
  body: string;
}

export interface FakePodman {
  dir: string;
  socketPath: string;
  seen: Seen[];
  routes: Map<string, Handler>;
  close(): Promise<void>;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function libpodError(res: ServerResponse, status: number, cause: string, message: string): void {
  json(res, status, { cause, message, response: status });
}

/** `GET /containers/json` → `GET /v5.0.0/libpod/containers/json` */
export function libpod(route: string): string {
  const [method, path] = route.split(' ');
  return `${method} ${API}${path}`;
}

export async function startFakePodman(): Promise<FakePodman> {
  const dir = await mkdtemp(join(tmpdir(), 'stackd-podman-'));
  const socketPath = join(dir, 'podman.sock');
  const fake: FakePodman = {
    dir,
    socketPath,
    seen: [],
    routes: new Map(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://podman');
    const entry: Seen = { method: req.method ?? '', url: req.url ?? '', body: '' };
    fake.seen.push(entry);
    req.on('data', (d: Buffer) => { entry.body += d.toString('utf8'); });
    const rawPath = (req.url ?? '').split('?')[0] ?? '';
    const handler = fake.routes.get(`${req.method} ${rawPath}`);
    if (handler) handler(req, res, url);
    else libpodError(res, 404, 'not found', `no route ${req.method} ${rawPath}`);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return fake;
}
