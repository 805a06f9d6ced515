// EventWatcher against a fake EventSource, on vi's fake clock (no real sleeps). Each connect attempt runs the
// next script: "unreachable" rejects without an answer (like a missing podman.sock), "open" answers (onOpen) and
// then yields what the test pushes, breaks, or ends, like libpod's stream.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventWatcher, projectOfEvent } from '../../../src/supervisor/event-watcher.js';
import type { EventSource, EventWatcherOptions } from '../../../src/supervisor/event-watcher.js';

type Opts = { signal: AbortSignal; onOpen: () => void };
type Script = (o: Opts) => AsyncIterable<unknown>;

const unreachable: Script = () => ({
  [Symbol.asyncIterator]: () => ({
    next: () => Promise.reject(new Error('connect ENOENT /run/user/1000/podman/podman.sock')),
  }),
});

/** Answers (after answerAfterMs on the fake clock), then yields the given events, then breaks or ends. */
function open(events: unknown[] = [], end: 'break' | 'end' | 'hold' = 'break', answerAfterMs = 0): Script {
  return async function* ({ signal, onOpen }) {
    if (answerAfterMs > 0) await new Promise((r) => setTimeout(r, answerAfterMs));
    onOpen();
    yield* events;
    if (end === 'break') throw new Error('other side closed (UND_ERR_SOCKET)');
    if (end === 'hold') await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
  };
}

class FakeSource implements EventSource {
  /** fake-clock time of each connect attempt */
  readonly attempts: number[] = [];
  constructor(private readonly scripts: Script[], private readonly rest: Script = unreachable) {}
  events(o: Opts): AsyncIterable<unknown> {
    this.attempts.push(Date.now());
    return (this.scripts[this.attempts.length - 1] ?? this.rest)(o);
  }
  /** time between consecutive attempts: the reconnect delays */
  get delays(): number[] {
    return this.attempts.slice(1).map((t, i) => t - (this.attempts[i] as number));
  }
}

/** A stream that answers at once and yields what the test pushes, whenever it pushes it. */
function later(): { script: Script; push: (...events: unknown[]) => void } {
  const queue: unknown[] = [];
  let wake: (() => void) | undefined;
  return {
    push: (...events) => {
      queue.push(...events);
      wake?.();
    },
    script: async function* ({ signal, onOpen }) {
      onOpen();
      while (!signal.aborted) {
        while (queue.length > 0) yield queue.shift();
        await new Promise<void>((r) => {
          wake = r;
          signal.addEventListener('abort', () => r(), { once: true });
        });
      }
    },
  };
}

const ev = (project: string, label = 'com.docker.compose.project') => ({
  Type: 'container', Action: 'died', Actor: { ID: 'c1', Attributes: { [label]: project } },
});

let connection: boolean[];
let refreshed: string[];
let watcher: EventWatcher | undefined;

function watch(source: EventSource, extra: Partial<EventWatcherOptions> = {}): EventWatcher {
  watcher = new EventWatcher({
    source,
    logger: pino({ level: 'silent' }),
    refreshProject: async (p) => { refreshed.push(p); },
    onConnection: (up) => connection.push(up),
    ...extra,
  });
  watcher.start();
  return watcher;
}

beforeEach(() => {
  vi.useFakeTimers();
  connection = [];
  refreshed = [];
});

afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  vi.useRealTimers();
});

describe('connection and reconnect backoff', () => {
  it('an unreachable source: delays grow 500, 1000, 2000 … and the connection is never reported up', async () => {
    const src = new FakeSource([]);
    watch(src);
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000 + 4000 + 8000 + 16000);
    expect(src.delays).toEqual([500, 1000, 2000, 4000, 8000, 16000]);
    expect(connection).toEqual([false]);
  });

  it('the delay stops growing at reconnectMaxMs', async () => {
    const src = new FakeSource([]);
    watch(src, { reconnectMaxMs: 2000 });
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000 + 2000 + 2000);
    expect(src.delays).toEqual([500, 1000, 2000, 2000, 2000]);
  });

  it('a source that opens then breaks: up, then down, and the next delay is the base again', async () => {
    const src = new FakeSource([open([], 'break')]);
    watch(src);
    await vi.advanceTimersByTimeAsync(0);
    expect(connection).toEqual([true, false]);
    await vi.advanceTimersByTimeAsync(500 + 1000);
    expect(src.delays).toEqual([500, 1000]);
    expect(connection).toEqual([true, false]);
  });

  it('the delay is reset by an answer, not by an attempt: 500, 1000, 2000, (open, break) 500, 1000', async () => {
    const src = new FakeSource([unreachable, unreachable, unreachable, open([], 'break')]);
    watch(src);
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000 + 500 + 1000);
    expect(src.delays).toEqual([500, 1000, 2000, 500, 1000]);
    expect(connection).toEqual([false, true, false]);
  });

  it('reports up only once the source answered, not when the request was made', async () => {
    const src = new FakeSource([open([], 'hold', 5000)]);
    watch(src);
    await vi.advanceTimersByTimeAsync(4999);
    expect(src.attempts).toHaveLength(1);
    expect(connection).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(connection).toEqual([true]);
  });

  it('a stream podman ends cleanly is a lost connection too: down, then a reconnect that answers is up', async () => {
    const src = new FakeSource([open([], 'end'), open([], 'hold')]);
    watch(src);
    await vi.advanceTimersByTimeAsync(500);
    expect(src.attempts).toHaveLength(2);
    expect(connection).toEqual([true, false, true]);
  });
});

describe('events', () => {
  it('refreshes a compose project at once (by either compose label), then at most once more per debounce window', async () => {
    const pushed = later();
    const src = new FakeSource([pushed.script]);
    watch(src);
    pushed.push(ev('immich'), ev('gitea', 'io.podman.compose.project'), { Type: 'image', Action: 'pull' });
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed.sort()).toEqual(['gitea', 'immich']);
    // more events of immich inside its window: one refresh when the window ends, not one per event
    await vi.advanceTimersByTimeAsync(100);
    pushed.push(ev('immich'), ev('immich'));
    await vi.advanceTimersByTimeAsync(199);
    expect(refreshed.filter((p) => p === 'immich')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshed.filter((p) => p === 'immich')).toHaveLength(2);
    // after a quiet window, the next event is refreshed at once again
    await vi.advanceTimersByTimeAsync(1_000);
    pushed.push(ev('immich'));
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed.filter((p) => p === 'immich')).toHaveLength(3);
  });

  it('an event isNews calls old news re-lists nothing; the next one that is news does', async () => {
    const pushed = later();
    const seen: string[] = [];
    watch(new FakeSource([pushed.script]), {
      isNews: (e, p) => {
        seen.push(p);
        return (e as { Action: string }).Action !== 'health_status';
      },
    });
    pushed.push({ ...ev('immich'), Action: 'health_status' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen).toEqual(['immich']);
    expect(refreshed).toEqual([]);
    pushed.push(ev('immich'));
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed).toEqual(['immich']);
  });

  it('projectOfEvent: container events of a compose project only, and only those a list can show', () => {
    expect(projectOfEvent(ev('x'))).toBe('x');
    expect(projectOfEvent({ ...ev('x'), Action: 'kill' })).toBeUndefined();
    expect(projectOfEvent({ ...ev('x'), Action: 'exec_died' })).toBeUndefined();
    expect(projectOfEvent({ ...ev('x'), Action: 'health_status' })).toBe('x');
    expect(projectOfEvent({ Type: 'container', Actor: { Attributes: {} } })).toBeUndefined();
    expect(projectOfEvent({ Type: 'network', Actor: { Attributes: { 'com.docker.compose.project': 'x' } } })).toBeUndefined();
    expect(projectOfEvent(null)).toBeUndefined();
  });
});

describe('lifecycle: start() / stop()', () => {
  it('stop cancels the refreshes not yet started and closes the stream', async () => {
    const pushed = later();
    const src = new FakeSource([pushed.script]);
    const w = watch(src);
    pushed.push(ev('immich'));
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed).toEqual(['immich']);
    // inside the window: this one waits for the window's end, and stop comes first
    pushed.push(ev('immich'));
    await vi.advanceTimersByTimeAsync(100);
    await w.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(refreshed).toEqual(['immich']);
    expect(src.attempts).toHaveLength(1);
  });

  it('stop does not wait out a reconnect delay, and nothing connects afterwards', async () => {
    const src = new FakeSource([]);
    const w = watch(src);
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000 + 100); // now in a 4 s wait
    let stopped = false;
    void w.stop().then(() => { stopped = true; });
    await vi.advanceTimersByTimeAsync(0); // no timer needs to fire
    expect(stopped).toBe(true);
    const n = src.attempts.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(src.attempts).toHaveLength(n);
  });

  it('stop waits for a refresh that already started', async () => {
    let finish!: () => void;
    const src = new FakeSource([open([ev('immich')], 'hold')]);
    const w = watch(src, { refreshProject: () => new Promise<void>((r) => { finish = r; }) });
    await vi.advanceTimersByTimeAsync(300);
    let stopped = false;
    void w.stop().then(() => { stopped = true; });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(true);
  });

  it('start is once: a second start opens no second stream; start after stop does nothing', async () => {
    const src = new FakeSource([open([], 'hold')]);
    const w = watch(src);
    w.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(src.attempts).toHaveLength(1);
    await w.stop();
    w.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(src.attempts).toHaveLength(1);
  });

  it('stop before start resolves', async () => {
    const w = new EventWatcher({ source: new FakeSource([]), logger: pino({ level: 'silent' }), refreshProject: async () => undefined });
    await expect(w.stop()).resolves.toBeUndefined();
  });
});
