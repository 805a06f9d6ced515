// `stackctl check [NAME]`: the preflight of every stack (or one), changing nothing. Resolves the compose
// model with compose itself, reports label-invariant violations (with the lines to add), drifted and stale
// containers, warnings about the files and the host, and the orphaned healthcheck units gc would stop.
// ok:false (stackctl exits non-zero) only on a violation or a model compose rejects: drifted and stale
// containers are fixed by the next reconcile, so they are findings, not failures.
import type { Config, StackConfig } from '../core/config-types.js';
import {
  composeWarnings, databaseBackendOf, hostWarnings, renderCheck, type CheckReport, type CheckWarning, type HostCheck, type Leftover, type StackCheck,
} from '../core/check-report.js';
import { describeComposeError } from '../core/compose-errors.js';
import { redactStrings } from '../core/redact.js';
import { parseComposeConfig } from '../core/compose-model.js';
import { parseContainerList, selectProjectContainers } from '../core/podman-parse.js';
import { formatInvariantReason, planPreflight, staleInspectTargets } from '../core/preflight.js';
import type { OrphanUnit } from '../core/timer-orphans.js';
import { UnknownStackError } from './api.js';
import { inspectForHealth } from './inspect-health.js';
import { readStackInputs, type StackInputs } from './stack-inputs.js';
import type { ComposePort, ComposeProviderVerdict, FilesPort, PodmanPort, SystemctlPort } from './ports.js';

export interface CheckerDeps {
  compose: Pick<ComposePort, 'config'>;
  podman: Pick<PodmanPort, 'listProjectContainers' | 'inspectContainer' | 'info'>;
  systemctl: Pick<SystemctlPort, 'isEnabled'>;
  files: FilesPort;
  /** compose's environment, for the interpolated env values the redactor hides (none offline) */
  childEnv?: Readonly<Record<string, string>>;
  /** read-only orphan search of the timer GC */
  findOrphanUnits: () => Promise<OrphanUnit[]>;
  config: () => Pick<Config, 'stacks' | 'staleHealth'>;
  now: () => number;
  /** the compose provider verdict (re-asked when it was bad); absent offline */
  composeProvider?: () => Promise<ComposeProviderVerdict>;
  /** stacks that left the config but are still remembered, with their project and removedStacks action */
  unconfigured?: () => { stack: string; project: string; action: Leftover['action'] }[];
  /**
   * Offline (`stackctl check --offline`, e.g. in the CI of the host's configuration): only the files are
   * checked; podman and systemd are not asked, so no container, timer or host findings.
   */
  offline?: boolean;
}

const CONFIG_TIMEOUT_MS = 60_000;
const OFFLINE_HOST: HostCheck = {
  warnings: [], autoUpdateTimer: { user: 'unknown', system: 'unknown' }, orphanUnits: [],
  notes: ['offline: only the files were checked (podman and systemd were not asked)'],
};
const AUTO_UPDATE_TIMER = 'podman-auto-update.timer';

export class Checker {
  constructor(private readonly deps: CheckerDeps) {}

  async run(stackName?: string): Promise<{ ok: boolean; output: CheckReport }> {
    const cfg = this.deps.config();
    const stacks = stackName === undefined ? cfg.stacks : cfg.stacks.filter((s) => s.name === stackName);
    if (stackName !== undefined && stacks.length === 0) {
      throw new UnknownStackError(stackName, cfg.stacks.map((s) => s.name));
    }
    const results: StackCheck[] = [];
    for (const s of stacks) results.push(await this.stack(s));
    const host = this.deps.offline ? OFFLINE_HOST : await this.host();
    const providerOk = host.composeProvider?.ok ?? true;
    const ok = results.every((r) => r.ok) && providerOk;
    const summary = [
      ...(providerOk ? [] : [`compose provider: ${host.composeProvider?.detail ?? ''}`]),
      ...results.filter((r) => !r.ok)
        .map((r) => (r.error ? `${r.stack}: compose rejected its files` : `${r.stack}: ${r.violations.length} label-invariant violation(s)`)),
    ].join('; ') || 'ok';
    return { ok, output: { ok, summary, stacks: results, host, lines: renderCheck(results, host) } };
  }

  /**
   * Everything in a stack's check passes its redactor: warnings, violations and container names quote image
   * references and names from the compose model, which compose interpolated from the env files.
   */
  private async stack(stack: StackConfig): Promise<StackCheck> {
    // A missing env file (secrets not decrypted yet, or a CI checkout) is checked without: compose then
    // says whether a variable it needs is missing. Inputs, redactor and invocation as the reconciler builds them.
    const inputs = await readStackInputs(stack, this.deps.files, this.deps.childEnv ?? {});
    return redactStrings(await this.checkStack(stack, inputs), inputs.redact);
  }

  private async checkStack(stack: StackConfig, inputs: StackInputs): Promise<StackCheck> {
    const out: StackCheck = { stack: stack.name, ok: true, violations: [], drifted: [], stale: [], warnings: [] };
    for (const p of inputs.missingEnvFiles) {
      out.warnings.push({ code: 'env-file-missing', message: `env file ${p} does not exist; checked without it (a reconcile would wait envWait for it, then fail)` });
    }
    if (inputs.failure) return { ...out, ok: false, error: inputs.failure.reason };
    const { redact } = inputs;
    const res = await this.deps.compose.config(inputs.spec(CONFIG_TIMEOUT_MS, { envFiles: inputs.presentEnvFiles }));
    if (!res.ok) {
      const why = res.timedOut ? `no answer within ${CONFIG_TIMEOUT_MS / 1000}s` : describeComposeError(res.stderr, redact);
      return { ...out, ok: false, error: `compose rejected ${stack.compose.join(', ')}: ${why}` };
    }
    let model;
    try {
      model = parseComposeConfig(res.stdout, stack.project);
    } catch (err) {
      return { ...out, ok: false, error: redact(`${stack.compose.join(', ')}: ${err instanceof Error ? err.message : String(err)}`) };
    }

    const texts = await Promise.all(stack.compose.map(async (path) => ({ path, text: (await this.deps.files.readText(path)) ?? '' })));
    out.warnings.push(...composeWarnings(texts, model));

    // the same plan the preflight runner acts on; offline there are no containers to judge
    const containers = this.deps.offline
      ? []
      : selectProjectContainers(parseContainerList(await this.deps.podman.listProjectContainers(stack.project)), stack.project);
    const inspected = this.deps.offline ? [] : await inspectForHealth(this.deps.podman, staleInspectTargets(containers, stack.unit));
    const { startingFloorMs, unhealthyAfterMs } = this.deps.config().staleHealth;
    const plan = planPreflight({
      model, unit: stack.unit, composeFiles: stack.compose, containers, inspected, stale: { nowMs: this.deps.now(), startingFloorMs, unhealthyAfterMs },
    });
    out.violations = plan.violations;
    if (out.violations.length > 0) {
      out.ok = false;
      out.reason = formatInvariantReason(stack.name, out.violations, stack.compose);
    }
    out.drifted = plan.drifted.map((d) => ({ id: d.container.id, name: d.container.name, expected: d.expected, ...(d.found !== undefined ? { found: d.found } : {}) }));
    out.stale = plan.stale.map((c) => ({
      id: c.container.id, name: c.container.name, service: c.container.service, health: c.health, forMs: c.forMs, thresholdMs: c.thresholdMs,
    }));
    return out;
  }

  private async host(): Promise<HostCheck> {
    const notes: string[] = [];
    let databaseBackend: string | undefined;
    try {
      databaseBackend = databaseBackendOf(await this.deps.podman.info());
    } catch (err) {
      notes.push(`could not read podman info: ${err instanceof Error ? err.message : String(err)}`);
    }
    const autoUpdateTimer = { user: await this.timerState('user', notes), system: await this.timerState('system', notes) };
    let orphanUnits: string[] = [];
    try {
      orphanUnits = (await this.deps.findOrphanUnits()).map((o) => o.name);
    } catch (err) {
      notes.push(`could not look for orphaned healthcheck units: ${err instanceof Error ? err.message : String(err)}`);
    }
    const warnings: CheckWarning[] = hostWarnings({ ...(databaseBackend ? { databaseBackend } : {}), autoUpdateTimer });
    const composeProvider = this.deps.composeProvider ? await this.deps.composeProvider() : undefined;
    const leftovers = await this.leftovers(notes);
    return {
      warnings, ...(databaseBackend ? { databaseBackend } : {}), autoUpdateTimer, orphanUnits, notes,
      ...(composeProvider ? { composeProvider: { ok: composeProvider.ok, detail: composeProvider.detail } } : {}),
      leftovers,
    };
  }

  /** Projects of stacks that left the config and still have containers. */
  private async leftovers(notes: string[]): Promise<Leftover[]> {
    const out: Leftover[] = [];
    for (const u of this.deps.unconfigured?.() ?? []) {
      try {
        const containers = selectProjectContainers(parseContainerList(await this.deps.podman.listProjectContainers(u.project)), u.project);
        if (containers.length > 0) out.push({ stack: u.stack, project: u.project, action: u.action, containers: containers.map((c) => c.name) });
      } catch (err) {
        notes.push(`could not list the containers of project ${u.project} (stack "${u.stack}", no longer configured): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return out;
  }

  /** is-enabled's word; "unknown" (and a note) when systemctl could not answer, e.g. no system bus. */
  private async timerState(scope: 'user' | 'system', notes: string[]): Promise<string> {
    try {
      const r = await this.deps.systemctl.isEnabled(AUTO_UPDATE_TIMER, scope);
      if (r.state) return r.state;
      notes.push(`could not tell whether ${AUTO_UPDATE_TIMER} is enabled (${scope} scope): ${r.stderr.trim().split('\n')[0] || `exit ${r.exitCode}`}`);
    } catch (err) {
      notes.push(`could not ask systemctl about ${AUTO_UPDATE_TIMER} (${scope} scope): ${err instanceof Error ? err.message : String(err)}`);
    }
    return 'unknown';
  }
}
