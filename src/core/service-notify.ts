// What systemd asked of stackd through the environment it started it with (sd_notify(3), sd_watchdog_enabled(3)):
// a notification socket to report readiness on, and a watchdog interval to keep. Pure: main passes the values in.

export interface ServiceNotifyPlan {
  /** $NOTIFY_SOCKET: a path, or an abstract socket starting with '@'; absent → tell systemd nothing */
  socket?: string;
  /** how often to send WATCHDOG=1: half of $WATCHDOG_USEC (systemd's advice); absent → no watchdog */
  watchdogEveryMs?: number;
}

/**
 * systemd sets WATCHDOG_USEC (and WATCHDOG_PID, the process it meant) when the unit has WatchdogSec=. A
 * WATCHDOG_PID of another process means the variables were inherited, not meant for us: no watchdog then.
 * Without a notification socket there is nobody to send to, whatever else is set.
 */
export function serviceNotifyPlan(env: { NOTIFY_SOCKET?: string; WATCHDOG_USEC?: string; WATCHDOG_PID?: string }, pid: number): ServiceNotifyPlan {
  const socket = env.NOTIFY_SOCKET;
  if (!socket || !(socket.startsWith('/') || socket.startsWith('@'))) return {};
  const usec = env.WATCHDOG_USEC && /^\d+$/.test(env.WATCHDOG_USEC) ? Number(env.WATCHDOG_USEC) : 0;
  const forUs = env.WATCHDOG_PID === undefined || env.WATCHDOG_PID === '' || env.WATCHDOG_PID === String(pid);
  if (usec <= 0 || !forUs) return { socket };
  // at least every second: systemd's own floor for a sensible WatchdogSec is far above that
  return { socket, watchdogEveryMs: Math.max(1, Math.floor(usec / 2000)) };
}
