// One stream of stack status changes (GET /v1/events) from the many places a status can change: the observed
// store (containers, verdicts), the queue's phases, the persisted levels, a new config — and time itself (a start
// period or watch window running out turns `progressing` into `degraded` with nothing else happening). Rather than
// derive the change from each source, every source only pokes the feed; the feed derives every stack's status
// (the same JSON as GET /v1/stacks/:name) and announces those whose JSON differs from the last one announced.
// It costs nothing while nobody listens: no comparison, no timer.
import type { StackStatus } from '../core/model.js';
import type { StackEvent, StackEvents } from './api.js';

export interface StatusFeedOptions {
  /** every stack's status, as GET /v1/stacks lists it */
  list: () => StackStatus[];
  /** how often the list is compared anyway while someone listens (the changes time alone makes). Default 2 s. */
  sweepMs?: number;
}

export class StatusFeed implements StackEvents {
  private readonly listeners = new Set<(event: StackEvent) => void>();
  /** the JSON last announced per stack (only while someone listens) */
  private readonly last = new Map<string, string>();
  private pending = false;
  private sweep?: NodeJS.Timeout;

  constructor(private readonly opts: StatusFeedOptions) {}

  subscribe(listener: (event: StackEvent) => void): () => void {
    if (this.listeners.size === 0) this.begin();
    this.listeners.add(listener);
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      this.end();
    };
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Something may have changed. Pokes in one turn of the event loop are one comparison. */
  poke(): void {
    if (this.listeners.size === 0 || this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.compare();
    });
  }

  private begin(): void {
    for (const s of this.opts.list()) this.last.set(s.name, JSON.stringify(s));
    // unref: an open event stream must never keep stackd from exiting
    this.sweep = setInterval(() => this.compare(), this.opts.sweepMs ?? 2_000);
    this.sweep.unref();
  }

  private end(): void {
    clearInterval(this.sweep);
    this.sweep = undefined;
    this.last.clear();
  }

  private compare(): void {
    if (this.listeners.size === 0) return;
    const seen = new Set<string>();
    const events: StackEvent[] = [];
    for (const stack of this.opts.list()) {
      seen.add(stack.name);
      const json = JSON.stringify(stack);
      if (this.last.get(stack.name) === json) continue;
      this.last.set(stack.name, json);
      events.push({ kind: 'stack', stack });
    }
    for (const name of [...this.last.keys()]) {
      if (seen.has(name)) continue;
      this.last.delete(name);
      events.push({ kind: 'gone', name });
    }
    for (const event of events) {
      for (const l of [...this.listeners]) {
        try {
          l(event);
        } catch {
          // a listener's failure (a client gone mid-write) is its own business; the others still hear
        }
      }
    }
  }
}
