// ImagePort on podman's libpod routes (PodmanClient delegates here; same transport, same socket).
// All libpod, through docker-modem's dial: dockerode's pull is the Docker-compatible /images/create (other
// progress format, no pull policy), its tag is the compat route (normalizes short names to docker.io), and its
// buffered logs() JSON-parses the answer when it can (a tty container that printed `42` would come back a number).
import { demuxLogs, textLines } from './podman-body.js';
import { LIBPOD } from './podman-transport.js';
import type { Opened, PodmanTransport } from './podman-transport.js';
import { InvalidOptionError, PodmanApiError, PodmanBadResponseError } from './errors.js';

/** Raw GET /libpod/images/{nameOrId}/json, or undefined when podman knows no such image (404). */
export async function inspectImage(t: PodmanTransport, nameOrId: string): Promise<unknown> {
  requireText('nameOrId', nameOrId);
  const o = await t.open({ method: 'GET', path: `${LIBPOD}/images/${enc(nameOrId)}/json`, okStatus: [404] });
  if (o.status === 404) return t.discard(o).then(() => undefined);
  return t.json(o);
}

/**
 * POST /libpod/images/pull?reference=…&policy=always; resolves with the pulled image's id. podman answers 200 at
 * once and then streams {"stream":…} progress lines and one final {"id":…,"images":[…]} or {"error":…}; an
 * error line (statusCode 200: it came inside the stream) or a non-2xx is a PodmanApiError naming the reference.
 * No timeout between lines: copying one large layer prints nothing for minutes, so the caller's signal bounds
 * the pull (aborting closes the connection, which cancels podman's pull).
 */
export async function pullImage(t: PodmanTransport, reference: string, opts: { signal?: AbortSignal } = {}): Promise<string> {
  requireText('reference', reference);
  let o: Opened;
  try {
    o = await t.open({ method: 'POST', path: `${LIBPOD}/images/pull`, query: { reference, policy: 'always' }, signal: opts.signal });
  } catch (err) {
    throw err instanceof PodmanApiError ? naming(reference, err) : err;
  }
  let id: string | undefined;
  try {
    for await (const line of textLines(o.body)) {
      const report = parseReport(o, line);
      if (report.error) throw new PodmanApiError(o.status, o.where.method, o.where.path, nameIn(reference, report.error));
      if (report.id) id = report.id;
    }
    t.assertComplete(o);
  } catch (err) {
    throw t.translate(err, o.life, o.where, 0);
  } finally {
    o.life.end();
    if (!o.body.destroyed) o.body.destroy();
  }
  if (!id) throw new PodmanBadResponseError(o.where.method, o.where.path, `the pull of ${reference} ended without an image id`);
  return id;
}

/** POST /libpod/images/{image}/tag?repo=…&tag=… (201). An unknown image is a PodmanApiError (404). */
export async function tagImage(t: PodmanTransport, image: string, repo: string, tag: string): Promise<void> {
  requireText('image', image);
  requireText('repo', repo);
  requireText('tag', tag);
  await t.discard(await t.open({ method: 'POST', path: `${LIBPOD}/images/${enc(image)}/tag`, query: { repo, tag } }));
}

/**
 * The last `tail` lines of a container's stdout and stderr as one text, in the order podman logged them
 * (GET /libpod/containers/{id}/logs?stdout=true&stderr=true&tail=N, demultiplexed). A gone container is a
 * PodmanApiError (404).
 */
export async function containerLogs(t: PodmanTransport, id: string, tail: number): Promise<string> {
  requireText('id', id);
  if (!Number.isInteger(tail) || tail < 0) throw new InvalidOptionError('tail', 'an integer from 0 and up', tail);
  const o = await t.open({
    method: 'GET', path: `${LIBPOD}/containers/${enc(id)}/logs`, query: { stdout: 'true', stderr: 'true', tail: String(tail) },
  });
  return demuxLogs(await t.readAll(o));
}

interface PullReport {
  id?: string;
  error?: string;
}

function parseReport(o: Opened, line: string): PullReport {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new PodmanBadResponseError(o.where.method, o.where.path, `pull line is not JSON: ${line.slice(0, 200)}`, { cause: err });
  }
  if (typeof v !== 'object' || v === null) return {};
  const id = 'id' in v && typeof v.id === 'string' && v.id ? v.id : undefined;
  const error = 'error' in v && typeof v.error === 'string' && v.error ? v.error : undefined;
  return { id, error };
}

function naming(reference: string, err: PodmanApiError): PodmanApiError {
  if (err.podmanMessage.includes(reference)) return err;
  return new PodmanApiError(err.statusCode, err.method, err.path, nameIn(reference, err.podmanMessage), err.podmanCause);
}

function nameIn(reference: string, message: string): string {
  return message.includes(reference) ? message : `pulling ${reference}: ${message}`;
}

function requireText(name: string, v: unknown): void {
  if (typeof v !== 'string' || v === '') throw new InvalidOptionError(name, 'a non-empty string', v);
}

const enc = encodeURIComponent;
