// The repair policy (config `repair`): what a podman event that shows a container died or went unhealthy does.
//   none       (default) the event updates what stackd reports (degraded, metrics, alerts) and nothing else;
//   reconcile  the stack is queued for one reconcile, at most once per window, through the queue (its backoff
//              stands: a stack waiting out a failure is not run sooner), so a dependency that keeps dying never
//              becomes a delete-recreate loop.
// Pure: the shell observes after the event, asks here, and remembers when it last repaired.
import type { DesiredState, ExpectedService, ObservedContainer, Phase } from './model.js';
import { unwellServices, type UnwellService } from './watch-window.js';

export type RepairPolicy = 'none' | 'reconcile';
export const REPAIR_POLICIES: readonly RepairPolicy[] = ['none', 'reconcile'];

export interface RepairInput {
  policy: RepairPolicy;
  desired: DesiredState;
  phase: Phase;
  expected: readonly ExpectedService[];
  containers: readonly ObservedContainer[];
  nowMs: number;
  /** the rate limit: at most one repair per this many ms (the stack's healthWindow) */
  windowMs: number;
  /** epoch ms of this stack's last repair, if any since stackd started */
  lastRepairAtMs?: number;
}

export type RepairDecision =
  | { act: true; broken: UnwellService[] }
  | {
    act: false;
    /**
     * fine: nothing died or is unhealthy; policy: repair is none; not-running: the owner's level is stopped or
     * removed; busy: a reconcile or update is queued or running (it sees the containers itself); backoff: the
     * queue retries the stack by itself; rate-limited: repaired within the window already
     */
    why: 'fine' | 'policy' | 'not-running' | 'busy' | 'backoff' | 'rate-limited';
    broken: UnwellService[];
    /** rate-limited: when a repair would be allowed again */
    allowedAtMs?: number;
  };

export function decideRepair(i: RepairInput): RepairDecision {
  // "died or went unhealthy": a container still starting is on its way, not broken
  const broken = unwellServices(i.expected, i.containers).filter((u) => u.kind !== 'starting');
  if (broken.length === 0) return { act: false, why: 'fine', broken };
  if (i.desired !== 'running') return { act: false, why: 'not-running', broken };
  if (i.policy !== 'reconcile') return { act: false, why: 'policy', broken };
  if (i.phase === 'queued' || i.phase === 'reconciling' || i.phase === 'updating') return { act: false, why: 'busy', broken };
  if (i.phase === 'backoff') return { act: false, why: 'backoff', broken };
  if (i.lastRepairAtMs !== undefined && i.nowMs < i.lastRepairAtMs + i.windowMs) {
    return { act: false, why: 'rate-limited', broken, allowedAtMs: i.lastRepairAtMs + i.windowMs };
  }
  return { act: true, broken };
}
