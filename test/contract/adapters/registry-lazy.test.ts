// The stand-in for the registry client (src/adapters/registry-lazy.ts): the real client is built once, on the
// first manifest asked for, and every call after that (concurrent ones included) goes to that one client.
import { describe, expect, it } from 'vitest';
import { lazyRegistry, type ClosableRegistry } from '../../../src/adapters/registry-lazy.js';
import type { ImageRef, ManifestDoc, ManifestHead } from '../../../src/core/update/types.js';

const ref = { registry: 'localhost:5000', repository: 'app', tag: 'v1' } as unknown as ImageRef;

function fake() {
  const calls: string[] = [];
  let loads = 0;
  const client: ClosableRegistry = {
    head: (r) => { calls.push(`head ${r.repository}`); return Promise.resolve({ digest: 'sha256:a' } as unknown as ManifestHead); },
    get: (r, reference) => { calls.push(`get ${r.repository} ${reference}`); return Promise.resolve({ digest: 'sha256:b' } as unknown as ManifestDoc); },
    close: () => { calls.push('close'); return Promise.resolve(); },
  };
  const load = () => { loads++; return Promise.resolve(client); };
  return { calls, load, loads: () => loads };
}

describe('lazyRegistry', () => {
  it('builds nothing until a manifest is asked for, and closing an unused one builds nothing', async () => {
    const f = fake();
    const r = lazyRegistry(f.load);
    await r.close();
    expect(f.loads()).toBe(0);
    expect(f.calls).toEqual([]);
  });

  it('builds the client once, for concurrent first calls too, and passes every call and its answer through', async () => {
    const f = fake();
    const r = lazyRegistry(f.load);
    const [h, g] = await Promise.all([r.head(ref), r.get(ref, 'sha256:x')]);
    expect(h).toEqual({ digest: 'sha256:a' });
    expect(g).toEqual({ digest: 'sha256:b' });
    await r.head(ref);
    expect(f.loads()).toBe(1);
    await r.close();
    expect(f.calls).toEqual(['head app', 'get app sha256:x', 'head app', 'close']);
  });

  it('a client that cannot be built fails the call that needed it', async () => {
    const r = lazyRegistry(() => Promise.reject(new Error('no module')));
    await expect(r.head(ref)).rejects.toThrow('no module');
  });
});
