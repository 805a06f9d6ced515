// ImagePort of PodmanClient (inspectImage, pullImage, tagImage, containerLogs) against the in-process fake podman:
// request lines, libpod's pull stream (progress lines, the final id, an error line mid-stream), abort, the
// multiplexed logs frames and plain text.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PodmanClient } from '../../../src/adapters/podman-client.js';
import {
  InvalidOptionError, PodmanApiError, PodmanBadResponseError, PodmanTimeoutError, PodmanUnreachableError,
} from '../../../src/adapters/errors.js';
import { API, json, libpod, libpodError, startFakePodman } from './podman-fake-server.js';
import type { FakePodman } from './podman-fake-server.js';

const DIGEST = 'sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1';
const REF = `localhost:5000/podman-images-test/app@${DIGEST}`;
const ID = '07676f0a1ba8fb2ba3b8e8a2f4db2bc47b3a5f5e0b0e3f1d6b0f0a8c2e6f1d20';

let fake: FakePodman;
let client: PodmanClient;

const lines = () => fake.seen.map((s) => `${s.method} ${s.url}`);

/** podman's libpod pull: 200 at once, then one JSON report per line */
function pullStream(res: ServerResponse, reports: unknown[], gapMs = 0): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  const send = (i: number) => {
    if (i === reports.length) { res.end(); return; }
    res.write(`${JSON.stringify(reports[i])}\n`);
    setTimeout(() => send(i + 1), gapMs);
  };
  send(0);
}

/** one multiplexed logs frame: stream byte, three zeros, big-endian length, payload */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

beforeAll(async () => {
  fake = await startFakePodman();
});

beforeEach(() => {
  fake.seen.length = 0;
  fake.routes.clear();
  client = new PodmanClient({ socketPath: fake.socketPath, requestTimeoutMs: 300 });
});

afterAll(async () => {
  await client.close();
  await fake.close();
});

describe('inspectImage', () => {
  it('GETs libpod image inspect with the reference encoded, raw; 404 is undefined', async () => {
    const raw = { Id: ID, Digest: DIGEST, RepoDigests: [`localhost:5000/podman-images-test/app@${DIGEST}`], RepoTags: [] };
    fake.routes.set(libpod(`GET /images/${encodeURIComponent(REF)}/json`), (_q, res) => json(res, 200, raw));
    fake.routes.set(libpod('GET /images/localhost%2Fnope%3Ax/json'), (_q, res) => libpodError(res, 404, 'image not known', 'failed to find image localhost/nope:x: image not known'));
    expect(await client.inspectImage(REF)).toEqual(raw);
    expect(await client.inspectImage('localhost/nope:x')).toBeUndefined();
    expect(lines()).toEqual([
      `GET ${API}/images/localhost%3A5000%2Fpodman-images-test%2Fapp%40sha256%3A${DIGEST.slice(7)}/json`,
      `GET ${API}/images/localhost%2Fnope%3Ax/json`,
    ]);
  });

  it('a 500 is PodmanApiError with podman message and cause; bad JSON a bad response', async () => {
    fake.routes.set(libpod('GET /images/x/json'), (_q, res) => libpodError(res, 500, 'database is locked', 'inspecting x: database is locked'));
    await expect(client.inspectImage('x')).rejects.toMatchObject({ statusCode: 500, podmanCause: 'database is locked' });
    fake.routes.set(libpod('GET /images/y/json'), (_q, res) => { res.writeHead(200); res.end('<html>'); });
    await expect(client.inspectImage('y')).rejects.toBeInstanceOf(PodmanBadResponseError);
  });
});

describe('pullImage', () => {
  it('POSTs libpod pull with reference and policy=always (no body) and resolves with the id after the progress lines', async () => {
    fake.routes.set(libpod('POST /images/pull'), (_q, res) => pullStream(res, [
      { stream: 'Trying to pull localhost:5000/podman-images-test/app@sha256:…\n' },
      { stream: 'Getting image source signatures\n' },
      { stream: 'Copying blob sha256:9fe9a137fd00 done   |\n' },
      { stream: 'Writing manifest to image destination\n' },
      { images: [ID], id: ID },
    ]));
    expect(await client.pullImage(REF)).toBe(ID);
    const seen = fake.seen[0];
    expect(seen?.method).toBe('POST');
    const url = new URL(seen?.url ?? '', 'http://x');
    expect(url.pathname).toBe(`${API}/images/pull`);
    expect([...url.searchParams]).toEqual([['reference', REF], ['policy', 'always']]);
    expect(seen?.body).toBe('');
  });

  it('reads the final id even when chunks split its line', async () => {
    fake.routes.set(libpod('POST /images/pull'), (_q, res) => {
      res.writeHead(200);
      const text = `{"stream":"Writing manifest\\n"}\n{"images":["${ID}"],"id":"${ID}"}\n`;
      res.write(text.slice(0, 40));
      setTimeout(() => res.end(text.slice(40)), 20);
    });
    expect(await client.pullImage(REF)).toBe(ID);
  });

  it('an error line mid-stream is PodmanApiError naming the reference', async () => {
    const error = 'initializing source docker://localhost:5000/podman-images-test/app@sha256:00: reading manifest: manifest unknown';
    fake.routes.set(libpod('POST /images/pull'), (_q, res) => pullStream(res, [
      { stream: 'Trying to pull localhost:5000/podman-images-test/app@sha256:00...\n' },
      { error },
    ]));
    const err = await client.pullImage('localhost:5000/podman-images-test/app@sha256:00').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodmanApiError);
    expect(err).toMatchObject({ code: 'STACKD_PODMAN_API', method: 'POST', podmanMessage: error });
    expect((err as Error).message).toContain('localhost:5000/podman-images-test/app@sha256:00');
  });

  it('an error text that does not name the reference gets it prepended', async () => {
    fake.routes.set(libpod('POST /images/pull'), (_q, res) => pullStream(res, [{ error: 'unauthorized: authentication required' }]));
    await expect(client.pullImage(REF)).rejects.toMatchObject({ podmanMessage: `pulling ${REF}: unauthorized: authentication required` });
  });

  it('a non-2xx answer (newer podman answers early errors with a status) is PodmanApiError naming the reference', async () => {
    fake.routes.set(libpod('POST /images/pull'), (_q, res) => libpodError(res, 404, 'manifest unknown', 'reading manifest: manifest unknown'));
    const err = await client.pullImage(REF).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 404, podmanCause: 'manifest unknown', podmanMessage: `pulling ${REF}: reading manifest: manifest unknown` });
  });

  it('a stream that ends without an id is a bad response; a line that is not JSON too', async () => {
    fake.routes.set(libpod('POST /images/pull'), (_q, res) => pullStream(res, [{ stream: 'Trying to pull …\n' }]));
    await expect(client.pullImage(REF)).rejects.toBeInstanceOf(PodmanBadResponseError);
    fake.routes.set(libpod('POST /images/pull'), (_q, res) => { res.writeHead(200); res.end('{"stream":"x"}\n<html>\n'); });
    await expect(client.pullImage(REF)).rejects.toThrow(/pull line is not JSON/);
  });

  it('is not cut by the request timeout while podman copies a large layer silently', async () => {
    fake.routes.set(libpod('POST /images/pull'), (_q, res) => pullStream(res, [{ stream: 'Copying blob …\n' }, { images: [ID], id: ID }], 700));
    expect(await client.pullImage(REF)).toBe(ID);
  });

  it('no answer within the request timeout is PodmanTimeoutError; a dropped connection PodmanUnreachableError', async () => {
    fake.routes.set(libpod('POST /images/pull'), () => { /* never answers */ });
    await expect(client.pullImage(REF)).rejects.toBeInstanceOf(PodmanTimeoutError);
    fake.routes.set(libpod('POST /images/pull'), (req, res) => {
      res.writeHead(200);
      res.write('{"stream":"Copying blob …\\n"}\n');
      setImmediate(() => req.socket.destroy());
    });
    await expect(client.pullImage(REF)).rejects.toBeInstanceOf(PodmanUnreachableError);
  });

  it('an abort rejects with the abort reason and closes the connection (which cancels podman\'s pull)', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((r) => { closed = r; });
    fake.routes.set(libpod('POST /images/pull'), (req, res) => {
      res.writeHead(200);
      res.write('{"stream":"Copying blob …\\n"}\n');
      req.socket.on('close', () => closed());
    });
    const ac = new AbortController();
    const pending = client.pullImage(REF, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await serverSawClose;

    const before = new AbortController();
    before.abort(new Error('update cancelled'));
    await expect(client.pullImage(REF, { signal: before.signal })).rejects.toThrow('update cancelled');
  });

  it('rejects an empty reference before asking podman', async () => {
    await expect(client.pullImage('')).rejects.toBeInstanceOf(InvalidOptionError);
    expect(fake.seen).toEqual([]);
  });
});

describe('tagImage', () => {
  it('POSTs libpod tag with repo and tag (no body); 201 resolves', async () => {
    fake.routes.set(libpod(`POST /images/${encodeURIComponent(REF)}/tag`), (_q, res) => { res.writeHead(201); res.end(); });
    await client.tagImage(REF, 'localhost:5000/podman-images-test/app', 'pinned');
    const seen = fake.seen[0];
    const url = new URL(seen?.url ?? '', 'http://x');
    expect(seen?.method).toBe('POST');
    expect(url.pathname).toBe(`${API}/images/${encodeURIComponent(REF)}/tag`);
    expect([...url.searchParams]).toEqual([['repo', 'localhost:5000/podman-images-test/app'], ['tag', 'pinned']]);
    expect(seen?.body).toBe('');
  });

  it('an unknown image is PodmanApiError 404', async () => {
    fake.routes.set(libpod('POST /images/nope/tag'), (_q, res) => libpodError(res, 404, 'image not known', 'failed to find image nope: image not known'));
    await expect(client.tagImage('nope', 'localhost/x', 'y')).rejects.toMatchObject({ statusCode: 404, podmanCause: 'image not known' });
  });

  it('rejects an empty repo or tag', async () => {
    await expect(client.tagImage(ID, '', 'y')).rejects.toThrow(/`repo`/);
    await expect(client.tagImage(ID, 'localhost/x', '')).rejects.toThrow(/`tag`/);
    expect(fake.seen).toEqual([]);
  });
});

describe('containerLogs', () => {
  it('GETs libpod logs with stdout, stderr and tail, and demultiplexes the frames in order', async () => {
    const body = Buffer.concat([frame(1, 'starting\n'), frame(2, 'warn: no config ✓\n'), frame(1, 'listening on :8080\n')]);
    fake.routes.set(libpod('GET /containers/c1/logs'), (_q, res) => {
      res.writeHead(200);
      // split inside a header and inside the 3-byte ✓
      const cut1 = 5;
      const cut2 = body.indexOf(Buffer.from('✓')) + 1;
      res.write(body.subarray(0, cut1));
      setTimeout(() => { res.write(body.subarray(cut1, cut2)); setTimeout(() => res.end(body.subarray(cut2)), 10); }, 10);
    });
    expect(await client.containerLogs('c1', 20)).toBe('starting\nwarn: no config ✓\nlistening on :8080\n');
    const url = new URL(fake.seen[0]?.url ?? '', 'http://x');
    expect(url.pathname).toBe(`${API}/containers/c1/logs`);
    expect([...url.searchParams]).toEqual([['stdout', 'true'], ['stderr', 'true'], ['tail', '20']]);
  });

  it('plain (not multiplexed) output is returned as it is, even when it looks like JSON', async () => {
    fake.routes.set(libpod('GET /containers/tty/logs'), (_q, res) => { res.writeHead(200); res.end('42\n{"level":"info"}\n'); });
    expect(await client.containerLogs('tty', 5)).toBe('42\n{"level":"info"}\n');
  });

  it('no output is an empty text; a gone container PodmanApiError 404; a bad tail is refused', async () => {
    fake.routes.set(libpod('GET /containers/quiet/logs'), (_q, res) => { res.writeHead(200); res.end(); });
    expect(await client.containerLogs('quiet', 5)).toBe('');
    fake.routes.set(libpod('GET /containers/gone/logs'), (_q, res) => libpodError(res, 404, 'no such container', 'no container with name or ID "gone" found: no such container'));
    await expect(client.containerLogs('gone', 5)).rejects.toMatchObject({ statusCode: 404 });
    await expect(client.containerLogs('c1', -1)).rejects.toThrow(/`tail`/);
  });
});
