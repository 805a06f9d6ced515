// The shapes of notifications and of the domain events they are built from. Plain data only.
//
// `Notification` and `NotifyEvent` are the same shapes src/supervisor/ports.ts declares for NotifierPort: the core
// may not import from the supervisor (not even a type), so they are declared here and a type test
// (test/unit/supervisor/notify-dispatcher.test.ts) keeps the two identical.
import type { ReasonCode } from '../reason-codes.js';
import type { Updated } from '../update/types.js';

export type NotifyEvent =
  | 'update-failed' | 'update-rolled-back' | 'update-available' | 'update-applied'
  | 'reconcile-failed' | 'invariant-violation' | 'recovered'
  | 'deploy-unhealthy' | 'deploy-recovered';

export type NotifyPriority = 'low' | 'default' | 'high';

export interface NotificationItem {
  stack: string;
  service?: string;
  image?: string;
  reason?: string;
}

/** One message: a run's or a state change's, listing every stack/service it concerns. */
export interface Notification {
  event: NotifyEvent;
  title: string;
  /** plain text, redacted; may hold several lines (the failing container's last log lines) */
  message: string;
  priority: NotifyPriority;
  tags: string[];
  items: NotificationItem[];
}

/** What every message builder needs from its caller. */
export interface MessageContext {
  /** the host's name, for the title: the owner's phone gets messages from several hosts */
  host: string;
  /** scrubs secret values (env-file values) out of every text; applied before anything is shortened */
  redact: (text: string) => string;
}

// --- registry updates -----------------------------------------------------------------------------------------

/** One service of an update run, in podman auto-update's vocabulary (`updated`). */
export interface UpdateRunRow {
  stack: string;
  service: string;
  /** the reference as configured, e.g. ghcr.io/immich-app/immich-server:release */
  image: string;
  updated: Updated;
  /** why: the registry error, the health gate's verdict, … */
  reason?: string;
  /** the last lines the failing container printed (a rolled-back or failed service), as podman returned them */
  logTail?: string;
  /** the platform digest the registry serves (when known): an available update is announced once per digest */
  digest?: string;
}

/** What one update run (all stacks it looked at) did. */
export interface UpdateRunOutcome {
  rows: UpdateRunRow[];
  /** a dry run is the owner asking at the terminal: its table is the answer, nothing is sent */
  dryRun?: boolean;
}

// --- reconcile verdicts ---------------------------------------------------------------------------------------

/** A stack as notifications see it: fine, failing, or refused because it breaks the label invariant. */
export type StackCondition = 'ok' | 'failed' | 'violating';

/** A change of a stack's condition that is worth one message. */
export interface StackTransition {
  stack: string;
  /** 'unknown': the first verdict stackd saw for this stack since it started */
  from: StackCondition | 'unknown';
  to: StackCondition;
  /** failed/violating: the new verdict's code; ok (recovered): the code it had failed with */
  reasonCode?: ReasonCode;
  /** failed/violating: the new verdict's reason (already redacted by the reconciler; redacted again anyway) */
  reason?: string;
}

// --- the health watch window after a deploy ---------------------------------------------------------------

/** What the watch window decided about a stack: the one alert at the window's end, or the one recovery. */
export interface WatchWindowChange {
  stack: string;
  kind: 'alert' | 'recover';
  /** the window that was waited (the stack's healthWindow), ms */
  windowMs: number;
  /** alert: the services not fine at the window's end, and why */
  unwell?: readonly { service: string; why: string }[];
  /** what stackd does about it on its own (config repair) */
  repair: 'none' | 'reconcile';
}
