// How the converge benches see the containers they made: podman's libpod container list over its API socket,
// from the bench process. Before, bench/converge.ts ran `podman ps -a --format json`: a podman CLI process per
// look, ~34 ms of CPU and ~36 ms of wall on an idle lab against ~2.6 ms and ~2 ms for this list
// (bench/observer-cost.ts), and tens to hundreds of ms of wall under load. The look that finds every container
// running is part of each case's wall time, so a cheaper one measures every case more closely, alike.
import { request } from 'node:http';

export interface BenchContainer {
  Id: string;
  Names: string[];
  State: string;
}

/** Every container (running or not) whose first name starts with `${prefix}-`. */
export function listBenchContainers(socketPath: string, prefix: string): Promise<BenchContainer[]> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'GET', path: '/v4.0.0/libpod/containers/json?all=true' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) {
          reject(new Error(`podman's container list answered ${res.statusCode}: ${text.slice(0, 200)}`));
          return;
        }
        try {
          const all = JSON.parse(text || '[]') as BenchContainer[];
          resolve(all.filter((c) => (c.Names[0] ?? '').startsWith(`${prefix}-`)));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}
