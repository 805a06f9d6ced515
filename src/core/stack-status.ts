// The two one-word summaries of a stack (DESIGN.md "Status JSON"): `health` says what the containers are
// doing now, `state` folds in what the owner asked for and how the last reconcile went.
//
// health (first rule that matches wins):
//   1. containers not observed yet (undefined)                        → unknown
//   2. desired stopped and no container running, or no container at all → down
//   3. an expected long-running service has no running container:
//        no container of the project runs at all → down, else        → degraded
//   4. a running container is unhealthy                               → degraded
//   5. an expected one-shot service exited non-zero, or has no container → degraded
//   6. a running container is starting:
//        inside its start period (startedAt + startPeriods[service]) or inside the deploy's watch window
//        (deployFinishedAtMs + windowMs)                              → progressing
//        otherwise                                                    → degraded
//   7. otherwise (running and healthy, or without a healthcheck; one-shots exited 0) → healthy
//   Health `none`/`reset` (no healthcheck, or podman's "reset" for `disable: true`) and `stopped` count as no
//   verdict, i.e. fine. Containers of the project that no expected service names (a profile turned off,
//   leftovers) still count for rules 4 and 6: they run, so their health is real. A paused or restarting
//   container is not running.
//
// state:
//   desired stopped:  no container running → stopped (whatever lastResult says: the owner's goal is met);
//                     otherwise lastResult failed → failed (the stop did not take), phase queued/reconciling
//                     → progressing (the stop is on its way), else → degraded (running against the owner's wish)
//   desired running:  no lastResult → pending; lastResult failed → failed (old containers may still serve:
//                     `health` says so); health unknown → pending; progressing → progressing;
//                     degraded/down → degraded; healthy → converged. A skipped reconcile counts as ok.
import type {
  ContainerView,
  DesiredState,
  ExpectedService,
  ObservedContainer,
  Phase,
  ReconcileResult,
  StackHealth,
  StackState,
} from './model.js';
import { parsePodmanTime } from './started-at.js';

export interface StatusInput {
  desired: DesiredState;
  phase: Phase;
  lastResult?: ReconcileResult;
  expected: readonly ExpectedService[];
  /** the project's containers (selectProjectContainers); undefined until podman was first asked */
  containers: readonly ObservedContainer[] | undefined;
  nowMs: number;
  healthWindow: { deployFinishedAtMs?: number; windowMs: number };
  /** start period per service name, ms (from the compose model's healthchecks) */
  startPeriods?: Readonly<Record<string, number>>;
}

export interface DerivedStatus {
  health: StackHealth;
  state: StackState;
}

export function deriveStatus(input: StatusInput): DerivedStatus {
  const health = deriveHealth(input);
  return { health, state: deriveState(input, health) };
}

export function deriveHealth(input: StatusInput): StackHealth {
  const { containers } = input;
  if (containers === undefined) return 'unknown';
  const running = containers.filter(isRunning);
  if (containers.length === 0 || (input.desired !== 'running' && running.length === 0)) return 'down';

  const longRunning = input.expected.filter((s) => !s.oneShot);
  if (longRunning.some((s) => !running.some((c) => c.service === s.name))) {
    return running.length === 0 ? 'down' : 'degraded';
  }
  if (running.some((c) => c.health === 'unhealthy')) return 'degraded';
  if (input.expected.filter((s) => s.oneShot).some((s) => !oneShotFine(s.name, containers))) return 'degraded';

  const starting = running.filter((c) => c.health === 'starting');
  if (starting.length > 0) {
    return starting.every((c) => insideGrace(c, input)) ? 'progressing' : 'degraded';
  }
  return 'healthy';
}

function deriveState(input: StatusInput, health: StackHealth): StackState {
  const failed = input.lastResult?.result === 'failed';
  if (input.desired === 'removed') {
    // `down`: converged once no container of the project is left (stopped ones count as left)
    if ((input.containers ?? []).length === 0 && input.containers !== undefined) return 'removed';
    if (failed) return 'failed';
    if (input.phase === 'queued' || input.phase === 'reconciling') return 'progressing';
    return 'degraded';
  }
  if (input.desired === 'stopped') {
    const anyRunning = (input.containers ?? []).some(isRunning);
    if (!anyRunning) return 'stopped';
    if (failed) return 'failed';
    if (input.phase === 'queued' || input.phase === 'reconciling') return 'progressing';
    return 'degraded';
  }
  if (input.lastResult === undefined) return 'pending';
  if (failed) return 'failed';
  switch (health) {
    case 'unknown':
      return 'pending';
    case 'progressing':
      return 'progressing';
    case 'degraded':
    case 'down':
      return 'degraded';
    case 'healthy':
      return 'converged';
  }
}

export function toContainerView(c: ObservedContainer): ContainerView {
  return { id: c.id, name: c.name, service: c.service, state: c.state, health: c.health };
}

function isRunning(c: ObservedContainer): boolean {
  return c.state === 'running';
}

// A one-shot is fine while it runs or once it exited 0. With several containers (an old one beside a new
// one), one good container is enough.
function oneShotFine(service: string, containers: readonly ObservedContainer[]): boolean {
  return containers.some((c) => c.service === service && (isRunning(c) || (c.state === 'exited' && c.exitCode === 0)));
}

function insideGrace(c: ObservedContainer, input: StatusInput): boolean {
  const { deployFinishedAtMs, windowMs } = input.healthWindow;
  if (deployFinishedAtMs !== undefined && input.nowMs < deployFinishedAtMs + windowMs) return true;
  const startPeriod = input.startPeriods?.[c.service];
  const startedAt = parsePodmanTime(c.startedAt);
  return startPeriod !== undefined && startedAt !== undefined && input.nowMs < startedAt + startPeriod;
}
