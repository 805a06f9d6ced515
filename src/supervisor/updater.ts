// Registry updates that stackd owns (podman auto-update cannot update compose-created containers: podman
// issue 19688). One run: look at every labelled service of every stack (a registry is asked for manifests only,
// never a blob), then, per stack and inside that stack's queue slot, apply what changed:
//   pin the running image under a tag stackd owns → pull by digest → tag it to the reference → `compose up`
//   → verify each new container runs the pulled image → health gate → keep, or roll back (re-tag the pinned
//   image, `up --pull never`, gate again) and remember the bad digest so it is never tried again.
// Every step is persisted before it is taken, so a stackd killed midway resumes or rolls back at start.
import type { Logger } from 'pino';
import type { Config, StackConfig } from '../core/config-types.js';
import { describeComposeError } from '../core/compose-errors.js';
import { errorMessage } from '../core/errors.js';
import type { ObservedContainer } from '../core/model.js';
import { parseInspectHealthcheck } from '../core/podman-parse.js';
import { askAgainText } from '../core/registry/ask-again.js';
import { isImageRefError, parseImageRef } from '../core/registry/reference.js';
import { updateCandidates, type UpdateCandidate } from '../core/update/candidates.js';
import { gateSampleFromInspect, gateSpec, imageIdOf, judgeGate, wantsOnDemandCheck, type GateSpec } from '../core/update/gate.js';
import { lastUpdateOf } from '../core/update/last-update.js';
import { redactUpdateRow, reportOk } from '../core/update/report.js';
import { REDACTED } from '../core/redact.js';
import type { ApplyProgress, UpdateReport, UpdateRow } from '../core/update/types.js';
import {
  EMPTY_UPDATE_STATE, findBadDigest, withBadDigest, withProgress, withoutProgress, type UpdateState,
} from '../core/update/update-state.js';
import type { ObservedStore } from './observed-store.js';
import type { ComposePort, FilesPort, ImagePort, PodmanPort } from './ports.js';
import { readStackInputs } from './stack-inputs.js';
import { upWithRepairs, type UpRepairPodman } from './compose-up.js';

/** What the registry (or, for the local policy, the local image store) says about one reference. */
export type CheckOutcome =
  | { kind: 'up-to-date' }
  /** digest: the platform manifest digest to apply; pullRef: repo@digest (local policy: the local image id) */
  | { kind: 'update'; digest: string; pullRef: string }
  /** rateLimitedRegistry: answered 429; retryAtMs: the end of the wait it asked for (epoch ms), before which no run asks it */
  | { kind: 'failed'; reason: string; rateLimitedRegistry?: string; retryAtMs?: number };

/** Checks one reference against its registry; `localImage` is podman's inspect of the reference (or undefined). */
export type ReferenceChecker = (reference: string, localImage: unknown) => Promise<CheckOutcome>;

export interface UpdaterDeps {
  config: () => Config;
  store: ObservedStore;
  /** removeContainer, listProjectNetworks, removeNetwork: the repairs of `compose up` (compose-up.ts) */
  podman: Pick<PodmanPort, 'inspectContainer' | 'runHealthcheck'> & UpRepairPodman & ImagePort;
  compose: Pick<ComposePort, 'up'>;
  files: FilesPort;
  childEnv: Readonly<Record<string, string>>;
  check: ReferenceChecker;
  /** re-lists a stack's containers into the store */
  observe: (stack: StackConfig) => Promise<ObservedContainer[]>;
  /** runs a task in the stack's queue slot (a reconcile of the same stack waits) */
  exclusive: <T>(stack: string, task: () => Promise<T>) => Promise<T>;
  state: { load(): Promise<UpdateState>; save(s: UpdateState): Promise<void> };
  /** told about every finished run (notifications, metrics) */
  onReport?: (report: UpdateReport, logTails: Map<string, string>) => void;
  logger: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** how often the gate looks at the containers */
  pollMs?: number;
  /**
   * Awaited after each applying action is done and before the next is persisted: the kill points of the
   * crash tests ("after the pull", "after the re-tag", "after up"). Production leaves it out.
   */
  afterAction?: (action: UpdateAction, stack: string) => Promise<void>;
}

/** What an apply has just done, in order. */
export type UpdateAction = 'pulled' | 'retagged' | 'up';

/** The repository stackd pins running images under before it changes them (rollback targets). */
export const PIN_REPOSITORY = 'localhost/stackd-rollback';

interface PlannedService {
  candidate: UpdateCandidate;
  row: UpdateRow;
  container?: ObservedContainer;
  outcome?: Extract<CheckOutcome, { kind: 'update' }>;
}

export class Updater {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private running?: { promise: Promise<UpdateReport>; stack?: string; dryRun: boolean };
  private memory: UpdateState = EMPTY_UPDATE_STATE;
  private loaded = false;

  constructor(private readonly deps: UpdaterDeps) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * One run at a time. A second request while one runs joins it (its answer is that run's report) when that run
   * covers it: all stacks or the same one, and applying unless only a dry run was asked for. Otherwise (another
   * stack, or an apply while a dry run goes on) joining would answer with rows that are not the ones asked for,
   * or with nothing applied: it waits for the running one and then runs on its own.
   */
  run(opts: { stack?: string; dryRun: boolean }): Promise<UpdateReport> {
    const cur = this.running;
    if (cur && covers(cur, opts)) return cur.promise;
    const after = cur ? cur.promise.then(() => undefined, () => undefined) : Promise.resolve();
    const entry: { promise: Promise<UpdateReport>; stack?: string; dryRun: boolean } = {
      ...(opts.stack !== undefined ? { stack: opts.stack } : {}),
      dryRun: opts.dryRun,
      promise: after.then(() => this.runOnce(opts)).finally(() => {
        if (this.running === entry) this.running = undefined;
      }),
    };
    // the latest request is the one later ones join (it starts after the earlier ones, one at a time)
    this.running = entry;
    return entry.promise;
  }

  /** Image ids the prune must keep: what stackd pinned for a rollback that may still be needed. */
  keepImageIds(): ReadonlySet<string> {
    return new Set(this.memory.inProgress.flatMap((p) => p.services.map((s) => s.previousImageId)));
  }

  /** At start: finish or undo every apply a killed stackd left behind, so no stack stays half-applied. */
  async resume(): Promise<void> {
    await this.loadMemory();
    for (const p of [...this.memory.inProgress]) {
      const stack = this.deps.config().stacks.find((s) => s.name === p.stack);
      const log = this.deps.logger.child({ stack: p.stack, component: 'updater' });
      if (!stack) {
        log.warn({ step: p.step }, 'an interrupted update of a stack no longer configured is forgotten');
        await this.saveMemory(withoutProgress(this.memory, p.stack));
        continue;
      }
      log.warn({ step: p.step, services: p.services.map((s) => s.service) }, 'an update was interrupted; finishing it');
      await this.deps.exclusive(stack.name, async () => {
        if (p.step === 'up' || p.step === 'gated') {
          // the kill may have come before or after compose ran: bring it up (idempotent) and gate against the
          // image the reference points to now, exactly as if stackd had not stopped
          const expected = await this.referenceImages(p);
          // --pull never: the reference already points at what was pulled before the kill
          const verdict = (await this.composeUp(stack, true, log)) ?? await this.gate(stack, p, expected, log);
          if (verdict === undefined) {
            await this.saveMemory(withoutProgress(this.memory, stack.name));
            log.info('the interrupted update passed its health gate; kept');
            return;
          }
          this.rememberBad(stack, p, verdict);
          await this.rollBack(stack, p, verdict, new Map(), log);
        } else {
          // before `up` nothing of the new image runs: undo the re-tag (if any) and bring back what ran
          await this.rollBack(stack, p, 'stackd stopped during the update', new Map(), log);
        }
      }).catch((err: unknown) => log.error({ err }, 'could not finish the interrupted update'));
    }
  }

  private async runOnce(opts: { stack?: string; dryRun: boolean }): Promise<UpdateReport> {
    await this.loadMemory();
    const startedAt = new Date(this.now()).toISOString();
    const cfg = this.deps.config();
    const stacks = opts.stack === undefined ? cfg.stacks : cfg.stacks.filter((s) => s.name === opts.stack);
    const rows: UpdateRow[] = [];
    /** registries that answered 429 this run → the end of the wait they asked for (undefined: none) */
    const rateLimited = new Map<string, number | undefined>();
    const checked = new Map<string, Promise<CheckOutcome>>();
    const logTails = new Map<string, string>();
    const perStack: { stack: StackConfig; planned: PlannedService[] }[] = [];

    for (const stack of stacks) {
      const planned = await this.plan(stack, opts.dryRun, checked, rateLimited);
      rows.push(...planned.map((p) => p.row));
      perStack.push({ stack, planned });
    }
    const applied: { stack: StackConfig; progress: ApplyProgress; rows: Map<string, UpdateRow> }[] = [];
    for (const { stack, planned } of perStack) {
      const toApply = planned.filter((p) => p.outcome && p.row.Updated === 'pending' && stack.update === 'apply' && !opts.dryRun);
      if (toApply.length === 0) continue;
      const log = this.deps.logger.child({ stack: stack.name, component: 'updater' });
      await this.deps.exclusive(stack.name, async () => {
        const done = await this.apply(stack, toApply, log, logTails);
        if (done) applied.push({ stack, ...done });
      }).catch((err: unknown) => {
        for (const p of toApply) Object.assign(p.row, { Updated: 'failed', Reason: `update failed: ${errorMessage(err)}` });
      });
    }
    await this.undoSharedFailures(applied);
    // what leaves the updater (stackctl's table, the job API, notifications) is redacted per stack
    const redactors = new Map(await Promise.all(stacks.map(async (s) => [s.name, await this.redactorOf(s)] as const)));
    const shown = rows.map((r) => redactUpdateRow(r, redactors.get(r.stack) ?? ((t: string) => t)));
    const report: UpdateReport = {
      ok: reportOk(rows), dryRun: opts.dryRun, startedAt, finishedAt: new Date(this.now()).toISOString(), rows: shown, rateLimited: [...rateLimited.keys()],
    };
    if (!opts.dryRun) {
      // each stack's line of this run, for its status (the page, GET /v1/stacks)
      for (const stack of stacks) {
        const lastUpdate = lastUpdateOf(rows.filter((r) => r.stack === stack.name), report.finishedAt);
        if (lastUpdate) this.deps.store.update(stack.name, { lastUpdate });
      }
    }
    this.deps.onReport?.(report, logTails);
    return report;
  }

  /** The stack's env-value redactor; when its files cannot be read now, every text an env value could be in is hidden whole. */
  private async redactorOf(stack: StackConfig): Promise<(text: string) => string> {
    return readStackInputs(stack, this.deps.files, this.deps.childEnv).then((i) => i.redact, () => (t: string) => (t === '' ? t : REDACTED));
  }

  /** The rows of one stack: every labelled service, checked (once per reference per run) but not changed. */
  private async plan(stack: StackConfig, dryRun: boolean, checked: Map<string, Promise<CheckOutcome>>, rateLimited: Map<string, number | undefined>): Promise<PlannedService[]> {
    const model = this.deps.store.get(stack.name).model;
    const base = { Unit: stack.unit, stack: stack.name };
    // update: off is never looked at, whether or not stackd knows the stack's model
    if (!model && stack.update === 'off') return [];
    if (!model) {
      return [{
        candidate: { service: '', reference: '', policy: 'registry' },
        row: { ...base, Container: '', ContainerName: '', ContainerID: '', Image: '', Policy: '', Updated: 'failed', service: '',
          Reason: `stack "${stack.name}" has not been reconciled yet, so its compose model is unknown; run: stackctl up ${stack.name}` },
      }];
    }
    const containers = this.deps.store.get(stack.name).containers;
    const { candidates, skipped } = updateCandidates(model, stack.update);
    const out: PlannedService[] = skipped.map((s) => {
      const c = containers.find((x) => x.service === s.service);
      return {
        candidate: { service: s.service, reference: s.reference, policy: 'registry' },
        row: { ...base, ...containerCols(c, s.service), Image: s.reference, Policy: s.policy, Updated: 'skipped', Reason: s.reason, service: s.service },
      };
    });
    for (const candidate of candidates) {
      const c = containers.find((x) => x.service === candidate.service && x.state === 'running') ?? containers.find((x) => x.service === candidate.service);
      const row: UpdateRow = { ...base, ...containerCols(c, candidate.service), Image: candidate.reference, Policy: candidate.policy, Updated: 'false', service: candidate.service };
      const planned: PlannedService = { candidate, row, ...(c ? { container: c } : {}) };
      out.push(planned);
      if (!c) {
        Object.assign(row, { Updated: 'skipped', Reason: 'no container for this service (stack stopped?)' });
        continue;
      }
      const key = `${candidate.policy} ${candidate.reference}`;
      const host = registryOf(candidate.reference);
      if (candidate.policy === 'registry' && host && rateLimited.has(host) && !checked.has(key)) {
        Object.assign(row, { Updated: 'failed', Reason: `${host} rate-limited this run (429); ${askAgainText(host, rateLimited.get(host))}` });
        continue;
      }
      let outcome = checked.get(key);
      if (!outcome) {
        outcome = this.checkOne(candidate).catch((err: unknown): CheckOutcome => ({ kind: 'failed', reason: errorMessage(err) }));
        checked.set(key, outcome);
      }
      const o = await outcome;
      if (o.kind === 'failed') {
        if (o.rateLimitedRegistry) rateLimited.set(o.rateLimitedRegistry, o.retryAtMs);
        Object.assign(row, { Updated: 'failed', Reason: o.reason });
        continue;
      }
      if (o.kind === 'up-to-date') continue;
      row.remoteDigest = o.digest;
      if (c.imageId && sameId(c.imageId, o.pullRef)) continue; // local policy: already running it
      const bad = findBadDigest(this.memory, candidate.reference, o.digest);
      if (bad) {
        Object.assign(row, { Updated: 'skipped', Reason: `bad digest ${o.digest.slice(0, 19)}… (rolled back ${bad.at}: ${bad.reason}); waiting for a newer one` });
        continue;
      }
      row.Updated = 'pending';
      if (stack.update === 'monitor') row.Reason = 'update available (update: monitor)';
      else if (dryRun) row.Reason = 'update available (dry run)';
      planned.outcome = o;
    }
    return out;
  }

  private async checkOne(candidate: UpdateCandidate): Promise<CheckOutcome> {
    const local = await this.deps.podman.inspectImage(candidate.reference);
    if (candidate.policy === 'local') {
      // `local`: the image under the reference was rebuilt here; the container should run it
      const id = imageIdOf(local);
      return id ? { kind: 'update', digest: id, pullRef: id } : { kind: 'failed', reason: `no local image ${candidate.reference}` };
    }
    return this.deps.check(candidate.reference, local);
  }

  /**
   * Applies the planned updates of one stack; runs inside the stack's slot. Returns the progress when every
   * service passed its gate (kept), undefined otherwise (rolled back, failed, or nothing left to do).
   */
  private async apply(stack: StackConfig, planned: PlannedService[], log: Logger, logTails: Map<string, string>): Promise<{ progress: ApplyProgress; rows: Map<string, UpdateRow> } | undefined> {
    const services = await this.stillValid(stack, planned);
    if (services.length === 0) return undefined;
    const stamp = new Date(this.now()).toISOString().replace(/[-:.TZ]/g, '').slice(0, 14);
    const progress: ApplyProgress = {
      stack: stack.name,
      step: 'pinned',
      startedAt: new Date(this.now()).toISOString(),
      services: services.map((p) => ({
        service: p.candidate.service,
        reference: p.candidate.reference,
        previousImageId: p.container?.imageId ?? '',
        pinTag: `${PIN_REPOSITORY}/${stack.name}-${p.candidate.service}:${stamp}`,
        targetDigest: p.outcome?.digest ?? '',
      })),
    };
    const rows = new Map(services.map((p) => [p.candidate.service, p.row]));
    const step = async (s: ApplyProgress['step']) => {
      await this.saveMemory(withProgress(this.memory, { ...progress, step: s, services: [...progress.services] }));
      progress.step = s;
    };
    const pulled = new Map<string, string>();
    let verdict: string | undefined;
    try {
      await step('pinned');
      for (const s of progress.services) {
        if (!s.previousImageId) throw new Error(`service ${s.service} has no running image to pin, so it could not be rolled back`);
        const [repo, tag] = splitTag(s.pinTag);
        await this.deps.podman.tagImage(s.previousImageId, repo, tag);
      }
      log.info({ services: progress.services.map((s) => ({ service: s.service, reference: s.reference, digest: s.targetDigest })) }, 'update: pulling');
      await step('pulled');
      for (const p of services) {
        const o = p.outcome;
        if (!o) continue;
        pulled.set(p.candidate.service, p.candidate.policy === 'local' ? o.pullRef : await this.deps.podman.pullImage(o.pullRef));
      }
      await this.deps.afterAction?.('pulled', stack.name);
      await step('retagged');
      for (const p of services) {
        const id = pulled.get(p.candidate.service);
        if (!id || p.candidate.policy === 'local') continue;
        const [repo, tag] = splitTag(p.candidate.reference);
        await this.deps.podman.tagImage(id, repo, tag);
      }
      await this.deps.afterAction?.('retagged', stack.name);
      await step('up');
      const upFailure = await this.composeUp(stack, false, log);
      await this.deps.afterAction?.('up', stack.name);
      verdict = upFailure ?? await this.gate(stack, progress, pulled, log);
    } catch (err) {
      if (progress.step === 'pinned' || progress.step === 'pulled') {
        // nothing the stack runs or its references point to has changed: forget the attempt, report it
        await this.saveMemory(withoutProgress(this.memory, stack.name)).catch((e: unknown) => log.error({ err: e }, 'could not clear the update progress'));
        for (const r of rows.values()) Object.assign(r, { Updated: 'failed', Reason: `update failed: ${errorMessage(err)}` });
        log.warn({ err, step: progress.step }, 'update failed before anything changed');
        return undefined;
      }
      // a reference may already point at the new image: undo it (not the image's fault: no bad digest)
      await this.rollBack(stack, progress, `update failed: ${errorMessage(err)}`, rows, log, 'failed');
      return undefined;
    }
    if (verdict === undefined) {
      for (const r of rows.values()) Object.assign(r, { Updated: 'true', Reason: undefined });
      await this.saveMemory(withoutProgress(this.memory, stack.name)).catch((err: unknown) => log.error({ err }, 'could not clear the update progress'));
      log.info({ services: [...rows.keys()] }, 'update applied and healthy');
      return { progress, rows };
    }
    // keep the failing container's last words for the notification before the rollback replaces it
    for (const c of await this.deps.observe(stack).catch(() => [])) {
      if (rows.has(c.service)) logTails.set(`${stack.name}/${c.service}`, await this.deps.podman.containerLogs(c.id, 20).catch(() => ''));
    }
    this.rememberBad(stack, progress, verdict);
    await this.rollBack(stack, progress, verdict, rows, log);
    return undefined;
  }

  /**
   * The plan was made before the stack's slot was free: a reconcile may have changed the stack meanwhile (a new
   * image in the compose file, a recreated container), or another stack may just have found the digest bad.
   */
  private async stillValid(stack: StackConfig, planned: PlannedService[]): Promise<PlannedService[]> {
    const containers = await this.deps.observe(stack);
    const model = this.deps.store.get(stack.name).model;
    return planned.filter((p) => {
      const now = containers.find((c) => c.id === p.container?.id && c.state === 'running');
      const sameRef = model?.services.find((s) => s.name === p.candidate.service)?.image === p.candidate.reference;
      if (!now || !sameRef || now.imageId !== p.container?.imageId) {
        Object.assign(p.row, { Updated: 'skipped', Reason: 'the stack changed while the update waited for its queue slot; the next run looks again' });
        return false;
      }
      const bad = p.outcome && findBadDigest(this.memory, p.candidate.reference, p.outcome.digest);
      if (bad) {
        Object.assign(p.row, { Updated: 'skipped', Reason: `bad digest: it failed its health gate in stack "${bad.stack}" during this run (${bad.reason})` });
        return false;
      }
      return true;
    });
  }

  private rememberBad(stack: StackConfig, p: ApplyProgress, why: string): void {
    for (const s of p.services) {
      this.memory = withBadDigest(this.memory, {
        reference: s.reference, digest: s.targetDigest, stack: stack.name, service: s.service, at: new Date(this.now()).toISOString(), reason: why,
      });
    }
  }

  /**
   * A reference shared by several stacks is one tag: when its new digest failed in one stack (and was rolled
   * back there, re-tagging the reference), the stacks that took it earlier in this run are rolled back too, so
   * every stack runs what the reference says and no later reconcile downgrades one silently.
   */
  private async undoSharedFailures(applied: { stack: StackConfig; progress: ApplyProgress; rows: Map<string, UpdateRow> }[]): Promise<void> {
    for (const a of applied) {
      const affected = a.progress.services.filter((s) => findBadDigest(this.memory, s.reference, s.targetDigest));
      if (affected.length === 0) continue;
      const bad = findBadDigest(this.memory, affected[0]?.reference ?? '', affected[0]?.targetDigest ?? '');
      const log = this.deps.logger.child({ stack: a.stack.name, component: 'updater' });
      const why = `the same image failed its health gate in stack "${bad?.stack ?? '?'}" (${bad?.reason ?? ''}); rolled back here too, so the shared reference and what runs agree`;
      await this.deps.exclusive(a.stack.name, () => this.rollBack(a.stack, { ...a.progress, services: affected }, why, a.rows, log))
        .catch((err: unknown) => log.error({ err }, 'could not roll back a stack that shares a failed image'));
    }
  }

  /** service → the image id each updated service's reference points to now (what a resumed gate expects). */
  private async referenceImages(p: ApplyProgress): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const s of p.services) {
      const id = imageIdOf(await this.deps.podman.inspectImage(s.reference).catch(() => undefined));
      if (id) out.set(s.service, id);
    }
    return out;
  }

  /** Re-tag the pinned images to their references and bring them back up without pulling; gate them again. */
  /**
   * `rowWord`: 'rolled back' when the new image failed its gate; 'failed' when the update broke off for another
   * reason (an unreadable file, podman refusing): the image is not blamed and the next run tries it again.
   */
  private async rollBack(stack: StackConfig, p: ApplyProgress, why: string, rows: Map<string, UpdateRow>, log: Logger, rowWord: 'rolled back' | 'failed' = 'rolled back'): Promise<void> {
    // the progress is bookkeeping: a full disk must not stop the rollback itself
    await this.saveMemory(withProgress(this.memory, { ...p, step: 'rolling-back' }))
      .catch((err: unknown) => log.error({ err }, 'could not save the rollback progress; rolling back anyway'));
    log.warn({ why, services: p.services.map((s) => s.service) }, 'rolling back');
    let rollbackFailure: string | undefined;
    try {
      const previous = new Map<string, string>();
      for (const s of p.services) {
        const [repo, tag] = splitTag(s.reference);
        if (!s.previousImageId) throw new Error(`no previous image is known for service ${s.service}`);
        await this.deps.podman.tagImage(s.previousImageId, repo, tag);
        previous.set(s.service, s.previousImageId);
      }
      rollbackFailure = await this.composeUp(stack, true, log);
      rollbackFailure ??= await this.gate(stack, p, previous, log);
    } catch (err) {
      rollbackFailure = errorMessage(err);
    }
    for (const s of p.services) {
      const row = rows.get(s.service);
      if (!row) continue;
      if (rollbackFailure) Object.assign(row, { Updated: 'failed', Reason: `update failed: ${why}; rollback failed: ${rollbackFailure}` });
      else Object.assign(row, { Updated: rowWord, Reason: rowWord === 'failed' ? `${why} (rolled back to the previous image)` : why });
    }
    if (rollbackFailure) {
      const at = new Date(this.now()).toISOString();
      this.deps.store.update(stack.name, {
        lastResult: { result: 'failed', reasonCode: 'update-rollback-failed', reason: `stack "${stack.name}": update failed: ${why}; rollback failed: ${rollbackFailure}`, startedAt: p.startedAt, finishedAt: at, durationMs: Date.parse(at) - Date.parse(p.startedAt) },
      });
      log.error({ why, rollbackFailure }, 'update rollback failed');
    } else {
      log.warn({ why }, 'update rolled back');
    }
    await this.saveMemory(withoutProgress(this.memory, stack.name)).catch((err: unknown) => log.error({ err }, 'could not clear the update progress'));
  }

  /**
   * `compose up` of the whole stack, so the changed services and any that share their namespaces
   * (network_mode: "service:…", which podman will not orphan) are recreated: with the reconcile's repairs.
   */
  private async composeUp(stack: StackConfig, pullNever: boolean, log: Logger): Promise<string | undefined> {
    const inputs = await readStackInputs(stack, this.deps.files, this.deps.childEnv);
    if (inputs.failure) return inputs.failure.reason;
    const out = await upWithRepairs(this.deps.compose, this.deps.podman, stack, { ...inputs.spec(stack.startupTimeoutMs), pullNever }, () => this.deps.observe(stack), log);
    if (out.ok) {
      // a deploy like a reconcile's `up`: the health watch window starts now (the gate is the update's own)
      this.deps.store.update(stack.name, { deployFinishedAtMs: this.now() });
      return undefined;
    }
    return out.timedOut ? `compose up did not finish within ${Math.round(stack.startupTimeoutMs / 1000)}s` : `compose up failed: ${describeComposeError(out.stderr, inputs.redact)}`;
  }

  /**
   * The health gate over the updated services' containers: undefined when every one passed, else why not.
   * `expected`: service → the image id its container must run (the pulled one, or after a rollback the pinned
   * previous one). The healthcheck is the container's own (inspect), so it is known even before the first
   * reconcile has resolved the compose model (a resume at start); the model's is the fallback.
   */
  private async gate(stack: StackConfig, p: ApplyProgress, expected: ReadonlyMap<string, string>, log: Logger): Promise<string | undefined> {
    const cfg = this.deps.config();
    const model = this.deps.store.get(stack.name).model;
    const started = this.now();
    const specs = new Map<string, GateSpec>();
    const initialRestarts = new Map<string, number>();
    const runningSince = new Map<string, number>();
    const passed = new Set<string>();
    for (;;) {
      const containers = await this.deps.observe(stack);
      for (const s of p.services) {
        if (passed.has(s.service)) continue;
        const c = containers.find((x) => x.service === s.service && x.state === 'running') ?? containers.find((x) => x.service === s.service);
        const raw = c ? await this.deps.podman.inspectContainer(c.id) : undefined;
        const sample = gateSampleFromInspect(raw);
        let spec = specs.get(s.service);
        if (!spec) {
          const hc = parseInspectHealthcheck(raw) ?? model?.services.find((x) => x.name === s.service)?.healthcheck;
          spec = gateSpec(hc, cfg.update.settleMs, cfg.update.gateSlackMs);
          specs.set(s.service, spec);
        }
        const elapsed = this.now() - started;
        if (c && wantsOnDemandCheck(spec, sample.health, elapsed)) {
          // podman 19326: a missing healthcheck timer leaves a container `starting` for ever
          await this.deps.podman.runHealthcheck(c.id, spec.kind === 'healthcheck' ? spec.timeoutMs + 10_000 : 30_000).catch(() => undefined);
        }
        if (!initialRestarts.has(s.service)) initialRestarts.set(s.service, sample.restartCount ?? 0);
        if (!runningSince.has(s.service) && sample.state === 'running') runningSince.set(s.service, this.now());
        const verdict = judgeGate({
          spec, sample,
          // unknown (the reference's image could not be inspected): any image passes this part of the gate
          expectedImageId: expected.get(s.service) || sample.imageId || '',
          initialRestarts: initialRestarts.get(s.service) ?? 0,
          elapsedMs: elapsed,
          runningForMs: this.now() - (runningSince.get(s.service) ?? this.now()),
        });
        if (verdict.kind === 'fail') return `service ${s.service}: ${verdict.reason}`;
        if (verdict.kind === 'pass') {
          passed.add(s.service);
          log.info({ service: s.service }, 'health gate passed');
        }
      }
      if (passed.size === p.services.length) return undefined;
      await this.sleep(this.deps.pollMs ?? 2_000);
    }
  }

  private async loadMemory(): Promise<void> {
    if (this.loaded) return;
    this.memory = await this.deps.state.load();
    this.loaded = true;
  }

  private async saveMemory(next: UpdateState): Promise<void> {
    await this.deps.state.save(next);
    this.memory = next;
  }
}

/** Whether the running run answers a request: it looks at every stack the request does, and applies unless only a dry run was asked. */
function covers(running: { stack?: string; dryRun: boolean }, asked: { stack?: string; dryRun: boolean }): boolean {
  const scope = running.stack === undefined || running.stack === asked.stack;
  return scope && (!running.dryRun || asked.dryRun);
}

function containerCols(c: ObservedContainer | undefined, service: string): Pick<UpdateRow, 'Container' | 'ContainerName' | 'ContainerID'> {
  return c ? { Container: c.id.slice(0, 12), ContainerName: c.name, ContainerID: c.id } : { Container: '', ContainerName: `(${service})`, ContainerID: '' };
}

/** "host:5000/a/b:tag" → ["host:5000/a/b", "tag"] (a ":" before the last "/" is a port); no tag → latest. */
export function splitTag(ref: string): [string, string] {
  const name = ref.split('@')[0] ?? ref;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? [name.slice(0, colon), name.slice(colon + 1)] : [name, 'latest'];
}

/** The registry a reference names (docker.io for short names), or undefined when it cannot be parsed. */
function registryOf(reference: string): string | undefined {
  const ref = parseImageRef(reference);
  return isImageRefError(ref) ? undefined : ref.registry;
}

function sameId(a: string, b: string): boolean {
  const x = a.replace(/^sha256:/, '');
  const y = b.replace(/^sha256:/, '');
  return x.length >= 12 && y.length >= 12 && (x.startsWith(y) || y.startsWith(x));
}
