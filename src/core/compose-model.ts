// The desired services of a stack, read from the model compose itself produced
// (`podman compose -p P -f … --env-file … config --format json`), so interpolation, extends, include, several
// files and profiles are resolved exactly as `up` resolves them. Fixtures: test/fixtures/compose-config.*.json.
import { StackdError } from './errors.js';
import type { ComposeModel, ExpectedService, HealthcheckSpec } from './model.js';

/** Compose's and podman's defaults for a healthcheck that leaves a field out. */
export const HEALTHCHECK_DEFAULTS: Readonly<Omit<HealthcheckSpec, 'disabled'>> = {
  intervalMs: 30_000,
  timeoutMs: 30_000,
  retries: 3,
  startPeriodMs: 0,
};

/** compose printed a model stackd cannot read (the reconciler reports it as compose-config). */
export class ComposeModelError extends StackdError {
  constructor(message: string) {
    super('STACKD_COMPOSE_MODEL', message);
  }
}

/**
 * `oneShot` marks a service that may legitimately run to completion (a migration, an init job): its restart
 * policy is absent or "no" AND it has no (enabled) healthcheck. Such a service counts as fine when it has
 * exited with code 0; any other restart policy or a healthcheck says the author expects it to keep running.
 */
export function parseComposeConfig(json: unknown, project: string): ComposeModel {
  let doc: unknown = json;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json);
    } catch (err) {
      throw new ComposeModelError(`compose config output for project "${project}" is not JSON: ${(err as Error).message}`);
    }
  }
  if (!isRecord(doc)) throw new ComposeModelError(`Expected compose config output to be an object, got ${kind(doc)}`);
  const services = doc['services'] ?? {};
  if (!isRecord(services)) throw new ComposeModelError(`Expected \`services\` to be a mapping, got ${kind(services)}`);
  return {
    project,
    services: Object.entries(services)
      .map(([name, raw]) => parseService(name, raw))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/**
 * The services that should have containers with these profiles active. A service with no `profiles` is
 * always on; one with profiles needs one of them active (compose's own rule).
 */
export function expectedServices(model: ComposeModel, activeProfiles: readonly string[] = []): ExpectedService[] {
  return model.services.filter((s) => s.profiles.length === 0 || s.profiles.some((p) => activeProfiles.includes(p)));
}

/** The healthcheck of each service by name (undefined: none declared in compose), as stale-health takes it. */
export function healthchecksByService(services: readonly ExpectedService[]): Record<string, HealthcheckSpec | undefined> {
  return Object.fromEntries(services.map((s) => [s.name, s.healthcheck]));
}

function parseService(name: string, raw: unknown): ExpectedService {
  if (!isRecord(raw)) throw new ComposeModelError(`Expected services.${name} to be a mapping, got ${kind(raw)}`);
  const healthcheck = parseHealthcheck(name, raw['healthcheck']);
  const restart = raw['restart'];
  if (restart !== undefined && typeof restart !== 'string') {
    throw new ComposeModelError(`Expected services.${name}.restart to be a string, got ${kind(restart)}`);
  }
  const service: ExpectedService = {
    name,
    labels: parseLabels(name, raw['labels']),
    oneShot: (restart === undefined || restart === 'no') && (healthcheck === undefined || healthcheck.disabled),
    profiles: parseProfiles(name, raw['profiles']),
  };
  if (typeof raw['image'] === 'string') service.image = raw['image'];
  // built from source here: a registry has nothing newer to offer (the updater skips it)
  if (raw['build'] !== undefined) service.build = true;
  if (healthcheck) service.healthcheck = healthcheck;
  return service;
}

// Compose accepts labels as a mapping or as a list of "key=value" (a bare "key" means an empty value).
function parseLabels(service: string, raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined || raw === null) return out;
  if (Array.isArray(raw)) {
    for (const item of raw) {
      if (typeof item !== 'string') {
        throw new ComposeModelError(`Expected services.${service}.labels entries to be "key=value" strings, got ${kind(item)}`);
      }
      const eq = item.indexOf('=');
      if (eq < 0) out[item] = '';
      else out[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return out;
  }
  if (!isRecord(raw)) throw new ComposeModelError(`Expected services.${service}.labels to be a mapping or a list, got ${kind(raw)}`);
  for (const [k, v] of Object.entries(raw)) out[k] = v === null || v === undefined ? '' : String(v);
  return out;
}

function parseProfiles(service: string, raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || !raw.every((p): p is string => typeof p === 'string')) {
    throw new ComposeModelError(`Expected services.${service}.profiles to be a list of strings, got ${kind(raw)}`);
  }
  return raw;
}

function parseHealthcheck(service: string, raw: unknown): HealthcheckSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) throw new ComposeModelError(`Expected services.${service}.healthcheck to be a mapping, got ${kind(raw)}`);
  const test = raw['test'];
  const disabled = raw['disable'] === true || test === 'NONE' || (Array.isArray(test) && test[0] === 'NONE');
  const duration = (key: string, dflt: number): number => {
    const v = raw[key];
    if (v === undefined || v === null) return dflt;
    const ms = typeof v === 'string' ? parseDurationMs(v) : undefined;
    if (ms === undefined) {
      throw new ComposeModelError(
        `Expected services.${service}.healthcheck.${key} to be a duration like "30s" or "1m30s", got ${kind(v)}`,
      );
    }
    return ms;
  };
  const retries = raw['retries'];
  if (retries !== undefined && retries !== null && !(typeof retries === 'number' && Number.isInteger(retries) && retries >= 0)) {
    throw new ComposeModelError(`Expected services.${service}.healthcheck.retries to be a whole number, got ${kind(retries)}`);
  }
  const splitArgs = Array.isArray(test) && test[0] === 'CMD'
    ? test.slice(1).filter((a): a is string => typeof a === 'string' && /\s/.test(a))
    : [];
  return {
    disabled,
    ...(splitArgs.length > 0 ? { argsSplitByPodman: splitArgs } : {}),
    intervalMs: duration('interval', HEALTHCHECK_DEFAULTS.intervalMs),
    timeoutMs: duration('timeout', HEALTHCHECK_DEFAULTS.timeoutMs),
    // 0 retries means "use the default" to both podman and docker
    retries: typeof retries === 'number' && retries > 0 ? retries : HEALTHCHECK_DEFAULTS.retries,
    startPeriodMs: duration('start_period', HEALTHCHECK_DEFAULTS.startPeriodMs),
  };
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)/;

/** A Go duration ("1m30s", "1h0m0s", "500ms", "1.5s", "0") in whole milliseconds; undefined if malformed. */
export function parseDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  let rest = text;
  let total = 0;
  while (rest.length > 0) {
    const m = DURATION.exec(rest);
    if (!m) return undefined;
    const num = /^[\d.]+/.exec(m[0])?.[0] ?? '';
    total += Number(num) * (UNIT_MS[m[0].slice(num.length)] ?? Number.NaN);
    rest = rest.slice(m[0].length);
  }
  // the epsilon keeps float error ("1.001s" → 1000.99…) from truncating a whole millisecond away
  return text.length > 0 && Number.isFinite(total) ? Math.floor(total + 1e-7) : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `\`${String(v)}\` (${typeof v})`;
}
