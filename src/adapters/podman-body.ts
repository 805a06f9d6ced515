// Reading podman's answers: newline-delimited JSON streams (events, pull), the multiplexed stdout/stderr frames of
// container logs, and libpod's error body. Pure byte handling; the transport decides timeouts and errors.
import { StringDecoder } from 'node:string_decoder';

/** Trimmed, non-empty lines of a byte stream, even when chunks split lines or multi-byte characters. */
export async function* textLines(body: AsyncIterable<unknown>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of body) {
    pending += decoder.write(toBuffer(chunk));
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line) yield line;
    }
  }
  const rest = (pending + decoder.end()).trim();
  if (rest) yield rest;
}

/**
 * stdout and stderr of a logs answer, in the order podman sent them. libpod always multiplexes (an 8-byte header
 * per frame: stream 0/1/2, three zero bytes, big-endian length); the Docker-compatible path does not for a
 * container with a tty. Only an answer that is frames from end to end is demultiplexed; anything else is the
 * plain text it is, so a tty container's output is never mangled by a guess.
 */
export function demuxLogs(bytes: Buffer): string {
  const frames = splitFrames(bytes);
  return (frames ? Buffer.concat(frames) : bytes).toString('utf8');
}

function splitFrames(bytes: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 8) return undefined;
    const stream = bytes[at];
    if ((stream !== 0 && stream !== 1 && stream !== 2) || bytes[at + 1] !== 0 || bytes[at + 2] !== 0 || bytes[at + 3] !== 0) return undefined;
    const size = bytes.readUInt32BE(at + 4);
    if (at + 8 + size > bytes.length) return undefined;
    out.push(bytes.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return out;
}

/** libpod errors look like {"cause":"no such container","message":"no container with …","response":404}. */
export function podmanErrorBody(body: unknown): { message: string; cause?: string } {
  let v: unknown = body;
  if (Buffer.isBuffer(v)) v = v.toString('utf8');
  if (typeof v === 'string') {
    const text = v;
    try {
      v = JSON.parse(text);
    } catch {
      return { message: text.trim().slice(0, 500) };
    }
  }
  if (v && typeof v === 'object') {
    const message = 'message' in v && typeof v.message === 'string' ? v.message : '';
    const cause = 'cause' in v && typeof v.cause === 'string' ? v.cause : undefined;
    if (message || cause) return { message: message || cause || '', cause };
  }
  return { message: typeof v === 'string' ? v.trim().slice(0, 500) : '' };
}

export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.alloc(0);
}
