// stackctl runs at every boot from each stack's unit, so what it loads is its start-up time: the common commands
// must not load undici, typebox, yaml, ajv (nor any package, nor the daemon's layers), and `--help` not even
// the HTTP client. The real CLI in a child process (from its sources) against a small fake daemon on a unix
// socket; record-loads.ts lists what was loaded. No timing here: bench/cli-startup.ts measures the speed.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStack } from '../http/fake-supervisor.js';

const ROOT = join(import.meta.dirname, '../../..');
const STACKCTL = join(ROOT, 'src/cli/stackctl.ts');
const RECORDER = join(import.meta.dirname, 'record-loads.ts');

let dir: string;
let socket: string;
let daemon: Server;
const stacks = [makeStack('immich'), makeStack('broken', { state: 'failed', health: 'down', containers: [] })];
const queued = { id: 'job-7', kind: 'up', stack: 'immich', status: 'queued', createdAt: '2026-02-12T21:10:00.000Z' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackctl-loads-'));
  socket = join(dir, 'stackd.sock');
  daemon = createServer((req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    req.resume();
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v1/stacks') send(200, { stacks });
      else if (req.method === 'POST' && req.url === '/v1/stacks/immich/up') send(202, { job: queued });
      else send(404, { error: { code: 'not-found', message: `${req.method} ${req.url}` } });
    });
  });
  await new Promise<void>((resolve) => daemon.listen(socket, resolve));
});

afterAll(async () => {
  await new Promise((resolve) => daemon.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

interface Loads { code: number | null; stdout: string; stderr: string; resolved: string[]; builtins: string[] }

let runs = 0;
async function loads(args: string[]): Promise<Loads> {
  const log = join(dir, `loads-${++runs}.json`);
  const env: Record<string, string | undefined> = { ...process.env, STACKCTL_LOAD_LOG: log, STACKD_SOCKET: socket };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--experimental-transform-types', '--no-warnings', '--import', RECORDER, STACKCTL, ...args], {
    cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const recorded = JSON.parse(await readFile(log, 'utf8')) as { resolved: string[]; builtins: string[] };
  return { code, stdout, stderr, ...recorded };
}

/** What a common command must never load: any package (undici, typebox, yaml, ajv, ...) or the daemon's layers. */
function heavy(resolved: string[]): string[] {
  return resolved.filter((url) => /\/node_modules\/|\/src\/(?:http|adapters|supervisor)\/|\/src\/core\/config/.test(url));
}

const ours = (resolved: string[]) => resolved.filter((url) => url.startsWith('file:') && url.includes('/src/cli/'))
  .map((url) => url.replace(/^.*\/src\/cli\//, '')).filter((f, i, all) => all.indexOf(f) === i).sort();

// Node's bundled undici (fetch, WebSocket): `import ... from 'node:http'` builds a namespace that runs http's lazy
// WebSocket getter and loads it with crypto, tls, http2 and zlib, which is why the client takes node:http with
// process.getBuiltinModule.
const NODE_UNDICI = 'NativeModule internal/deps/undici/undici';

describe('what stackctl loads', () => {
  it('--help: none of the HTTP client, no package, not even node:http', async () => {
    const r = await loads(['--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: stackctl/);
    expect(heavy(r.resolved)).toEqual([]);
    expect(ours(r.resolved)).toEqual(['context.ts', 'errors.ts', 'exit-codes.ts', 'stackctl.ts']);
    // the control-stripping the daemon's text answers share (src/core)
    expect(r.resolved.some((url) => url.endsWith('/src/core/terminal-text.ts'))).toBe(true);
    expect(r.builtins).not.toContain('NativeModule http');
    expect(r.builtins).not.toContain(NODE_UNDICI);
  });

  it('a usage error loads no client either', async () => {
    const r = await loads(['up']);
    expect(r.code).toBe(2);
    expect(ours(r.resolved)).not.toContain('client.ts');
    expect(r.builtins).not.toContain('NativeModule http');
  });

  it('status against a daemon: the client and the renderer, no package, no typebox schemas', async () => {
    const r = await loads(['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^STACK\s+STATE\s+HEALTH\s+CONTAINERS\s+LAST\s+REASON$/);
    expect(r.stdout).toMatch(/\nbroken\s+failed\s+down\s+0\/0\s/);
    expect(heavy(r.resolved)).toEqual([]);
    expect(ours(r.resolved)).toEqual(['answers.ts', 'client.ts', 'context.ts', 'errors.ts', 'exit-codes.ts', 'render.ts', 'stackctl.ts', 'status.ts']);
    expect(r.builtins).toContain('NativeModule http');
    expect(r.builtins).not.toContain(NODE_UNDICI);
  });

  it('up NAME --no-block: the stack action, no package', async () => {
    const r = await loads(['up', 'immich', '--no-block']);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'up immich: queued (job job-7)\n' });
    expect(heavy(r.resolved)).toEqual([]);
    expect(ours(r.resolved)).toContain('stack-action.ts');
    expect(ours(r.resolved)).not.toContain('offline-check.ts');
    expect(r.builtins).not.toContain(NODE_UNDICI);
  });

  it('no daemon: exit 3, no package', async () => {
    const r = await loads(['status', '--socket', join(dir, 'nowhere.sock')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot reach stackd at');
    expect(heavy(r.resolved)).toEqual([]);
  });

  it('check --offline is the one that loads the config code, yaml and ajv (and the recorder sees packages)', async () => {
    const r = await loads(['check', '--offline', '--config', join(dir, 'missing.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read the config');
    const packages = r.resolved.filter((url) => url.includes('/node_modules/'));
    expect(packages.some((url) => url.includes('/node_modules/yaml/'))).toBe(true);
    expect(packages.some((url) => url.includes('/node_modules/ajv/'))).toBe(true);
  });
});
