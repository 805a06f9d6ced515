// "Once per state change, never per retry": whether a reconcile verdict is news. A stack the queue retries
// every few minutes with the same failure must not buzz the owner's phone every few minutes; a different
// failure, a recovery, or a first failure must.
import type { ReasonCode } from '../reason-codes.js';
import type { StackCondition, StackTransition } from './types.js';

/** What the owner was last told about a stack (absent: nothing yet since stackd started). */
export type NotifiedState =
  | { condition: 'ok' }
  | { condition: 'failed' | 'violating'; reasonCode?: ReasonCode };

/** The part of a reconcile result (src/core/model.ts ReconcileResult) the decision reads. */
export interface StackVerdict {
  result: 'ok' | 'failed' | 'skipped';
  reasonCode?: ReasonCode;
  reason?: string;
}

export interface StateChangeDecision {
  /** what to remember for the stack from now on; undefined: forget it (it left the config) */
  next: NotifiedState | undefined;
  /** present when the verdict is news: the change to announce */
  transition?: StackTransition;
}

/**
 * Where the verdict puts the stack. A skip (`unchanged`: inputs as at the last good up, every service running)
 * is ok. `not-configured` is the stack leaving the config, whatever happened to its containers: 'gone'.
 * A failure for the label invariant is a violation (nothing was touched), any other failure is a failure.
 */
export function conditionOf(verdict: StackVerdict): StackCondition | 'gone' {
  if (verdict.reasonCode === 'not-configured' && verdict.result !== 'failed') return 'gone';
  if (verdict.result !== 'failed') return 'ok';
  return verdict.reasonCode === 'label-invariant' ? 'violating' : 'failed';
}

/**
 * Decides, from what was last notified per stack and the stack's new verdict, whether to notify:
 *   (nothing) → ok           no (a healthy start is not news)
 *   (nothing) → failed       yes (after a restart, a still-broken stack is announced once more)
 *   ok → ok                  no
 *   ok → failed/violating    yes
 *   failed X → failed X      no (a retry with the same reason code)
 *   failed X → failed Y      yes (a different reason code is a different problem)
 *   failed/violating → ok    yes, as recovered
 *   any → gone               no; the stack is forgotten
 * Pure: the caller stores `next` (even when sending fails, so a notifier that is down is not retried by the
 * reconcile loop too).
 */
export function decideStateChange(
  last: ReadonlyMap<string, NotifiedState>, stack: string, verdict: StackVerdict,
): StateChangeDecision {
  const before = last.get(stack);
  const to = conditionOf(verdict);
  if (to === 'gone') return { next: undefined };
  if (to === 'ok') {
    if (before === undefined || before.condition === 'ok') return { next: { condition: 'ok' } };
    return {
      next: { condition: 'ok' },
      transition: { stack, from: before.condition, to, ...(before.reasonCode ? { reasonCode: before.reasonCode } : {}) },
    };
  }
  const next: NotifiedState = { condition: to, ...(verdict.reasonCode ? { reasonCode: verdict.reasonCode } : {}) };
  if (before !== undefined && before.condition === to && before.reasonCode === verdict.reasonCode) return { next };
  return {
    next,
    transition: {
      stack,
      from: before?.condition ?? 'unknown',
      to,
      ...(verdict.reasonCode ? { reasonCode: verdict.reasonCode } : {}),
      ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
    },
  };
}
