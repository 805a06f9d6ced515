import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LogScrubber } from '../../../src/core/log-scrubber.js';
import { makeRedactor } from '../../../src/core/redact.js';

/** A pino logger wired as main.ts wires it, writing into an array. */
function logged(scrubber: LogScrubber) {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  return { log: pino({ hooks: { streamWrite: scrubber.scrub } }, stream), lines };
}

describe('LogScrubber (pino streamWrite hook)', () => {
  it('hides every stack\'s env values in what is logged as it came: an error, a field, a JSON-escaped value', () => {
    const scrubber = new LogScrubber();
    scrubber.set('shop', makeRedactor(['app-s3cret-name']));
    scrubber.set('blog', makeRedactor(['pw "quoted" s3cret']));
    const { log, lines } = logged(scrubber);
    log.warn({ err: new Error('pull localhost:5000/app-s3cret-name:1: manifest unknown'), repository: 'app-s3cret-name' }, 'update failed');
    log.info({ said: 'login pw "quoted" s3cret refused' }, 'compose said');
    expect(lines.join('')).not.toMatch(/s3cret/);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ err: { message: 'pull localhost:5000/***:1: manifest unknown' }, repository: '***' });
    expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({ said: 'login *** refused' });
  });

  it('uses a stack\'s newest redactor, and forgets stacks no longer configured', () => {
    const scrubber = new LogScrubber();
    scrubber.set('shop', makeRedactor(['old-secret-1']));
    scrubber.set('shop', makeRedactor(['new-secret-2']));
    scrubber.set('gone', makeRedactor(['gone-secret-3']));
    scrubber.retain(['shop']);
    expect(scrubber.scrub('old-secret-1 new-secret-2 gone-secret-3')).toBe('old-secret-1 *** gone-secret-3');
  });
});
