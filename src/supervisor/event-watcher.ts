// Follows podman's libpod event stream and keeps observed state live: a container event of a compose
// project re-lists that project (debounced). Events update what stackd reports; they never trigger a
// compose run (repair by events would turn a dead dependency into a delete-recreate loop).
import type { Logger } from 'pino';
import { COMPOSE_PROJECT_LABELS } from '../core/podman-parse.js';

export interface EventSource {
  events(opts: { signal: AbortSignal }): AsyncIterable<unknown>;
}

export interface EventWatcherOptions {
  source: EventSource;
  refreshProject: (project: string) => Promise<void>;
  logger: Logger;
  debounceMs?: number;
  reconnectMaxMs?: number;
  onConnection?: (up: boolean) => void;
}

export function projectOfEvent(ev: unknown): string | undefined {
  if (typeof ev !== 'object' || ev === null) return undefined;
  const e = ev as { Type?: unknown; Actor?: { Attributes?: Record<string, unknown> } };
  if (e.Type !== 'container') return undefined;
  const attrs = e.Actor?.Attributes ?? {};
  for (const label of COMPOSE_PROJECT_LABELS) {
    const v = attrs[label];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}

export class EventWatcher {
  private readonly abort = new AbortController();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private loop?: Promise<void>;

  constructor(private readonly opts: EventWatcherOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const t of this.pending.values()) clearTimeout(t);
    await this.loop?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    let delay = 500;
    while (!this.abort.signal.aborted) {
      try {
        const stream = this.opts.source.events({ signal: this.abort.signal });
        this.opts.onConnection?.(true);
        delay = 500;
        for await (const ev of stream) {
          const project = projectOfEvent(ev);
          if (project) this.schedule(project);
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.opts.onConnection?.(false);
        this.opts.logger.warn({ err, retryInMs: delay }, 'podman event stream broke; reconnecting');
      }
      if (this.abort.signal.aborted) return;
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(delay * 2, this.opts.reconnectMaxMs ?? 30_000);
    }
  }

  private schedule(project: string): void {
    if (this.pending.has(project)) return;
    const t = setTimeout(() => {
      this.pending.delete(project);
      this.opts.refreshProject(project).catch((err: unknown) => this.opts.logger.warn({ err, project }, 'refresh after event failed'));
    }, this.opts.debounceMs ?? 300);
    t.unref();
    this.pending.set(project, t);
  }
}
