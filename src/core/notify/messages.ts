// Domain events → notifications. ONE message per run or state change, naming every stack/service it
// concerns (three rolled-back services are one message, not three pushes to the owner's phone).
// Every text passes through the caller's redactor BEFORE it is shortened: a cut must never leave half a
// secret that the redactor would no longer recognise.
import { REASONS, retriesByClock } from '../reason-codes.js';
import { writeDuration } from '../duration.js';
import { clip, lastLines, oneLine, plainText } from './text.js';
import type {
  MessageContext, Notification, NotificationItem, NotifyEvent, NotifyPriority, StackTransition, UpdateRunOutcome, UpdateRunRow,
  WatchWindowChange,
} from './types.js';

/** Bounds that keep a message readable on a phone (and under ntfy's 4 KiB message limit in the usual case). */
export const MESSAGE_LIMITS = {
  /** stack/service names spelled out in a title before "+N more" */
  titleNames: 3,
  /** rows written in the message body before "… and N more" (items always hold every row) */
  rows: 20,
  /** characters of one reason */
  reasonChars: 300,
  /** log lines of a failing container, and characters of each */
  logLines: 10,
  logLineChars: 200,
} as const;

interface EventInfo {
  priority: NotifyPriority;
  /** an ntfy tag that is also an emoji short code: the phone shows it in front of the title */
  emoji: string;
  /** what happened, for the title */
  phrase: string;
}

export const EVENT_INFO: Readonly<Record<NotifyEvent, EventInfo>> = {
  'update-failed': { priority: 'high', emoji: 'x', phrase: 'update failed' },
  'update-rolled-back': { priority: 'high', emoji: 'rewind', phrase: 'update rolled back' },
  'update-available': { priority: 'default', emoji: 'package', phrase: 'update available' },
  'update-applied': { priority: 'default', emoji: 'white_check_mark', phrase: 'updated' },
  'reconcile-failed': { priority: 'high', emoji: 'rotating_light', phrase: 'reconcile failed' },
  'invariant-violation': { priority: 'high', emoji: 'no_entry', phrase: 'label invariant violated' },
  recovered: { priority: 'default', emoji: 'green_heart', phrase: 'recovered' },
  'deploy-unhealthy': { priority: 'high', emoji: 'hourglass', phrase: 'deploy left unhealthy' },
  'deploy-recovered': { priority: 'default', emoji: 'green_heart', phrase: 'healthy again after deploy' },
};

// --- update runs ----------------------------------------------------------------------------------------------

type UpdateEvent = 'update-failed' | 'update-rolled-back' | 'update-available' | 'update-applied';

/** podman's `Updated` column → the event a row belongs to; rows without one (false, skipped) are not news. */
function updateEventOf(row: UpdateRunRow): UpdateEvent | undefined {
  switch (row.updated) {
    case 'failed': return 'update-failed';
    case 'rolled back': return 'update-rolled-back';
    case 'pending': return 'update-available';
    case 'true': return 'update-applied';
    default: return undefined;
  }
}

/** Most severe first: the message of a mixed run carries the event (and priority) of its worst row. */
const UPDATE_SEVERITY: readonly UpdateEvent[] = ['update-failed', 'update-rolled-back', 'update-available', 'update-applied'];

const UPDATE_WORD: Readonly<Record<UpdateEvent, string>> = {
  'update-failed': 'failed',
  'update-rolled-back': 'rolled back',
  'update-available': 'update available',
  'update-applied': 'updated',
};

export interface UpdateMessageOptions {
  /** include services that were updated (config notify.onSuccess); otherwise only problems and monitor-mode news */
  includeApplied: boolean;
}

/**
 * The one message of an update run: every failed, rolled-back and available service (and the updated ones
 * with `includeApplied`), or undefined when nothing in the run is news. A mixed run gets the event and
 * priority of its worst row, and each line says what happened to its service.
 */
export function buildUpdateRunNotification(
  outcome: UpdateRunOutcome, ctx: MessageContext, opts: UpdateMessageOptions,
): Notification | undefined {
  const rows = outcome.rows
    .map((row) => ({ row, event: updateEventOf(row) }))
    .filter((r): r is { row: UpdateRunRow; event: UpdateEvent } =>
      r.event !== undefined && (r.event !== 'update-applied' || opts.includeApplied))
    .sort((a, b) => UPDATE_SEVERITY.indexOf(a.event) - UPDATE_SEVERITY.indexOf(b.event));
  const worst = rows[0];
  if (!worst) return undefined;
  const event = worst.event;
  const mixed = rows.some((r) => r.event !== event);
  const items: NotificationItem[] = rows.map(({ row, event: e }) => ({
    stack: row.stack,
    service: scrubLine(ctx, row.service),
    image: scrubLine(ctx, row.image),
    reason: clip(scrubLine(ctx, row.reason ?? UPDATE_WORD[e]), MESSAGE_LIMITS.reasonChars),
  }));
  const lines: string[] = [];
  rows.slice(0, MESSAGE_LIMITS.rows).forEach(({ row, event: e }, i) => {
    const item = items[i] as NotificationItem;
    const reason = row.reason === undefined ? UPDATE_WORD[e] : mixed ? `${UPDATE_WORD[e]}: ${item.reason}` : item.reason;
    lines.push(`${item.stack}/${item.service} ${item.image}: ${reason}`);
    if (row.logTail !== undefined && row.logTail.trim() !== '') {
      const tail = lastLines(ctx.redact(plainText(ctx.redact(row.logTail))), MESSAGE_LIMITS.logLines, MESSAGE_LIMITS.logLineChars);
      lines.push(`  last ${tail.length === 1 ? 'log line' : `${tail.length} log lines`}:`, ...tail.map((l) => `  | ${l}`));
    }
  });
  if (rows.length > MESSAGE_LIMITS.rows) lines.push(`… and ${rows.length - MESSAGE_LIMITS.rows} more`);
  return notification(event, ctx, items.map((i) => `${i.stack}/${i.service}`), lines, items);
}

// --- reconcile state changes ----------------------------------------------------------------------------------

/** The event a stack transition is announced as. */
export function transitionEvent(t: StackTransition): 'reconcile-failed' | 'invariant-violation' | 'recovered' {
  return t.to === 'ok' ? 'recovered' : t.to === 'violating' ? 'invariant-violation' : 'reconcile-failed';
}

/**
 * Messages for stack transitions: one per kind of event among them (failures, violations, recoveries), each
 * naming every stack it concerns. A single transition — the usual case, one per reconcile — is one message.
 */
export function buildStackTransitionNotifications(transitions: readonly StackTransition[], ctx: MessageContext): Notification[] {
  const byEvent = new Map<NotifyEvent, StackTransition[]>();
  for (const t of transitions) {
    const e = transitionEvent(t);
    byEvent.set(e, [...(byEvent.get(e) ?? []), t]);
  }
  const out: Notification[] = [];
  for (const [event, ts] of byEvent) {
    const items = ts.map((t): NotificationItem => ({ stack: t.stack, reason: transitionReason(t, ctx) }));
    const lines = ts.slice(0, MESSAGE_LIMITS.rows).map((t, i) => transitionLine(t, items[i]?.reason ?? ''));
    if (ts.length > MESSAGE_LIMITS.rows) lines.push(`… and ${ts.length - MESSAGE_LIMITS.rows} more`);
    out.push(notification(event, ctx, ts.map((t) => t.stack), lines, items));
  }
  return out;
}

function transitionReason(t: StackTransition, ctx: MessageContext): string {
  if (t.to === 'ok') return t.reasonCode ? `ok again (was ${t.reasonCode})` : 'ok again';
  const code = t.reasonCode ?? 'unknown reason';
  const why = t.reason === undefined ? '' : clip(scrubLine(ctx, t.reason), MESSAGE_LIMITS.reasonChars);
  return why === '' ? code : `${code}: ${why}`;
}

/** `stack: reason`, and for a failure what stackd does next, so the owner knows whether to act. */
function transitionLine(t: StackTransition, reason: string): string {
  const line = `${t.stack}: ${reason}`;
  if (t.to === 'ok') return line;
  if (t.to === 'violating') return `${line}\n  nothing was touched; add the label named, then: stackctl up ${t.stack}`;
  const next = retriesByClock(t.reasonCode)
    ? 'stackd retries it with backoff'
    : `stackd waits for a change (config, files, or stackctl up ${t.stack})`;
  const meaning = t.reasonCode ? REASONS[t.reasonCode].meaning : undefined;
  return meaning ? `${line}\n  ${next}; ${meaning}` : `${line}\n  ${next}`;
}

// --- the health watch window ------------------------------------------------------------------------------

/**
 * The one message of a watch-window alert (`web: not healthy yet (starting)` per service, what stackd does
 * next, what to run) or of its recovery.
 */
export function buildWatchWindowNotification(change: WatchWindowChange, ctx: MessageContext): Notification {
  const window = writeDuration(change.windowMs);
  if (change.kind === 'recover') {
    const line = `${change.stack}: every service is healthy (or running) again after the deploy`;
    return notification('deploy-recovered', ctx, [change.stack], [line], [{ stack: change.stack, reason: 'healthy again' }]);
  }
  const unwell = change.unwell ?? [];
  const items = unwell.map((u): NotificationItem => ({ stack: change.stack, service: scrubLine(ctx, u.service), reason: clip(scrubLine(ctx, u.why), MESSAGE_LIMITS.reasonChars) }));
  const lines = [`${change.stack}: ${window} after the deploy (healthWindow), not healthy:`];
  for (const i of items.slice(0, MESSAGE_LIMITS.rows)) lines.push(`  ${i.service}: ${i.reason}`);
  if (items.length > MESSAGE_LIMITS.rows) lines.push(`  … and ${items.length - MESSAGE_LIMITS.rows} more`);
  lines.push(change.repair === 'reconcile'
    ? `stackd reconciles the stack when a container dies or turns unhealthy (repair: reconcile); see: stackctl status ${change.stack}`
    : `stackd does not act on it (repair: none); see: stackctl status ${change.stack}, podman logs <container>`);
  return notification('deploy-unhealthy', ctx, [change.stack], lines, items.length ? items : [{ stack: change.stack }]);
}

// --- shared ---------------------------------------------------------------------------------------------------

function notification(event: NotifyEvent, ctx: MessageContext, names: string[], lines: string[], items: NotificationItem[]): Notification {
  const info = EVENT_INFO[event];
  return {
    event,
    title: titleOf(info.phrase, scrubLine(ctx, ctx.host), names.map((n) => scrubLine(ctx, n))),
    message: lines.join('\n'),
    priority: info.priority,
    tags: [info.emoji, event],
    items,
  };
}

/** `stackd: update rolled back on nas: immich/server, immich/ml +1 more` */
function titleOf(phrase: string, host: string, names: string[]): string {
  const unique = [...new Set(names)];
  const shown = unique.slice(0, MESSAGE_LIMITS.titleNames).join(', ');
  const more = unique.length > MESSAGE_LIMITS.titleNames ? ` +${unique.length - MESSAGE_LIMITS.titleNames} more` : '';
  return `stackd: ${phrase} on ${host}: ${shown}${more}`;
}

/**
 * Redacted, then made one plain line, then redacted again: the first pass finds a secret as it was printed,
 * the second one that terminal sequences had split.
 */
function scrubLine(ctx: MessageContext, text: string): string {
  return ctx.redact(oneLine(ctx.redact(text)));
}
