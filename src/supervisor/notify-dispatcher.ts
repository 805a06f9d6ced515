// Sends each notification to every configured notifier, in parallel, each with a few bounded retries — and
// never fails the work that caused it: a reconcile or an update run does not wait for, nor fail with, a
// Gotify server that is down. A notifier that still fails is logged and counted (onFailure), and that is all.
import type { Logger } from 'pino';
import { errorCode } from '../core/errors.js';
import { buildStackTransitionNotifications, buildUpdateRunNotification, buildWatchWindowNotification } from '../core/notify/messages.js';
import { decideStateChange, type NotifiedState, type StackVerdict } from '../core/notify/state-changes.js';
import { decideUpdateNews, type UpdateNotified } from '../core/notify/update-news.js';
import type { MessageContext, UpdateRunOutcome, WatchWindowChange } from '../core/notify/types.js';
import type { Lifecycle } from './lifecycle.js';
import type { Notification, NotifierPort } from './ports.js';

export interface NotifyDispatcherOptions {
  notifiers: readonly NotifierPort[];
  logger: Logger;
  /** the host's name, for titles */
  host: string;
  /** config notify.onSuccess: also announce applied updates (problems and available updates always go out) */
  onSuccess: boolean;
  /** a notifier gave up on a notification after its retries (for stackd_notify_failures_total{notifier}) */
  onFailure?: (kind: NotifierPort['kind'], target: string) => void;
  /** scrubs secrets from every text sent; the builders' callers may pass a narrower one per call. Default: none */
  redact?: (text: string) => string;
  /** tries per notifier and notification, the first included. Default 3. */
  attempts?: number;
  /** the wait before each retry (the last entry repeats). Default 1 s, then 4 s. */
  retryDelaysMs?: readonly number[];
  /** how long stop() waits for notifications still being sent. Default 15 s. */
  drainMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_RETRY_DELAYS_MS = [1_000, 4_000] as const;

export class NotifyDispatcher implements Lifecycle {
  readonly name = 'notify';
  private notifiers: readonly NotifierPort[];
  private onSuccess: boolean;
  private readonly log: Logger;
  private readonly attempts: number;
  private readonly delays: readonly number[];
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly redact: (text: string) => string;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly notified = new Map<string, NotifiedState>();
  /** what the owner was last told per updated service (decideUpdateNews) */
  private updateNotified: UpdateNotified = new Map();
  private stopping = false;

  constructor(private readonly opts: NotifyDispatcherOptions) {
    this.notifiers = [...opts.notifiers];
    this.onSuccess = opts.onSuccess;
    this.log = opts.logger.child({ component: 'notify' });
    this.attempts = Math.max(1, Math.floor(opts.attempts ?? 3));
    this.delays = opts.retryDelaysMs?.length ? opts.retryDelaysMs : DEFAULT_RETRY_DELAYS_MS;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.redact = opts.redact ?? ((t) => t);
  }

  start(): void {
    this.stopping = false;
  }

  /**
   * A new config's notifiers and onSuccess (config reload). Notifications already being sent finish with the
   * notifiers they started with; what was last told per stack is kept.
   */
  configure(next: { notifiers: readonly NotifierPort[]; onSuccess: boolean }): void {
    this.notifiers = [...next.notifiers];
    this.onSuccess = next.onSuccess;
  }

  /** Lets the notifications being sent finish (no new retries), for at most drainMs. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => { timer = setTimeout(r, this.opts.drainMs ?? 15_000); });
    await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
    clearTimeout(timer);
  }

  /** Resolves once every notification sent so far has been delivered or given up on (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** What the owner was last told about each stack (for tests and status). */
  get notifiedStates(): ReadonlyMap<string, NotifiedState> {
    return this.notified;
  }

  /**
   * After every reconcile: notifies when the verdict changes the stack's condition (failed, violating, ok again),
   * never on a retry that fails the same way. Resolves when sent; never rejects.
   */
  notifyStackVerdict(stack: string, verdict: StackVerdict, redact?: (text: string) => string): Promise<void> {
    const decision = decideStateChange(this.notified, stack, verdict);
    // remembered before sending, and even when sending fails: "once per change", not once per successful send
    if (decision.next === undefined) this.notified.delete(stack);
    else this.notified.set(stack, decision.next);
    if (!decision.transition) return Promise.resolve();
    const messages = buildStackTransitionNotifications([decision.transition], this.context(redact));
    return Promise.all(messages.map((n) => this.send(n))).then(() => undefined);
  }

  /**
   * After an update run: its one message (problems, available updates, applied ones with onSuccess), if any —
   * with only the rows that changed since the last run (decideUpdateNews); a dry run sends nothing.
   */
  notifyUpdateRun(outcome: UpdateRunOutcome, redact?: (text: string) => string): Promise<void> {
    if (outcome.dryRun) return Promise.resolve();
    const decision = decideUpdateNews(this.updateNotified, outcome.rows);
    // remembered before sending, and even when sending fails (as for stacks)
    this.updateNotified = decision.next;
    const n = buildUpdateRunNotification({ rows: decision.news }, this.context(redact), { includeApplied: this.onSuccess });
    return n ? this.send(n) : Promise.resolve();
  }

  /** The health watch window's one alert after a deploy, or its one recovery (the watch decides; this sends). */
  notifyWatchWindow(change: WatchWindowChange, redact?: (text: string) => string): Promise<void> {
    return this.send(buildWatchWindowNotification(change, this.context(redact)));
  }

  /** Fans one notification out to every notifier in parallel, with retries. Never rejects. */
  send(n: Notification): Promise<void> {
    if (n.event === 'update-applied' && !this.onSuccess) {
      this.log.debug({ event: n.event }, 'not sent: notify.onSuccess is off');
      return Promise.resolve();
    }
    if (this.notifiers.length === 0) return Promise.resolve();
    const scrubbed = this.scrub(n);
    const done = Promise.allSettled(this.notifiers.map((notifier) => this.deliver(notifier, scrubbed))).then(() => undefined);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }

  private async deliver(notifier: NotifierPort, n: Notification): Promise<void> {
    const at = { notifier: notifier.kind, target: notifier.target, event: n.event };
    for (let attempt = 1; ; attempt++) {
      try {
        await notifier.send(n);
        this.log.info({ ...at, attempt }, 'notification sent');
        return;
      } catch (err) {
        const last = attempt >= this.attempts || this.stopping || !worthRetrying(err);
        if (last) {
          this.log.warn({ ...at, attempts: attempt, err }, 'notification not delivered; the work it reports on is not affected');
          try {
            this.opts.onFailure?.(notifier.kind, notifier.target);
          } catch (cbErr) {
            this.log.error({ ...at, err: cbErr }, 'the notify failure callback threw');
          }
          return;
        }
        const delay = this.delays[Math.min(attempt - 1, this.delays.length - 1)] ?? 0;
        this.log.debug({ ...at, attempt, retryInMs: delay, err }, 'notification failed; retrying');
        await this.sleep(delay);
      }
    }
  }

  private context(redact: ((text: string) => string) | undefined): MessageContext {
    const outer = this.redact;
    return { host: this.opts.host, redact: redact ? (t) => outer(redact(t)) : outer };
  }

  /** The dispatcher's own redactor over every text, whoever built the notification. */
  private scrub(n: Notification): Notification {
    const r = this.redact;
    return {
      ...n,
      title: r(n.title),
      message: r(n.message),
      items: n.items.map((i) => ({
        stack: i.stack,
        ...(i.service !== undefined ? { service: r(i.service) } : {}),
        ...(i.image !== undefined ? { image: r(i.image) } : {}),
        ...(i.reason !== undefined ? { reason: r(i.reason) } : {}),
      })),
    };
  }
}

/** A definite refusal (4xx other than timeout and rate limit) will not change in the next few seconds. */
function worthRetrying(err: unknown): boolean {
  if (errorCode(err) !== 'STACKD_NOTIFY_HTTP') return true;
  const status = typeof err === 'object' && err !== null && 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 0;
  return !(status >= 400 && status < 500) || status === 408 || status === 429;
}
