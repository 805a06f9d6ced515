// reconcile(stack) = observe → plan → act, for one stack, once, toward its persisted level (running | stopped |
// removed). Returns its verdict as data; never sleeps to retry (the queue owns retries, by core's reason-code
// table) and never throws for an expected failure. retire() deals with a stack that left the config.
import type { Logger } from 'pino';
import { composeCouldNotReachPodman, describeComposeError, failedServices } from '../core/compose-errors.js';
import { expectedServices, parseComposeConfig } from '../core/compose-model.js';
import { isUpToDate } from '../core/divergence.js';
import type { StackConfig } from '../core/config-types.js';
import { errorCode, errorMessage } from '../core/errors.js';
import type { ComposeModel, DesiredState, ObservedContainer, ReasonCode, ReconcileResult, RemovedStackAction, ResultKind } from '../core/model.js';
import { parseContainerList, selectProjectContainers } from '../core/podman-parse.js';
import type { ObservedStore } from './observed-store.js';
import { upWithRepairs } from './compose-up.js';
import { removeProjectContainer } from './remove-container.js';
import type { ComposeOutcome, ComposePort, ComposeProviderVerdict, ComposeSpec, FilesPort, PodmanPort } from './ports.js';
import { readStackInputs, type StackInputs } from './stack-inputs.js';
import type { TrustLedger } from './trust-ledger.js';

export interface ReconcilerDeps {
  compose: ComposePort;
  podman: PodmanPort;
  files: FilesPort;
  store: ObservedStore;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** the child environment compose sees (part of the model's fingerprint); the compose runner uses the same object */
  childEnv: Readonly<Record<string, string>>;
  /** the provider `podman compose` runs; a bad verdict fails every reconcile before anything is touched */
  composeProvider: () => Promise<ComposeProviderVerdict>;
  /** preflight before `up` (label invariant, drifted and stale containers): a failure stops the reconcile */
  preflight: (stack: StackConfig, model: ComposeModel, containers: ObservedContainer[], log: Logger) => Promise<Failure | PreflightChanges | undefined>;
  /** told each time the stack's files were read, with the redactor of their env values (the daemon log's scrubber) */
  onInputs?: (stack: string, redact: (text: string) => string) => void;
  /** after every reconcile (asks for the healthcheck-timer GC, which runs once reconciles are quiet) */
  after: (stack: StackConfig, log: Logger) => Promise<void>;
  /** whether the event-fed view of a project may stand in for a list (absent: it never does) */
  trust?: Pick<TrustLedger, 'listStarted' | 'verdict'>;
}

export interface ReconcileOptions {
  /**
   * May the event-fed view decide that an `up` has nothing to do, without a list (when the ledger trusts it)?
   * Only for runs that answer requests: the periodic resync and every other trigger list podman.
   */
  trustObserved?: boolean;
}

/** What preflight changed when it did not fail (undefined: nothing): removed containers must be listed again. */
export interface PreflightChanges {
  removed: number;
}

export interface Failure {
  reasonCode: ReasonCode;
  reason: string;
}

/** A stack that left the config: its name and the project its containers carry. */
export interface RetiredStack {
  name: string;
  project: string;
}

type Outcome = Failure | 'skipped' | undefined;

/** How often the env-file wait looks again. */
const ENV_POLL_MS = 250;
/** Seconds podman gives a container to stop before SIGKILL (compose's default too). */
const STOP_TIMEOUT_S = 10;

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(stack: StackConfig, desired: DesiredState, log: Logger, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
    const startedAt = this.deps.now();
    let outcome: Outcome;
    try {
      const provider = await this.deps.composeProvider();
      if (!provider.ok) {
        outcome = {
          reasonCode: provider.podmanUnreachable ? 'podman-unreachable' : 'compose-provider',
          reason: `stack "${stack.name}": not touched: ${provider.detail}`,
        };
      } else if (desired === 'running') {
        outcome = await this.bringUp(stack, log, opts.trustObserved ?? false);
      } else {
        outcome = await this.bringDown(stack, desired, log);
      }
    } catch (err) {
      outcome = { reasonCode: errorCode(err) === 'STACKD_PODMAN_UNREACHABLE' ? 'podman-unreachable' : 'internal', reason: `stack "${stack.name}": ${errorMessage(err)}` };
    }
    // a skipped reconcile changed nothing and has just listed the project (or trusted its event-fed view): no
    // second list, no timer GC
    if (outcome !== 'skipped') {
      await this.observe(stack).catch((err: unknown) => log.warn({ err }, 'could not observe containers after reconcile'));
      await this.deps.after(stack, log).catch((err: unknown) => log.warn({ err }, 'post-reconcile cleanup failed'));
    }
    const result = outcome === 'skipped'
      ? this.finish(stack.name, startedAt, 'skipped', { reasonCode: 'unchanged', reason: 'inputs unchanged since the last successful up and every service is running' })
      : this.finish(stack.name, startedAt, outcome ? 'failed' : 'ok', outcome);
    this.logResult(log, desired, result);
    return result;
  }

  /**
   * A stack that left the config: removedStacks says what happens to its containers, found by the project
   * label (its compose files may be gone): `stop` stops them, `down` removes them and the project's networks
   * (never volumes), `keep` leaves them.
   */
  async retire(stack: RetiredStack, action: RemovedStackAction, log: Logger): Promise<ReconcileResult> {
    const startedAt = this.deps.now();
    let outcome: Failure | undefined;
    let done = '';
    try {
      const containers = await this.observeProject(stack.name, stack.project);
      if (action === 'stop') {
        const running = containers.filter((c) => c.state === 'running' || c.state === 'paused');
        for (const c of running) await this.deps.podman.stopContainer(c.id, STOP_TIMEOUT_S);
        done = `its ${plural(running.length, 'running container')} stopped (kept, with their volumes)`;
      } else if (action === 'down') {
        for (const c of containers) await removeProjectContainer(this.deps.podman, c.id, containers, log);
        const networks = await this.deps.podman.listProjectNetworks(stack.project);
        for (const n of networks) await this.deps.podman.removeNetwork(n);
        done = `${plural(containers.length, 'container')} and ${plural(networks.length, 'network')} removed (volumes kept)`;
      } else {
        done = 'its containers left as they are';
      }
    } catch (err) {
      outcome = {
        reasonCode: errorCode(err) === 'STACKD_PODMAN_UNREACHABLE' ? 'podman-unreachable' : 'internal',
        reason: `stack "${stack.name}" (no longer in the config; removedStacks: ${action}): ${errorMessage(err)}`,
      };
    }
    await this.observeProject(stack.name, stack.project).catch((err: unknown) => log.warn({ err }, 'could not observe containers after retiring'));
    const result = this.finish(stack.name, startedAt, outcome ? 'failed' : 'ok', outcome ?? {
      reasonCode: 'not-configured',
      reason: `stack "${stack.name}" is no longer in the config; removedStacks: ${action}: ${done}`,
    });
    this.logResult(log, `retire-${action}`, result);
    return result;
  }

  /** List the stack's project containers (both label schemes, deduplicated) into the store. */
  async observe(stack: StackConfig): Promise<ObservedContainer[]> {
    return this.observeProject(stack.name, stack.project);
  }

  async observeProject(name: string, project: string): Promise<ObservedContainer[]> {
    // numbered when it begins: an event that arrives while podman answers makes the answer untrusted
    const listedSeq = this.deps.trust?.listStarted();
    const raw = await this.deps.podman.listProjectContainers(project);
    const containers = selectProjectContainers(parseContainerList(raw), project);
    this.deps.store.update(name, { containers, observedAt: this.deps.now(), ...(listedSeq === undefined ? {} : { listedSeq }) });
    return containers;
  }

  /**
   * The stack's containers as the event-fed view has them, when the ledger trusts that view as much as a list
   * (core/observed-trust.ts); else undefined.
   */
  private trustedContainers(stack: StackConfig, log: Logger): ObservedContainer[] | undefined {
    const obs = this.deps.store.get(stack.name);
    const verdict = this.deps.trust?.verdict(stack.project, obs.listedSeq);
    if (!verdict?.trusted) {
      if (verdict) log.debug({ why: verdict.why }, 'observed containers not trusted; listing the project');
      return undefined;
    }
    return obs.containers;
  }

  private finish(name: string, startedAt: number, result: ResultKind, failure?: Failure): ReconcileResult {
    const finishedAt = this.deps.now();
    const r: ReconcileResult = {
      result,
      ...(failure ? { reasonCode: failure.reasonCode, reason: failure.reason } : {}),
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - startedAt,
    };
    this.deps.store.update(name, { lastResult: r });
    return r;
  }

  // the child logger already carries stack and reconcileId: each key once per line
  private logResult(log: Logger, intent: string, r: ReconcileResult): void {
    const line = { intent, result: r.result, reasonCode: r.reasonCode, durationMs: r.durationMs };
    if (r.result === 'failed') log.warn({ ...line, reason: r.reason }, 'reconcile failed');
    else log.info(line, 'reconciled');
  }

  private async bringUp(stack: StackConfig, log: Logger, trustObserved: boolean): Promise<Outcome> {
    const missing = await this.waitForEnvFiles(stack);
    if (missing) {
      return {
        reasonCode: 'env-file-missing',
        reason: `stack "${stack.name}": env file ${missing} does not exist (waited ${Math.round(stack.envWaitMs / 1000)}s, envWait). ` +
          `Create it (if a secrets unit writes it, check ${stack.name}-secrets.service), then run: stackctl up ${stack.name}`,
      };
    }
    // every file compose reads, the redactor for what an operator sees, and the compose invocation: one place
    const inputs = await readStackInputs(stack, this.deps.files, this.deps.childEnv);
    if (inputs.failure) return inputs.failure;
    const { redact } = inputs;
    this.deps.onInputs?.(stack.name, redact);
    const spec = inputs.spec(stack.startupTimeoutMs);

    const modelOrFailure = await this.resolveModel(stack, spec, inputs);
    if ('reasonCode' in modelOrFailure) return modelOrFailure;

    const upToDate = (containers: ObservedContainer[]) => {
      const obs = this.deps.store.get(stack.name);
      return isUpToDate({
        fingerprint: obs.modelFingerprint, upFingerprint: obs.upFingerprint, lastResultFailed: obs.lastResult?.result === 'failed',
        expected: expectedServices(modelOrFailure), containers,
      });
    };
    // A requested `up` takes the event-fed view instead of a list when it is trusted AND says there is nothing
    // to do; when it says there is work, the decision is made on a fresh list, as it always was.
    const known = trustObserved ? this.trustedContainers(stack, log) : undefined;
    const fromEvents = known !== undefined && upToDate(known);
    // Preflight first: it may remove drifted or stale containers, which then makes `up` necessary.
    let containers = fromEvents ? known : await this.observe(stack);
    const pre = await this.deps.preflight(stack, modelOrFailure, containers, log);
    if (pre && 'reasonCode' in pre) return { reasonCode: pre.reasonCode, reason: redact(pre.reason) };
    // listed again only when preflight removed something: a skipped reconcile lists the project once (or never)
    const relist = pre !== undefined && pre.removed > 0;
    if (relist) containers = await this.observe(stack);
    if (upToDate(containers)) {
      log.info({ observed: fromEvents && !relist ? 'events' : 'listed' }, 'up to date; compose not run');
      return 'skipped';
    }
    log.info({ verb: 'up', project: stack.project }, 'compose run');
    // failures stackd knows how to clear are repaired and `up` runs once more (compose-up.ts)
    const up = await upWithRepairs(this.deps.compose, this.deps.podman, stack, spec, () => this.observe(stack), log);
    if (!up.ok) return composeFailure(stack, 'up', up, redact, modelOrFailure);
    this.deps.store.update(stack.name, { deployFinishedAtMs: this.deps.now(), upFingerprint: this.deps.store.get(stack.name).modelFingerprint });
    return undefined;
  }

  private async bringDown(stack: StackConfig, desired: 'stopped' | 'removed', log: Logger): Promise<Failure | undefined> {
    // the last `up` no longer describes the stack: the next `up` must run, not be skipped as unchanged (a
    // service without restart policy or healthcheck counts as a one-shot, fine with any container at all)
    this.deps.store.update(stack.name, { upFingerprint: undefined });
    const containers = await this.observe(stack);
    if (desired === 'stopped' && !containers.some((c) => c.state === 'running' || c.state === 'paused')) return undefined;
    if (desired === 'removed' && containers.length === 0) return undefined;
    const inputs = await readStackInputs(stack, this.deps.files, this.deps.childEnv);
    const { redact } = inputs;
    // An env file that is gone (secrets wiped) must not keep a stack from stopping: pass only those that exist.
    const spec = inputs.spec(stack.startupTimeoutMs, { envFiles: inputs.presentEnvFiles });
    const verb = desired === 'stopped' ? 'stop' : 'down';
    log.info({ verb, project: stack.project }, 'compose run');
    const out = desired === 'stopped' ? await this.deps.compose.stop(spec) : await this.deps.compose.down(spec);
    if (out.ok) return undefined;
    if (desired === 'stopped') {
      // compose could not even read the files (e.g. a variable is gone): stop the containers directly,
      // so "stopped" still means stopped.
      log.warn({ stderr: describeComposeError(out.stderr, redact) }, 'compose stop failed; stopping containers through the API');
      for (const c of containers) if (c.state === 'running' || c.state === 'paused') await this.deps.podman.stopContainer(c.id, STOP_TIMEOUT_S);
      return undefined;
    }
    // `down` stays the goal: the queue retries it as `down` (the level is persisted), never as a stop
    return composeFailure(stack, verb, out, redact);
  }

  private async resolveModel(stack: StackConfig, spec: ComposeSpec, inputs: StackInputs): Promise<ComposeModel | Failure> {
    const { fingerprint, redact } = inputs;
    const cached = this.deps.store.get(stack.name);
    if (cached.model && cached.modelFingerprint === fingerprint) return cached.model;
    const out = await this.deps.compose.config({ ...spec, timeoutMs: Math.min(spec.timeoutMs, 60_000) });
    if (!out.ok) {
      return {
        reasonCode: out.timedOut ? 'compose-timeout' : 'compose-config',
        reason: `stack "${stack.name}": compose rejected ${stack.compose.join(', ')}: ${describeComposeError(out.stderr, redact)}`,
      };
    }
    let model: ComposeModel;
    try {
      model = parseComposeConfig(out.stdout, stack.project);
    } catch (err) {
      // compose accepted the files but stackd cannot read the model it printed: the files decide, so it waits
      // for new inputs like any other config problem (not `internal`, which retries by the clock)
      return {
        reasonCode: 'compose-config',
        reason: redact(`stack "${stack.name}": cannot read the model compose resolved from ${stack.compose.join(', ')}: ${errorMessage(err)}`),
      };
    }
    this.deps.store.update(stack.name, { model, modelFingerprint: fingerprint });
    return model;
  }

  private async waitForEnvFiles(stack: StackConfig): Promise<string | undefined> {
    const deadline = this.deps.now() + stack.envWaitMs;
    for (;;) {
      const missing = await this.firstMissing(stack.envFiles);
      if (!missing || this.deps.now() >= deadline) return missing;
      await this.deps.sleep(Math.min(ENV_POLL_MS, Math.max(0, deadline - this.deps.now())));
    }
  }

  private async firstMissing(paths: string[]): Promise<string | undefined> {
    for (const p of paths) if (!(await this.deps.files.exists(p))) return p;
    return undefined;
  }
}

function composeFailure(stack: StackConfig, verb: string, out: ComposeOutcome, redact: (s: string) => string, model?: ComposeModel): Failure {
  if (out.timedOut) {
    return {
      reasonCode: 'compose-timeout',
      reason: `stack "${stack.name}": compose ${verb} did not finish within ${Math.round(stack.startupTimeoutMs / 1000)}s (startupTimeout) and was killed`,
    };
  }
  // podman went away (before the run, or during it): the files are fine, podman is what to fix, and the queue
  // retries it by the clock like any podman-unreachable. Through stackd's relay the wrapper's own line says
  // "EOF" at the relay's socket, so the reason says plainly whose socket did not answer.
  if (composeCouldNotReachPodman(out.stderr)) {
    return {
      reasonCode: 'podman-unreachable',
      reason: redact(`stack "${stack.name}": compose ${verb} could not reach podman (exit ${out.exitCode}): podman's API socket did not answer: ` +
        `${describeComposeError(out.stderr, redact)}. Start it (systemctl --user enable --now podman.socket); stackd retries`),
    };
  }
  // Name the service (and its image) compose marked as failed: "manifest unknown" alone says neither.
  const which = failedServices(out.stderr).map((name) => {
    const svc = model?.services.find((s) => s.name === name || name === `${stack.project}-${s.name}-1`);
    return svc?.image ? `service ${svc.name} (image ${svc.image})` : `${name}`;
  });
  const where = which.length ? ` in ${which.join(', ')}` : '';
  // the image names come from the resolved model, interpolated from env files: redact all of it
  return {
    reasonCode: 'compose-failed',
    reason: redact(`stack "${stack.name}": compose ${verb} failed (exit ${out.exitCode})${where}: ${describeComposeError(out.stderr, redact)}`),
  };
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
