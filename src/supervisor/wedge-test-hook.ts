// The watchdog test's wedge. With STACKD_TEST_WEDGE_ON=SIGUSR2, that signal blocks stackd's event loop for
// good: the JavaScript thread waits on a lock nobody ever releases (Atomics.wait: no CPU burnt), so no timer
// fires, no request is answered and no WATCHDOG=1 goes out, exactly as a loop that never yields. Unlike SIGSTOP
// the process keeps running, so only a watchdog fed from the event loop notices (one fed from a thread or a
// helper process would not). Never set in production.
import type { Logger } from 'pino';
import { InvalidOptionError } from '../core/errors.js';

const SIGNALS = ['SIGUSR2'] as const;
type WedgeSignal = typeof SIGNALS[number];

export interface WedgeDeps {
  on(signal: WedgeSignal, handler: () => void): unknown;
  /** blocks the calling thread for good */
  block(): void;
}

/** The thread waits for a notify that never comes; Node allows Atomics.wait on its main thread. */
export function blockForever(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

const processDeps: WedgeDeps = {
  on: (signal, handler) => process.on(signal, handler),
  block: blockForever,
};

/** Arms the hook when `value` names the signal; returns whether it did. */
export function wedgeTestHook(value: string | undefined, logger: Logger, deps: WedgeDeps = processDeps): boolean {
  if (value === undefined || value === '') return false;
  const signal = SIGNALS.find((s) => s === value);
  if (!signal) throw new InvalidOptionError('STACKD_TEST_WEDGE_ON', `one of ${SIGNALS.join(', ')} (a watchdog-test hook: unset it)`, value);
  logger.warn({ signal }, 'watchdog-test hook armed: this signal blocks the event loop for good (STACKD_TEST_WEDGE_ON)');
  deps.on(signal, () => {
    logger.warn({ signal }, 'event loop blocked for a watchdog test');
    deps.block();
  });
  return true;
}
