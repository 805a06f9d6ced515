// What the root-tier tests share: running commands (as root, or as the lab user inside its cgroup subtree),
// bounded waits, and GETs to a stackd's unix socket.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const AS_LAB = join(REPO, 'test/lab/as-lab.sh');
export const LAB_USER = process.env['STACKD_LAB_USER'] ?? 'stackdlab';

export function run(argv: string[], opts: { allowFail?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    execFile(argv[0] ?? '', argv.slice(1), { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      if (code !== 0 && !opts.allowFail) rej(new Error(`${argv.join(' ')} exited ${code}: ${stderr}`));
      else res({ code, stdout, stderr });
    });
  });
}

/** A command as the lab user (test/lab/as-lab.sh); a non-zero exit throws. */
export const asLab = (...argv: string[]) => run([AS_LAB, ...argv]);

export async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** GET path from the stackd listening on socketPath. */
export function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ socketPath, path }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => { body += d; });
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}
