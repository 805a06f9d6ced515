// An ESM module, once loaded, stays in memory for the life of the process: what stackd imports at start is part of
// its idle footprint (bench/README.md "Idle footprint"). Only an update check talks to registries and only a
// notification posts over HTTP, so the registry client's modules (undici, smol-toml, the auth files, registries.conf)
// are imported on first use. `stackd --check-config` has loaded every static import of src/main.ts by the time it
// answers, so its loads are what the daemon loads at start; record-loads.ts lists them. No memory figures here.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/main.ts');
const RECORDER = join(import.meta.dirname, 'cli/record-loads.ts');

let dir: string;
let resolved: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-loads-'));
  const config = join(dir, 'stackd.yaml');
  const log = join(dir, 'loads.json');
  await writeFile(config, 'stacks: []\n');
  const env: Record<string, string | undefined> = { ...process.env, STACKCTL_LOAD_LOG: log };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--experimental-transform-types', '--no-warnings', '--import', RECORDER, MAIN, '--check-config', '--config', config], {
    cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  for (const s of [child.stdout, child.stderr]) s.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, out).toBe(0);
  expect(out).toContain('ok (0 stacks)');
  resolved = (JSON.parse(await readFile(log, 'utf8')) as { resolved: string[] }).resolved;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const packages = () => new Set(resolved.filter((u) => u.includes('/node_modules/'))
  .map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? u));

describe('what the daemon loads at start', () => {
  it('loads what idle work needs: the HTTP app, the podman client, the metrics, the queue', () => {
    // the positive half: the recorder sees the daemon's real graph, so an absence below means something
    for (const p of ['fastify', 'dockerode', 'prom-client', 'pino', 'p-queue', 'yaml']) expect(packages()).toContain(p);
    expect(resolved.some((u) => u.endsWith('/src/supervisor/updater.ts'))).toBe(true);
  });

  it('does not load the registry client, its auth and registries.conf readers, undici or smol-toml', () => {
    expect([...packages()].filter((p) => p === 'undici' || p === 'smol-toml')).toEqual([]);
    expect(resolved.filter((u) => /\/src\/adapters\/(registry-client|registry-auth|registries-conf-files)\.ts$/.test(u))).toEqual([]);
  });

  it('gives dockerode a stub for its ssh and grpc transports (stackd talks to podman over a unix socket)', () => {
    // ssh2 is required by docker-modem, grpc by dockerode's BuildKit sessions, both at load; the stub's resolve
    // answers them before the recorder's, so the packages never resolve
    expect(packages()).toContain('docker-modem');
    expect(resolved.some((u) => u.endsWith('/src/adapters/podman-unused-transports.ts'))).toBe(true);
    expect([...packages()].filter((p) => ['ssh2', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'].includes(p))).toEqual([]);
  });
});
