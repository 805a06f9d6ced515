// Follows podman's libpod event stream and keeps observed state live: a container event of a compose
// project re-lists that project at once, and events within debounceMs after that become one more re-list at
// the end of the window (a dying container is seen within milliseconds; a deploy's burst of events costs
// a few lists, not one per event). Events update what stackd reports; they never trigger a
// compose run (repair by events would turn a dead dependency into a delete-recreate loop).
//
// "Connected" means podman ANSWERED the events request (the source's onOpen), not that a request was sent:
// stackd_podman_up must not flap to 1 while podman is down. For the same reason the reconnect delay goes back
// to its base only after an answer; attempts that get none wait 500 ms, 1 s, 2 s … up to reconnectMaxMs.
import type { Logger } from 'pino';
import { COMPOSE_PROJECT_LABELS } from '../core/podman-parse.js';

export interface EventSource {
  /** `onOpen` is called once the source answered (the stream is up), before its first event */
  events(opts: { signal: AbortSignal; onOpen: () => void }): AsyncIterable<unknown>;
}

export interface EventWatcherOptions {
  source: EventSource;
  refreshProject: (project: string) => Promise<void>;
  logger: Logger;
  /** at most one refresh of a project per window: the first at once, later events of the window at its end. Default 300 ms. */
  debounceMs?: number;
  /** the first reconnect delay; it doubles per attempt without an answer. Default 500 ms. */
  reconnectBaseMs?: number;
  /** the longest reconnect delay. Default 30 s. */
  reconnectMaxMs?: number;
  /** false when the event cannot change what stackd shows for the project (default: every event can) */
  isNews?: (ev: unknown, project: string) => boolean;
  /** true when the stream answered, false when it was lost or could not be opened; changes only */
  onConnection?: (up: boolean) => void;
}

/**
 * Container events after which a list shows nothing new: `kill` only sends the signal (`died` follows once it
 * takes effect; a list right after `kill` would still say running), exec and the rest change no state.
 */
const NO_STATE_CHANGE = new Set(['kill', 'exec', 'exec_died', 'attach', 'mount', 'unmount', 'commit', 'export', 'checkpoint', 'sync']);

/** The compose project whose list a container event may change, or undefined. */
export function projectOfEvent(ev: unknown): string | undefined {
  if (typeof ev !== 'object' || ev === null) return undefined;
  const e = ev as { Type?: unknown; Action?: unknown; status?: unknown; Actor?: { Attributes?: Record<string, unknown> } };
  if (e.Type !== 'container') return undefined;
  const action = e.Action ?? e.status;
  if (typeof action === 'string' && NO_STATE_CHANGE.has(action)) return undefined;
  const attrs = e.Actor?.Attributes ?? {};
  for (const label of COMPOSE_PROJECT_LABELS) {
    const v = attrs[label];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}

export class EventWatcher {
  private readonly abort = new AbortController();
  /** debounced refreshes not yet started, by project */
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<void>>();
  /** when each project's last refresh started (Date.now()), for the window */
  private readonly lastRefreshAt = new Map<string, number>();
  private loop?: Promise<void>;
  private connected?: boolean;

  constructor(private readonly opts: EventWatcherOptions) {}

  /** Starts following events. Once only: a second call, or one after stop(), does nothing. */
  start(): void {
    if (this.loop || this.abort.signal.aborted) return;
    this.loop = this.run().catch((err: unknown) => this.opts.logger.error({ err }, 'podman event watcher failed; events no longer followed'));
  }

  /**
   * Stops following events: closes the stream, cancels the reconnect wait and the refreshes not yet started,
   * and resolves when the loop and any refresh already running have finished (nothing of it runs afterwards).
   */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    await this.loop;
    await Promise.allSettled([...this.inflight]);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const base = this.opts.reconnectBaseMs ?? 500;
    const max = this.opts.reconnectMaxMs ?? 30_000;
    let delay = base;
    while (!signal.aborted) {
      let opened = false;
      let error: unknown;
      try {
        const onOpen = () => {
          if (signal.aborted) return;
          opened = true;
          delay = base;
          this.setConnected(true);
        };
        for await (const ev of this.opts.source.events({ signal, onOpen })) {
          const project = projectOfEvent(ev);
          if (project && (this.opts.isNews?.(ev, project) ?? true)) this.schedule(project);
        }
      } catch (err) {
        error = err;
      }
      if (signal.aborted) return;
      this.setConnected(false);
      const msg = !opened ? 'podman event stream could not be opened; retrying'
        : error === undefined ? 'podman closed the event stream; reconnecting' : 'podman event stream broke; reconnecting';
      this.opts.logger.warn({ err: error, retryInMs: delay }, msg);
      if (!(await sleep(delay, signal))) return;
      delay = Math.min(delay * 2, max);
    }
  }

  private setConnected(up: boolean): void {
    if (this.connected === up) return;
    this.connected = up;
    this.opts.onConnection?.(up);
  }

  private schedule(project: string): void {
    if (this.pending.has(project) || this.abort.signal.aborted) return;
    const windowMs = this.opts.debounceMs ?? 300;
    const now = Date.now();
    const last = this.lastRefreshAt.get(project);
    const waitMs = last === undefined ? 0 : Math.max(0, last + windowMs - now);
    if (this.lastRefreshAt.size > 256) this.forgetBefore(now - windowMs);
    const t = setTimeout(() => {
      this.pending.delete(project);
      this.lastRefreshAt.set(project, Date.now());
      const p: Promise<void> = this.opts.refreshProject(project)
        .catch((err: unknown) => this.opts.logger.warn({ err, project }, 'refresh after event failed'))
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }, waitMs);
    t.unref();
    this.pending.set(project, t);
  }

  /** projects whose window has passed need no entry: their next event refreshes at once anyway */
  private forgetBefore(cutoffMs: number): void {
    for (const [p, at] of this.lastRefreshAt) if (at < cutoffMs) this.lastRefreshAt.delete(p);
  }
}

/** Resolves true after ms, or false as soon as the signal aborts (stop() must not wait out a 30 s backoff). */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    t.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
