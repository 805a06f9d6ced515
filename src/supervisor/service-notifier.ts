// stackd tells systemd the truth about itself (Type=notify): READY=1 only once the state file is loaded and
// podman answered, and WATCHDOG=1 from the event loop, so a wedged stackd (a loop that never yields) stops
// feeding the watchdog and systemd restarts it. Without a service manager (run by hand) it does nothing.
import type { Logger } from 'pino';
import type { ServiceManagerPort } from './ports.js';

export interface ServiceNotifierOptions {
  /** absent: not run by systemd (no $NOTIFY_SOCKET) */
  manager?: ServiceManagerPort;
  /** how often to send WATCHDOG=1 (half of WatchdogSec=); absent: no watchdog asked for */
  watchdogEveryMs?: number;
  /** true once stackd can serve: the state file is loaded and podman answers */
  isReady: () => Promise<boolean>;
  logger: Logger;
  /** between readiness checks while podman does not answer yet. Default 1 s. */
  retryMs?: number;
}

export class ServiceNotifier {
  private watchdogTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  private readySent = false;
  /** a watchdog message still on its way: the next tick does not pile another process on it */
  private feeding = false;

  constructor(private readonly opts: ServiceNotifierOptions) {}

  /** Starts feeding the watchdog (as early as possible: loading the state and podman may take a while). */
  startWatchdog(): void {
    const { manager, watchdogEveryMs } = this.opts;
    if (!manager || watchdogEveryMs === undefined || this.watchdogTimer) return;
    this.opts.logger.info({ everyMs: watchdogEveryMs }, 'feeding the systemd watchdog');
    this.watchdogTimer = setInterval(() => {
      if (this.feeding) return;
      this.feeding = true;
      manager.watchdog()
        .catch((err: unknown) => this.opts.logger.warn({ err }, 'could not feed the systemd watchdog'))
        .finally(() => { this.feeding = false; });
    }, watchdogEveryMs);
  }

  /** Sends READY=1 as soon as isReady() says so, asking again every retryMs; returns at once. */
  announceWhenReady(): void {
    if (!this.opts.manager || this.readySent || this.stopped) return;
    void this.tryReady();
  }

  /**
   * STOPPING=1 (when READY=1 went out) and no READY=1 any more. The watchdog is still fed: the shutdown lets a
   * running compose step finish, and a stackd that wedges while stopping should still be caught.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.opts.manager && this.readySent) {
      await this.opts.manager.stopping().catch((err: unknown) => this.opts.logger.warn({ err }, 'could not tell systemd that stackd is stopping'));
    }
  }

  /** The last call: stops feeding the watchdog. */
  close(): void {
    this.stopped = true;
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private async tryReady(): Promise<void> {
    const manager = this.opts.manager;
    if (!manager || this.stopped) return;
    let ready = false;
    try {
      ready = await this.opts.isReady();
      if (ready && !this.stopped) {
        await manager.ready();
        this.readySent = true;
        this.opts.logger.info('told systemd: ready');
        return;
      }
    } catch (err) {
      this.opts.logger.warn({ err }, 'could not tell systemd that stackd is ready; trying again');
    }
    if (this.stopped) return;
    if (!ready) this.opts.logger.debug('not ready for systemd yet (podman does not answer)');
    this.retryTimer = setTimeout(() => void this.tryReady(), this.opts.retryMs ?? 1000);
  }
}
