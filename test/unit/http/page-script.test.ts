// The status page's script, run in a bare V8 context with just the DOM and EventSource it touches: when it
// cannot stay live it falls back to the page's reload, as the <noscript> meta refresh does without scripts.
// (The real browser runs it in test/system/status-page.test.ts.)
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { PAGE_SCRIPT, REFRESH_SECONDS } from '../../../src/http/page/assets.js';
import { NOSCRIPT_REFRESH_SECONDS } from '../../../src/http/page/render.js';

class FakeEventSource {
  static last?: FakeEventSource;
  readyState = 0; // CONNECTING
  readonly listeners = new Map<string, ((e: { data?: string }) => void)[]>();
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(type: string, fn: (e: { data?: string }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  emit(type: string, e: { data?: string } = {}): void {
    for (const fn of this.listeners.get(type) ?? []) fn(e);
  }
}

/** An element with attributes and text, enough for the script's update(). */
class FakeElement {
  readonly attrs = new Map<string, string>();
  textContent = '';
  constructor(attrs: Record<string, string>, readonly children: FakeElement[] = []) {
    for (const [k, v] of Object.entries(attrs)) this.attrs.set(k, v);
  }
  getAttribute(k: string): string | null { return this.attrs.get(k) ?? null; }
  setAttribute(k: string, v: string): void { this.attrs.set(k, v); }
  removeAttribute(k: string): void { this.attrs.delete(k); }
  querySelectorAll(sel: string): FakeElement[] {
    if (sel !== '[data-f]') throw new Error(`unexpected selector ${sel}`);
    return this.children.filter((c) => c.attrs.has('data-f'));
  }
}

function runPage(opts: { eventSource: boolean; rows?: FakeElement[] }) {
  const live = { textContent: 'loading…' };
  const timeouts: { fn: () => void; ms: number }[] = [];
  let reloads = 0;
  FakeEventSource.last = undefined;
  const context: Record<string, unknown> = {
    document: {
      getElementById: (id: string) => (id === 'live' ? live : null),
      querySelectorAll: (sel: string) => (sel === '[data-stack]' ? opts.rows ?? [] : []),
      body: { getAttribute: () => 'index' },
    },
    location: { reload: () => { reloads += 1; } },
    setInterval: () => 0,
    setTimeout: (fn: () => void, ms: number) => { timeouts.push({ fn, ms }); return timeouts.length; },
    ...(opts.eventSource ? { EventSource: FakeEventSource } : {}),
  };
  context['window'] = context;
  runInNewContext(PAGE_SCRIPT, context);
  // (the script set it: TypeScript cannot see that through runInNewContext)
  const es = FakeEventSource.last as FakeEventSource | undefined;
  return { live, timeouts, reloads: () => reloads, es };
}

describe('the status page script without a live stream', () => {
  it('the fallback reloads as often as the <noscript> meta refresh', () => {
    expect(REFRESH_SECONDS).toBe(NOSCRIPT_REFRESH_SECONDS);
  });

  it('no EventSource: says so and reloads the page after the refresh interval', () => {
    const page = runPage({ eventSource: false });
    expect(page.live.textContent).toBe(`not live (no EventSource): reloads every ${REFRESH_SECONDS} s`);
    expect(page.timeouts.map((t) => t.ms)).toEqual([REFRESH_SECONDS * 1000]);
    expect(page.reloads()).toBe(0);
    page.timeouts[0]?.fn();
    expect(page.reloads()).toBe(1);
  });

  it('a stream that gave up (readyState CLOSED): one reload scheduled, however often it says so', () => {
    const page = runPage({ eventSource: true });
    if (!page.es) throw new Error('the script opened no EventSource');
    expect(page.es.url).toBe('/v1/events');
    page.es.readyState = 2;
    page.es.emit('error');
    page.es.emit('error');
    expect(page.live.textContent).toBe(`not live (the event stream failed): reloads every ${REFRESH_SECONDS} s`);
    expect(page.timeouts.map((t) => t.ms)).toEqual([REFRESH_SECONDS * 1000]);
    page.timeouts[0]?.fn();
    expect(page.reloads()).toBe(1);
  });

  it('a dropped connection EventSource retries by itself: no reload, and live again when it reopens', () => {
    const page = runPage({ eventSource: true });
    if (!page.es) throw new Error('the script opened no EventSource');
    page.es.emit('open');
    expect(page.live.textContent).toBe('live');
    page.es.readyState = 0; // CONNECTING again
    page.es.emit('error');
    expect(page.live.textContent).toBe('reconnecting…');
    expect(page.timeouts).toEqual([]);
    page.es.readyState = 1;
    page.es.emit('open');
    expect(page.live.textContent).toBe('live');
    expect(page.reloads()).toBe(0);
  });
});

describe('the status page script on a `stack` event', () => {
  it('rewrites the row\'s cells, the last reconcile and the last update aged from their finishedAt', () => {
    const cells = ['state', 'reason', 'last', 'update'].map((f) => new FakeElement({ 'data-f': f }));
    const row = new FakeElement({ 'data-stack': 'immich', 'data-state': 'converged' }, cells);
    const page = runPage({ eventSource: true, rows: [row] });
    const finishedAt = new Date(Date.now() - 3 * 3600_000).toISOString();
    page.es?.emit('stack', {
      data: JSON.stringify({
        name: 'immich', state: 'degraded', health: 'degraded', desired: 'running', phase: 'idle', containers: [],
        lastResult: { result: 'ok', finishedAt: new Date().toISOString() },
        lastUpdate: { result: 'rolled back', finishedAt },
      }),
    });
    expect(row.getAttribute('data-state')).toBe('degraded');
    const text = Object.fromEntries(cells.map((c) => [c.getAttribute('data-f'), c.textContent]));
    expect(text).toEqual({ state: 'degraded', reason: '', last: 'ok now', update: 'rolled back 3h ago' });
    expect(cells[3]?.getAttribute('data-at')).toBe(finishedAt);
  });
});
