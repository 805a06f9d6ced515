// reconcile(stack) = observe → plan → act, for one stack, once. Returns its verdict as data; never sleeps
// to retry (the queue owns retries) and never throws for an expected failure.
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { failedServices, parseDependentContainers, summarizeComposeError } from '../core/compose-errors.js';
import { expectedServices, parseComposeConfig } from '../core/compose-model.js';
import { composeReferences } from '../core/compose-inputs.js';
import { isUpToDate } from '../core/divergence.js';
import type { StackConfig } from '../core/config-types.js';
import { fingerprintInputs } from '../core/fingerprint.js';
import type { ComposeModel, ObservedContainer, ReasonCode, ReconcileResult } from '../core/model.js';
import { parseContainerList, selectProjectContainers } from '../core/podman-parse.js';
import { makeRedactor, parseEnvFile } from '../core/redact.js';
import type { ObservedStore } from './observed-store.js';
import { removeDependents } from './remove-container.js';
import type { ComposeOutcome, ComposePort, ComposeSpec, FilesPort, PodmanPort } from './ports.js';

export type Intent = 'running' | 'stop' | 'down';

export interface ReconcilerDeps {
  compose: ComposePort;
  podman: PodmanPort;
  files: FilesPort;
  store: ObservedStore;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** the child environment compose sees (part of the model's fingerprint) */
  childEnv: Record<string, string>;
  /** extra preflight before `up`: returns a failure to stop the reconcile, or undefined */
  preflight?: (stack: StackConfig, model: ComposeModel, containers: ObservedContainer[], log: Logger) => Promise<Failure | undefined>;
  /** after every reconcile (healthcheck-timer GC) */
  after?: (stack: StackConfig, log: Logger) => Promise<void>;
}

export interface Failure {
  reasonCode: ReasonCode;
  reason: string;
}

/** How often the env-file wait looks again. */
const ENV_POLL_MS = 250;

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(stack: StackConfig, intent: Intent, log: Logger): Promise<ReconcileResult> {
    const startedAt = this.deps.now();
    const finish = (result: ReconcileResult['result'], failure?: Failure): ReconcileResult => {
      const finishedAt = this.deps.now();
      const r: ReconcileResult = {
        result,
        ...(failure ? { reasonCode: failure.reasonCode, reason: failure.reason } : {}),
        startedAt: new Date(startedAt).toISOString(),
        finishedAt: new Date(finishedAt).toISOString(),
        durationMs: finishedAt - startedAt,
      };
      this.deps.store.update(stack.name, { lastResult: r });
      return r;
    };

    let outcome: Failure | 'skipped' | undefined;
    try {
      outcome = intent === 'running' ? await this.bringUp(stack, log) : await this.bringDown(stack, intent, log);
    } catch (err) {
      const unreachable = (err as { code?: unknown }).code === 'STACKD_PODMAN_UNREACHABLE';
      outcome = { reasonCode: unreachable ? 'podman-unreachable' : 'internal', reason: `stack "${stack.name}": ${errorMessage(err)}` };
    }
    await this.observe(stack, log).catch((err: unknown) => log.warn({ err }, 'could not observe containers after reconcile'));
    if (this.deps.after) await this.deps.after(stack, log).catch((err: unknown) => log.warn({ err }, 'post-reconcile cleanup failed'));
    const result = outcome === 'skipped'
      ? finish('skipped', { reasonCode: 'unchanged', reason: 'inputs unchanged since the last successful up and every service is running' })
      : finish(outcome ? 'failed' : 'ok', outcome);
    const logLine = { stack: stack.name, intent, result: result.result, reasonCode: result.reasonCode, durationMs: result.durationMs };
    if (result.result === 'failed') log.warn({ ...logLine, reason: result.reason }, 'reconcile failed');
    else log.info(logLine, 'reconciled');
    return result;
  }

  /** List the project's containers (both label schemes, deduplicated) into the store. */
  async observe(stack: StackConfig, _log?: Logger): Promise<ObservedContainer[]> {
    const raw = await this.deps.podman.listProjectContainers(stack.project);
    const containers = selectProjectContainers(parseContainerList(raw), stack.project);
    this.deps.store.update(stack.name, { containers, observedAt: this.deps.now() });
    return containers;
  }

  private async bringUp(stack: StackConfig, log: Logger): Promise<Failure | 'skipped' | undefined> {
    const missing = await this.waitForEnvFiles(stack);
    if (missing) {
      return {
        reasonCode: 'env-file-missing',
        reason: `stack "${stack.name}": env file ${missing} does not exist (waited ${Math.round(stack.envWaitMs / 1000)}s, envWait). ` +
          `Create it (if a secrets unit writes it, check ${stack.name}-secrets.service), then run: stackctl up ${stack.name}`,
      };
    }
    const redact = await this.redactorFor(stack);
    const spec = this.spec(stack, stack.startupTimeoutMs);

    const modelOrFailure = await this.resolveModel(stack, spec, redact);
    if ('reasonCode' in modelOrFailure) return modelOrFailure;

    // Preflight first: it may remove drifted or stale containers, which then makes `up` necessary.
    let containers = await this.observe(stack, log);
    if (this.deps.preflight) {
      const failure = await this.deps.preflight(stack, modelOrFailure, containers, log);
      if (failure) return { reasonCode: failure.reasonCode, reason: redact(failure.reason) };
      containers = await this.observe(stack, log);
    }
    const obs = this.deps.store.get(stack.name);
    if (isUpToDate({
      fingerprint: obs.modelFingerprint, upFingerprint: obs.upFingerprint, lastResultFailed: obs.lastResult?.result === 'failed',
      expected: expectedServices(modelOrFailure), containers,
    })) {
      log.info({ stack: stack.name }, 'up to date; compose not run');
      return 'skipped';
    }
    log.info({ stack: stack.name, project: stack.project }, 'compose up');
    let up = await this.deps.compose.up(spec);
    if (!up.ok && (await this.freeNamespaceHolder(stack, up.stderr, log))) up = await this.deps.compose.up(spec);
    if (!up.ok) return composeFailure(stack, 'up', up, redact, modelOrFailure);
    this.deps.store.update(stack.name, { deployFinishedAtMs: this.deps.now(), upFingerprint: this.deps.store.get(stack.name).modelFingerprint });
    return undefined;
  }

  /**
   * compose could not recreate a container because others of the SAME project share its namespaces
   * (the network-holder pattern): remove those dependents so the one retry of `up` recreates them too.
   * Containers of other projects are never removed; then the failure stands.
   */
  private async freeNamespaceHolder(stack: StackConfig, stderr: string, log: Logger): Promise<boolean> {
    const dep = parseDependentContainers(stderr);
    if (!dep) return false;
    return removeDependents(this.deps.podman, dep, await this.observe(stack, log), log, stack.name);
  }

  private async bringDown(stack: StackConfig, intent: 'stop' | 'down', log: Logger): Promise<Failure | undefined> {
    const containers = await this.observe(stack, log);
    if (intent === 'stop' && !containers.some((c) => c.state === 'running' || c.state === 'paused')) return undefined;
    if (intent === 'down' && containers.length === 0) return undefined;
    const redact = await this.redactorFor(stack);
    // An env file that is gone (secrets wiped) must not keep a stack from stopping: pass only those that exist.
    const envFiles = await this.existingEnvFiles(stack);
    const spec = { ...this.spec(stack, stack.startupTimeoutMs), envFiles };
    log.info({ stack: stack.name, project: stack.project }, `compose ${intent}`);
    const out = intent === 'stop' ? await this.deps.compose.stop(spec) : await this.deps.compose.down(spec);
    if (out.ok) return undefined;
    if (intent === 'stop') {
      // compose could not even read the files (e.g. a variable is gone): stop the containers directly,
      // so "stopped" still means stopped.
      log.warn({ stack: stack.name, stderr: redact(summarizeComposeError(out.stderr)) }, 'compose stop failed; stopping containers through the API');
      for (const c of containers) if (c.state === 'running') await this.deps.podman.stopContainer(c.id, 10);
      return undefined;
    }
    return composeFailure(stack, intent, out, redact);
  }

  private async resolveModel(stack: StackConfig, spec: ComposeSpec, redact: (s: string) => string): Promise<ComposeModel | Failure> {
    const fingerprint = fingerprintInputs(await this.readInputs(stack), this.deps.childEnv);
    const cached = this.deps.store.get(stack.name);
    if (cached.model && cached.modelFingerprint === fingerprint) return cached.model;
    const out = await this.deps.compose.config({ ...spec, timeoutMs: Math.min(spec.timeoutMs, 60_000) });
    if (!out.ok) {
      return {
        reasonCode: out.timedOut ? 'compose-timeout' : 'compose-config',
        reason: `stack "${stack.name}": compose rejected ${stack.compose.join(', ')}: ${redact(summarizeComposeError(out.stderr))}`,
      };
    }
    const model = parseComposeConfig(out.stdout, stack.project);
    this.deps.store.update(stack.name, { model, modelFingerprint: fingerprint });
    return model;
  }

  /**
   * Every file compose reads for this stack, with its contents: the -f files and what they include or
   * extend (followed), their env_file:s, and the --env-files. A missing file is an input too (null).
   */
  private async readInputs(stack: StackConfig): Promise<{ path: string; content: string | null }[]> {
    const seen = new Set<string>();
    const inputs: { path: string; content: string | null }[] = [];
    const read = async (path: string) => {
      if (seen.has(path)) return undefined;
      seen.add(path);
      const content = await this.deps.files.readText(path);
      inputs.push({ path, content });
      return content;
    };
    const queue = [...stack.compose];
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      const text = await read(path);
      if (text === null || text === undefined) continue;
      const refs = composeReferences(path, text);
      queue.push(...refs.composeFiles);
      for (const env of refs.envFiles) await read(env);
    }
    for (const env of stack.envFiles) await read(env);
    return inputs;
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

  private async existingEnvFiles(stack: StackConfig): Promise<string[]> {
    const present = await Promise.all(stack.envFiles.map((p) => this.deps.files.exists(p)));
    return stack.envFiles.filter((_, i) => present[i]);
  }

  /** Values from the stack's env files are scrubbed from everything an operator sees. */
  private async redactorFor(stack: StackConfig): Promise<(s: string) => string> {
    const values: string[] = [];
    for (const p of stack.envFiles) {
      const text = await this.deps.files.readText(p).catch(() => null);
      if (text) values.push(...Object.values(parseEnvFile(text)));
    }
    // The stack's own names are not secrets even if an env file repeats them (DB_USER=immich).
    return makeRedactor(values, { keep: [stack.name, stack.project, stack.unit] });
  }

  private spec(stack: StackConfig, timeoutMs: number): ComposeSpec {
    const first = stack.compose[0];
    return {
      project: stack.project,
      composeFiles: stack.compose,
      envFiles: stack.envFiles,
      timeoutMs,
      ...(first ? { cwd: dirname(first) } : {}),
    };
  }
}

function composeFailure(stack: StackConfig, verb: string, out: ComposeOutcome, redact: (s: string) => string, model?: ComposeModel): Failure {
  if (out.timedOut) {
    return {
      reasonCode: 'compose-timeout',
      reason: `stack "${stack.name}": compose ${verb} did not finish within ${Math.round(stack.startupTimeoutMs / 1000)}s (startupTimeout) and was killed`,
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
    reason: redact(`stack "${stack.name}": compose ${verb} failed (exit ${out.exitCode})${where}: ${summarizeComposeError(out.stderr)}`),
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
