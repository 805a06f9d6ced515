// dockerode's ssh and grpc transports are stubbed in the daemon (src/adapters/podman-unused-transports.ts): the
// stub must load the way docker-modem and dockerode require it, and fail with a clear message if ever used.
// Run in a child node so the module hooks never touch this test process.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const HOOKS = join(ROOT, 'src/adapters/podman-unused-transports.ts');

function run(script: string): Promise<{ code: number | null; out: string }> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--experimental-transform-types', '--no-warnings', '--import', HOOKS, '--input-type=module', '-e', script], {
    cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  for (const s of [child.stdout, child.stderr]) s.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

describe('the stub for dockerode\'s unused transports', () => {
  it('loads dockerode without ssh2 or grpc, and a call into the stub names what is missing', async () => {
    const r = await run(`
      import { createRequire } from 'node:module';
      const Docker = (await import('dockerode')).default;
      new Docker({ socketPath: '/nonexistent.sock' });
      const fromModem = createRequire(import.meta.resolve('docker-modem'));
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => /node_modules\\/(ssh2|@grpc)\\//.test(f));
      console.log('loaded:' + JSON.stringify(loaded));
      try { new (fromModem('ssh2').Client)(); } catch (err) { console.log('ssh2:' + err.message); }
      const elsewhere = createRequire(import.meta.url).resolve('ssh2');
      console.log('elsewhere:' + elsewhere);
    `);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('loaded:[]');
    expect(r.out).toContain('ssh2:stackd talks to podman over a unix socket; the ssh and grpc transports of dockerode are not included (ssh2)');
    // only docker-modem's and dockerode's requires are stubbed: another package asking for ssh2 gets the real one
    expect(r.out).toMatch(/elsewhere:.*node_modules\/ssh2\//);
  });
});
