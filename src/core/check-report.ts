// `stackctl check`: the preflight verdicts of every stack, plus warnings, as data and as lines for a human.
// Nothing here decides to change anything: check reports what the next reconcile (or gc) would do.
import { parseDocument } from 'yaml';
import { imageRefProblem } from './image-ref.js';
import type { ComposeModel } from './model.js';
import { UNIT_LABEL, type LabelViolation } from './preflight.js';

export interface CheckWarning {
  code: 'obsolete-version' | 'image-no-registry' | 'image-no-tag' | 'no-healthcheck' | 'healthcheck-split' | 'env-file-missing' | 'boltdb' | 'podman-auto-update-timer';
  message: string;
}

export interface DriftedFinding {
  id: string;
  name: string;
  found?: string;
  expected: string;
}

export interface StaleFinding {
  id: string;
  name: string;
  service: string;
  health: 'starting' | 'unhealthy';
  forMs: number;
  thresholdMs: number;
}

export interface StackCheck {
  stack: string;
  /** false on a label-invariant violation, or when compose could not resolve the model */
  ok: boolean;
  /** compose rejected the files (its message, scrubbed) */
  error?: string;
  violations: LabelViolation[];
  /** the reason a reconcile would fail with (formatInvariantReason), when there are violations */
  reason?: string;
  drifted: DriftedFinding[];
  stale: StaleFinding[];
  warnings: CheckWarning[];
}

export interface HostCheck {
  warnings: CheckWarning[];
  /** host.databaseBackend of GET /libpod/info: "sqlite" or "boltdb"; undefined when podman did not say */
  databaseBackend?: string;
  /** `systemctl is-enabled podman-auto-update.timer` per scope; "unknown" when systemctl could not tell */
  autoUpdateTimer: { user: string; system: string };
  /** orphaned healthcheck units `stackctl gc` would stop now */
  orphanUnits: string[];
  /** what could not be looked at, e.g. the system manager */
  notes: string[];
  /** which compose provider `podman compose` runs; not ok unless docker-compose v2 (absent offline) */
  composeProvider?: { ok: boolean; detail: string };
  /** stacks that left the config whose containers are still there (removedStacks stop/keep, or not done yet) */
  leftovers?: Leftover[];
}

export interface Leftover {
  stack: string;
  project: string;
  action: 'stop' | 'down' | 'keep';
  containers: string[];
}

export interface CheckReport {
  ok: boolean;
  /** one line: "ok", or which stacks failed and why (stackctl prints it when check fails) */
  summary: string;
  stacks: StackCheck[];
  host: HostCheck;
  lines: string[];
}

/** The top-level `version:` of one compose file; undefined when absent or the file is not YAML (compose says so). */
export function obsoleteVersionKey(text: string): string | undefined {
  let doc;
  try {
    doc = parseDocument(text);
  } catch {
    return undefined;
  }
  if (doc.errors.length > 0) return undefined;
  const contents: unknown = doc.toJS();
  if (typeof contents !== 'object' || contents === null || Array.isArray(contents) || !('version' in contents)) return undefined;
  return String(contents.version);
}

/** Warnings about the compose files and the resolved model (none of them stops a deploy). */
export function composeWarnings(files: readonly { path: string; text: string }[], model: ComposeModel): CheckWarning[] {
  const out: CheckWarning[] = [];
  for (const f of files) {
    const version = obsoleteVersionKey(f.text);
    if (version !== undefined) {
      out.push({
        code: 'obsolete-version',
        message: `${f.path}: top-level \`version: "${version}"\` is obsolete (compose ignores it and warns on every run); delete that line`,
      });
    }
  }
  for (const s of model.services) {
    if (s.image !== undefined) {
      const problem = imageRefProblem(s.image);
      if (problem) out.push({ code: problem.kind === 'no-tag' ? 'image-no-tag' : 'image-no-registry', message: `service "${s.name}": ${problem.message}` });
    }
    const split = s.healthcheck?.argsSplitByPodman;
    if (split !== undefined && !s.healthcheck?.disabled) {
      out.push({
        code: 'healthcheck-split',
        message: `service "${s.name}": its healthcheck \`["CMD", …]\` has an argument with spaces (${JSON.stringify(split[0])}); podman 5's ` +
          'Docker-compatible API splits it at every space (podman issue 26519), so the check runs something else and fails; ' +
          'write the test as `["CMD-SHELL", "<the command line>"]` (or a plain string)',
      });
    }
    if (s.healthcheck === undefined) {
      out.push({
        code: 'no-healthcheck',
        message: `service "${s.name}" has no healthcheck in the compose file (unless its image brings one, stackd cannot tell ` +
          `"up" from "working"); add a \`healthcheck:\` with a test that proves the service answers`,
      });
    }
  }
  return out;
}

/** host.databaseBackend from GET /libpod/info (podman 5.x: "sqlite" or "boltdb"). */
export function databaseBackendOf(info: unknown): string | undefined {
  if (typeof info !== 'object' || info === null || !('host' in info)) return undefined;
  const host = info.host;
  if (typeof host !== 'object' || host === null || !('databaseBackend' in host)) return undefined;
  return typeof host.databaseBackend === 'string' ? host.databaseBackend : undefined;
}

/** is-enabled states that mean the timer starts by itself. */
export function isEnabledState(state: string): boolean {
  return state === 'enabled' || state === 'enabled-runtime' || state === 'linked' || state === 'linked-runtime' || state === 'alias';
}

export function hostWarnings(input: { databaseBackend?: string; autoUpdateTimer: { user: string; system: string } }): CheckWarning[] {
  const out: CheckWarning[] = [];
  if (input.databaseBackend?.toLowerCase() === 'boltdb') {
    out.push({
      code: 'boltdb',
      message: 'podman still uses the BoltDB database backend (podman info: host.databaseBackend=boltdb); Podman 6 removes it. ' +
        'Migrate to SQLite before upgrading: Podman 5.8 brings a migration tool (older versions only `podman system reset`, which deletes all containers and images)',
    });
  }
  const fixes = { user: 'systemctl --user disable --now podman-auto-update.timer', system: 'as root: systemctl disable --now podman-auto-update.timer (on NixOS: drop it from the configuration)' };
  for (const scope of ['user', 'system'] as const) {
    const state = input.autoUpdateTimer[scope];
    if (!isEnabledState(state)) continue;
    out.push({
      code: 'podman-auto-update-timer',
      message: `podman-auto-update.timer is ${state} (${scope} scope): on compose stacks \`podman auto-update\` can only fail ` +
        `("raw-image name is empty") and stackd updates them itself; disable it: ${fixes[scope]}`,
    });
  }
  return out;
}

/** The human form of a report: one block per stack, then the host, then a summary line. */
export function renderCheck(stacks: readonly StackCheck[], host: HostCheck): string[] {
  const lines: string[] = [];
  for (const s of stacks) {
    const counts = [
      plural(s.violations.length, 'violation'), plural(s.drifted.length, 'drifted container'),
      plural(s.stale.length, 'stale container'), plural(s.warnings.length, 'warning'),
    ].filter(Boolean);
    lines.push(`${s.stack}: ${s.ok ? 'ok' : 'FAILED'}${counts.length ? ` (${counts.join(', ')})` : ''}`);
    if (s.error) lines.push(`  error: ${s.error}`);
    for (const v of s.violations) {
      const has = v.problem === 'missing' ? `has no ${UNIT_LABEL} label` : `has ${UNIT_LABEL}=${v.found ?? ''}`;
      const why = v.autoupdate !== undefined ? ` sets io.containers.autoupdate=${v.autoupdate} but` : '';
      lines.push(`  violation: service "${v.service}" (${v.files.join(' or ')})${why} ${has}; ${v.problem === 'missing' ? 'add' : 'set'} under its labels:`);
      lines.push(`      ${v.line}`);
      lines.push(`    (or \`- ${UNIT_LABEL}=${v.expected}\` if its labels are a list); until then every reconcile fails before touching anything`);
    }
    for (const d of s.drifted) {
      lines.push(`  drifted: container ${d.name} has ${d.found === undefined ? 'no PODMAN_SYSTEMD_UNIT' : `PODMAN_SYSTEMD_UNIT=${d.found}`}, ` +
        `expected ${d.expected}: the next reconcile removes it and compose recreates it`);
    }
    for (const t of s.stale) {
      lines.push(`  stale: container ${t.name} (service ${t.service || '?'}): health ${t.health} for ${seconds(t.forMs)}, longer than ` +
        `${seconds(t.thresholdMs)}: the next reconcile runs its healthcheck once and removes it if it still fails`);
    }
    for (const w of s.warnings) lines.push(`  warning: ${w.message}`);
  }
  const hostCounts = [plural(host.warnings.length, 'warning'), plural(host.orphanUnits.length, 'orphaned healthcheck unit')].filter(Boolean);
  if (host.composeProvider && !host.composeProvider.ok) hostCounts.unshift('compose provider REFUSED');
  const leftovers = host.leftovers ?? [];
  if (leftovers.length) hostCounts.push(plural(leftovers.length, 'leftover project'));
  lines.push(`host: ${hostCounts.length ? hostCounts.join(', ') : 'ok'}`);
  if (host.composeProvider && !host.composeProvider.ok) lines.push(`  error: ${host.composeProvider.detail}`);
  for (const l of leftovers) {
    lines.push(`  leftover: project ${l.project} of stack "${l.stack}" (no longer in the config; removedStacks: ${l.action}) still has ` +
      `${plural(l.containers.length, 'container')}: ${l.containers.join(' ')}; remove them with \`podman compose -p ${l.project} down\` ` +
      'or put the stack back in the config');
  }
  for (const w of host.warnings) lines.push(`  warning: ${w.message}`);
  if (host.orphanUnits.length) lines.push(`  orphaned healthcheck units (\`stackctl gc\` stops them): ${host.orphanUnits.join(' ')}`);
  for (const n of host.notes) lines.push(`  note: ${n}`);
  const sum = (f: (s: StackCheck) => number) => stacks.reduce((n, s) => n + f(s), 0);
  const failed = stacks.filter((s) => !s.ok).length;
  const totals = [
    count(sum((s) => s.violations.length), 'violation'), `${sum((s) => s.drifted.length)} drifted`, `${sum((s) => s.stale.length)} stale`,
    count(sum((s) => s.warnings.length) + host.warnings.length, 'warning'), count(host.orphanUnits.length, 'orphaned unit'),
  ];
  const providerBad = host.composeProvider !== undefined && !host.composeProvider.ok;
  const verdict = failed ? `FAILED (${plural(failed, 'stack')} with violations or errors)` : providerBad ? 'FAILED (compose provider)' : 'ok';
  lines.push(`check: ${verdict}; ${totals.join(', ')}`);
  return lines;
}

/** "" for none: for lists that leave out what is absent */
function plural(n: number, what: string): string {
  return n === 0 ? '' : count(n, what);
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}
