// stackd.yaml text → resolved Config, or every problem with its key path. Pure: the caller reads the file and
// passes the environment in (ConfigEnvironment), so tests and config reloads need no process state.
import { posix } from 'node:path';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { CONCURRENCY_EXPECTED, CONFIG_DEFAULTS, ConfigSchema } from './config-schema.js';
import type { CheckName, ConfigInput, NotifierInput } from './config-schema.js';
import type { ConcurrencyBounds, Config, ConfigEnvironment, ConfigIssue, ListenAddress, NotifierConfig, StackConfig } from './config-types.js';
import { ConfigValueError, checkDuration, parseDuration } from './duration.js';
import { validateProjectName, validateStackName, validateUnitName } from './stack-name.js';

export type ParseConfigResult = { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] };
type Segment = string | number;

// ---------------------------------------------------------------------------------------------------------------
// Value checks named by `x-check` in the schema. Each returns what was expected, or undefined when fine. A value
// of the wrong type passes here: the schema's type error already speaks for it.

const CHECKS: Record<CheckName, (value: unknown) => string | undefined> = {
  duration: (v) => durationExpected(v, true),
  'positive-duration': (v) => durationExpected(v, false),
  path: (v) => (typeof v === 'string' ? pathExpected(v) : undefined),
  url: (v) => (typeof v === 'string' ? urlExpected(v) : undefined),
  listen: (v) => {
    if (typeof v !== 'string' && typeof v !== 'number') return undefined;
    const r = parseListen(v);
    return 'expected' in r ? r.expected : undefined;
  },
  concurrency: (v) => (v === 'auto' || (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 32) ? undefined : CONCURRENCY_EXPECTED),
  'stack-name': (v) => (typeof v === 'string' ? validateStackName(v) : undefined),
  'project-name': (v) => (typeof v === 'string' ? validateProjectName(v) : undefined),
  'unit-name': (v) => (typeof v === 'string' ? validateUnitName(v) : undefined),
};

function durationExpected(v: unknown, allowZero: boolean): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const r = checkDuration(v, { allowZero });
  return r.ok ? undefined : r.expected;
}

function pathExpected(p: string): string | undefined {
  if (p === '') return 'expected a path, not an empty string';
  if (p.includes('\0')) return 'expected a path without NUL characters';
  // ~user/ would need the password database: not something a pure parser (or a Nix-generated config) should do.
  if (p.startsWith('~') && p !== '~' && !p.startsWith('~/')) return 'expected an absolute path or ~/… (~user/ is not supported)';
  return undefined;
}

function urlExpected(u: string): string | undefined {
  if (!URL.canParse(u)) return 'expected an absolute http(s) URL, like https://gotify.example.org';
  const protocol = new URL(u).protocol;
  return protocol === 'http:' || protocol === 'https:' ? undefined : `expected an http(s) URL, not ${protocol}`;
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[\w.-]+)?$/;
const LISTEN_EXPECTED = 'expected host:port or a bare port (loopback), like 127.0.0.1:9310, [::1]:9310 or 9310';

/** "127.0.0.1:9310", "[::1]:9310", "nas.lan:9310", "9310" or 9310 (a bare port listens on 127.0.0.1 only). */
export function parseListen(value: string | number): ListenAddress | { expected: string } {
  const text = String(value).trim();
  const m = /^(?:(?:\[([^\]]*)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(text);
  if (!m) {
    return text.split(':').length > 2 ? { expected: `${LISTEN_EXPECTED}; put an IPv6 address in brackets` } : { expected: LISTEN_EXPECTED };
  }
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return { expected: 'expected a port from 1 to 65535' };
  const host = m[1] ?? m[2] ?? CONFIG_DEFAULTS.listenHost;
  if (m[1] !== undefined ? !IPV6.test(host) : !HOSTNAME.test(host)) return { expected: LISTEN_EXPECTED };
  return { host, port };
}

// ---------------------------------------------------------------------------------------------------------------
// Schema validation. Compiled once: ajv generates code, which is CPU work, not I/O.

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, logger: false });
ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
ajv.addKeyword({
  keyword: 'x-check',
  schemaType: 'string',
  validate: (check: CheckName, data: unknown) => CHECKS[check](data) === undefined,
});
const validateInput = ajv.compile<ConfigInput>(ConfigSchema);

/** A problem found before positions are known; `at` is the key path as segments. */
interface RawIssue {
  at: Segment[];
  message: string;
}

function schemaOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function expectedOf(schema: unknown): string | undefined {
  const x = schemaOf(schema)['x-expected'];
  return typeof x === 'string' ? x : undefined;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function branchAccepts(branch: unknown, data: unknown): boolean {
  const type = schemaOf(branch)['type'];
  if (type === 'integer') return Number.isInteger(data);
  return type === jsonType(data);
}

/**
 * For an anyOf (string | list, string | number), ajv reports every branch. Keep only the errors of the branch
 * whose type fits the value (`compose: [5]` → compose[0] is not a string); when none fits, keep the anyOf error,
 * whose x-expected names all the accepted forms.
 */
function pruneAnyOf(errors: ErrorObject[]): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    const branches = schemaOf(e.parentSchema)['anyOf'];
    const fitting = Array.isArray(branches) ? branches.flatMap((b, i) => (branchAccepts(b, e.data) ? [i] : [])) : [];
    const keep = fitting.length === 1 ? `${e.schemaPath}/${fitting[0]}/` : undefined;
    if (keep !== undefined) dropped.add(e);
    for (const sub of errors) {
      if (sub.schemaPath.startsWith(`${e.schemaPath}/`) && (keep === undefined || !sub.schemaPath.startsWith(keep))) dropped.add(sub);
    }
  }
  return errors.filter((e) => !dropped.has(e));
}

function segmentsOf(instancePath: string, root: unknown): Segment[] {
  const out: Segment[] = [];
  let node: unknown = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const seg: Segment = Array.isArray(node) ? Number(key) : key;
    out.push(seg);
    node = schemaOf(node)[seg];
  }
  return out;
}

/** The value as the user wrote it, short. Header values may hold credentials, so those show only their type. */
function describe(value: unknown, at: Segment[]): string {
  if (at.includes('headers') && at.length >= 4) return `a ${jsonType(value)} (value hidden)`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length === 0 ? 'an empty mapping' : `a mapping with keys ${keys.join(', ')}`;
  }
  return `${String(value)} (${typeof value})`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function issueFromAjv(e: ErrorObject, root: unknown): RawIssue {
  const at = segmentsOf(e.instancePath, root);
  const params = e.params as Record<string, unknown>;
  const parent = schemaOf(e.parentSchema);
  switch (e.keyword) {
    case 'required': {
      const key = String(params['missingProperty']);
      const expected = expectedOf(schemaOf(parent['properties'])[key]) ?? 'expected a value';
      return { at: [...at, key], message: `missing required key; ${expected}` };
    }
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys(schemaOf(parent['properties']));
      const hint = didYouMean(key, known);
      return { at: [...at, key], message: `unknown key; expected one of ${known.join(', ')}${hint ? ` (did you mean ${hint}?)` : ''}` };
    }
    case 'x-check': {
      const expected = CHECKS[e.schema as CheckName](e.data) ?? 'expected a valid value';
      return { at, message: `got ${describe(e.data, at)}; ${expected}` };
    }
    default: {
      const fallback = e.keyword === 'type' ? `expected ${TYPE_NAMES[String(params['type'])] ?? String(params['type'])}` : `expected a value that ${e.message ?? 'fits'}`;
      return { at, message: `got ${describe(e.data, at)}; ${expectedOf(parent) ?? fallback}` };
    }
  }
}

function didYouMean(key: string, known: string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = editDistance(key.toLowerCase(), name.toLowerCase());
    if (d <= Math.max(1, Math.floor(name.length / 4)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution: defaults, durations in ms, absolute paths, cross-stack checks.

/** XDG base directories must be absolute; the spec says to ignore relative ones. */
function absoluteEnv(env: ConfigEnvironment['env'], name: string): string | undefined {
  const v = env[name];
  return v !== undefined && v.startsWith('/') ? v : undefined;
}

/** `${XDG_CONFIG_HOME:-$HOME/.config}/stackd/stackd.yaml`; throws when neither variable is usable. */
export function defaultConfigPath(env: ConfigEnvironment['env']): string {
  const base = absoluteEnv(env, 'XDG_CONFIG_HOME') ?? mapDefined(absoluteEnv(env, 'HOME'), (h) => posix.join(h, '.config'));
  if (base === undefined) {
    throw new ConfigValueError('--config', 'missing, and neither XDG_CONFIG_HOME nor HOME is set to an absolute path; expected --config PATH');
  }
  return posix.join(base, 'stackd', 'stackd.yaml');
}

function mapDefined<T, U>(v: T | undefined, f: (v: T) => U): U | undefined {
  return v === undefined ? undefined : f(v);
}

class Resolver {
  readonly issues: RawIssue[] = [];
  private readonly home: string | undefined;
  private readonly configDir: string;

  constructor(
    private readonly source: string,
    private readonly ctx: ConfigEnvironment,
  ) {
    this.home = absoluteEnv(ctx.env, 'HOME');
    // Relative paths inside the file are relative to the file. A relative `--config` path needs the working
    // directory, which only the caller knows.
    this.configDir = posix.dirname(posix.isAbsolute(source) || ctx.cwd === undefined ? source : posix.join(ctx.cwd, source));
  }

  get runtimeDir(): string {
    return absoluteEnv(this.ctx.env, 'XDG_RUNTIME_DIR') ?? `/run/user/${this.ctx.uid}`;
  }

  get stateHome(): string | undefined {
    return absoluteEnv(this.ctx.env, 'XDG_STATE_HOME') ?? mapDefined(this.home, (h) => posix.join(h, '.local', 'state'));
  }

  /** ~/ → HOME; relative → the config file's folder. */
  path(p: string, at: Segment[]): string {
    if (p === '~' || p.startsWith('~/')) {
      if (this.home === undefined) {
        this.issues.push({ at, message: `got ${JSON.stringify(p)}, but HOME is not set to an absolute path; expected an absolute path` });
        return p;
      }
      return posix.join(this.home, p.slice(1));
    }
    return posix.isAbsolute(p) ? posix.normalize(p) : posix.join(this.configDir, p);
  }

  paths(value: string | string[] | undefined, at: Segment[]): string[] {
    if (value === undefined) return [];
    if (typeof value === 'string') return [this.path(value, at)];
    return value.map((p, i) => this.path(p, [...at, i]));
  }

  /** Already checked by the schema, so parseDuration cannot throw here. */
  ms(value: string | number | undefined, fallback: string, at: Segment[]): number {
    return parseDuration(value ?? fallback, formatPath(at));
  }
}

function resolve(input: ConfigInput, source: string, ctx: ConfigEnvironment): { config: Config; issues: RawIssue[] } {
  const r = new Resolver(source, ctx);
  const D = CONFIG_DEFAULTS;
  const q = input.queue ?? {};
  const queue = {
    concurrency: concurrencyBounds(q.concurrency ?? D.queue.concurrency, q.maxConcurrency ?? D.queue.maxConcurrency),
    retryBaseMs: r.ms(q.retryBase, D.queue.retryBase, ['queue', 'retryBase']),
    retryMaxMs: r.ms(q.retryMax, D.queue.retryMax, ['queue', 'retryMax']),
    resyncMs: r.ms(q.resync, D.queue.resync, ['queue', 'resync']),
  };
  if (queue.retryMaxMs < queue.retryBaseMs) {
    r.issues.push({
      at: ['queue', 'retryMax'],
      message: `got ${describe(q.retryMax ?? D.queue.retryMax, [])}, less than queue.retryBase (${describe(q.retryBase ?? D.queue.retryBase, [])}); expected at least queue.retryBase`,
    });
  }
  const d = input.defaults ?? {};
  const defaults = {
    startupTimeoutMs: r.ms(d.startupTimeout, D.defaults.startupTimeout, ['defaults', 'startupTimeout']),
    envWaitMs: r.ms(d.envWait, D.defaults.envWait, ['defaults', 'envWait']),
    healthWindowMs: r.ms(d.healthWindow, D.defaults.healthWindow, ['defaults', 'healthWindow']),
    repair: d.repair ?? D.defaults.repair,
  };
  const sh = input.staleHealth ?? {};
  const c = input.cleanup ?? {};

  const api: Config['api'] = {
    socket: input.api?.socket !== undefined ? r.path(input.api.socket, ['api', 'socket']) : posix.join(r.runtimeDir, 'stackd', 'stackd.sock'),
  };
  if (input.api?.listen !== undefined) {
    const listen = parseListen(input.api.listen);
    if ('port' in listen) api.listen = listen;
  }

  let stateFile: string;
  if (input.stateFile !== undefined) stateFile = r.path(input.stateFile, ['stateFile']);
  else if (r.stateHome !== undefined) stateFile = posix.join(r.stateHome, 'stackd', 'state.json');
  else {
    stateFile = '';
    r.issues.push({ at: ['stateFile'], message: 'missing, and neither XDG_STATE_HOME nor HOME is set to give a default; expected an absolute path' });
  }

  const config: Config = {
    source,
    podman: {
      socket:
        input.podman?.socket !== undefined
          ? r.path(input.podman.socket, ['podman', 'socket'])
          : posix.join(r.runtimeDir, 'podman', 'podman.sock'),
      composeCommand: [...(input.podman?.composeCommand ?? D.composeCommand)],
      composeInfoCacheMs: r.ms(input.podman?.composeInfoCache, D.composeInfoCache, ['podman', 'composeInfoCache']),
    },
    api,
    queue,
    defaults,
    staleHealth: {
      startingFloorMs: r.ms(sh.startingFloor, D.staleHealth.startingFloor, ['staleHealth', 'startingFloor']),
      unhealthyAfterMs: r.ms(sh.unhealthyAfter, D.staleHealth.unhealthyAfter, ['staleHealth', 'unhealthyAfter']),
      recheckWindowMs: r.ms(sh.recheckWindow, D.staleHealth.recheckWindow, ['staleHealth', 'recheckWindow']),
    },
    cleanup: {
      maxAgeMs: r.ms(c.maxAge, D.cleanup.maxAge, ['cleanup', 'maxAge']),
      timerMinAgeMs: r.ms(c.timerMinAge, D.cleanup.timerMinAge, ['cleanup', 'timerMinAge']),
      gcEveryMs: r.ms(c.gcEvery, D.cleanup.gcEvery, ['cleanup', 'gcEvery']),
      pruneEveryMs: r.ms(c.pruneEvery, D.cleanup.pruneEvery, ['cleanup', 'pruneEvery']),
    },
    stateFile,
    removedStacks: input.removedStacks ?? D.removedStacks,
    update: {
      mode: input.update?.mode ?? D.update.mode,
      settleMs: r.ms(input.update?.settle, D.update.settle, ['update', 'settle']),
      gateSlackMs: r.ms(input.update?.gateSlack, D.update.gateSlack, ['update', 'gateSlack']),
      notifyOnSuccess: input.update?.notifyOnSuccess ?? D.update.notifyOnSuccess,
    },
    notify: (input.notify ?? []).map((n, i) => resolveNotifier(n, r, ['notify', i])),
    stacks: input.stacks.map((s, i): StackConfig => {
      const at = (key: string): Segment[] => ['stacks', i, key];
      return {
        name: s.name,
        project: s.project ?? s.name,
        compose: r.paths(s.compose, at('compose')),
        envFiles: r.paths(s.envFiles, at('envFiles')),
        unit: s.unit ?? `${s.name}.service`,
        startupTimeoutMs: s.startupTimeout === undefined ? defaults.startupTimeoutMs : r.ms(s.startupTimeout, '', at('startupTimeout')),
        envWaitMs: s.envWait === undefined ? defaults.envWaitMs : r.ms(s.envWait, '', at('envWait')),
        healthWindowMs: s.healthWindow === undefined ? defaults.healthWindowMs : r.ms(s.healthWindow, '', at('healthWindow')),
        repair: s.repair ?? defaults.repair,
        update: s.update ?? input.update?.mode ?? D.update.mode,
      };
    }),
  };
  r.issues.push(...duplicateIssues(input, config.stacks), ...repairWindowIssues(input, config.stacks));
  return { config, issues: r.issues };
}

/** `repair: reconcile` repairs at most once per healthWindow: a window of 0 would be no limit at all. */
function repairWindowIssues(input: ConfigInput, stacks: StackConfig[]): RawIssue[] {
  const issues: RawIssue[] = [];
  stacks.forEach((s, i) => {
    if (s.repair !== 'reconcile' || s.healthWindowMs > 0) return;
    const own = input.stacks[i]?.repair !== undefined;
    issues.push({
      at: own ? ['stacks', i, 'repair'] : ['defaults', 'repair'],
      message: `stack "${s.name}": repair: reconcile needs a healthWindow above 0 (it repairs at most once per window); ` +
        'expected repair: none, or a healthWindow like 5m for this stack',
    });
  });
  return issues;
}

function resolveNotifier(n: NotifierInput, r: Resolver, at: Segment[]): NotifierConfig {
  // The schema guarantees exactly one key.
  if (n.gotify) {
    const g = n.gotify;
    return {
      kind: 'gotify',
      url: g.url,
      tokenFile: r.path(g.tokenFile, [...at, 'gotify', 'tokenFile']),
      ...(g.priority !== undefined ? { priority: g.priority } : {}),
    };
  }
  if (n.ntfy) {
    const t = n.ntfy;
    return {
      kind: 'ntfy',
      url: t.url,
      topic: t.topic,
      ...(t.tokenFile !== undefined ? { tokenFile: r.path(t.tokenFile, [...at, 'ntfy', 'tokenFile']) } : {}),
    };
  }
  const w = n.webhook ?? { url: '' };
  return { kind: 'webhook', url: w.url, ...(w.headers !== undefined ? { headers: { ...w.headers } } : {}) };
}

const UNIQUE: { key: 'name' | 'project' | 'unit'; why: string }[] = [
  { key: 'name', why: 'expected each stack to have its own name' },
  {
    key: 'project',
    why: 'expected each stack to have its own compose project (with --remove-orphans one would remove the other\'s containers)',
  },
  { key: 'unit', why: 'expected each stack to have its own unit (PODMAN_SYSTEMD_UNIT names the one stack that owns a container)' },
];

/**
 * Names, projects and units must be unique; the message names both stacks. Projects and units are compared after
 * defaulting, but a defaulted one is not reported again when the name it comes from is already a duplicate.
 */
function duplicateIssues(input: ConfigInput, stacks: StackConfig[]): RawIssue[] {
  const issues: RawIssue[] = [];
  const duplicateNames = new Set<number>();
  for (const { key, why } of UNIQUE) {
    const firstIndex = new Map<string, number>();
    stacks.forEach((s, i) => {
      const value = s[key];
      const first = firstIndex.get(value);
      if (first === undefined) {
        firstIndex.set(value, i);
        return;
      }
      const isDefaulted = key !== 'name' && input.stacks[i]?.[key] === undefined;
      if (key === 'name') duplicateNames.add(i);
      else if (isDefaulted && duplicateNames.has(i)) return;
      const defaulted = isDefaulted ? ' (the default, from the name)' : '';
      issues.push({
        at: ['stacks', i, key],
        message: `got ${JSON.stringify(value)}${defaulted}, which stacks[${first}] (${stacks[first]?.name ?? '?'}) already uses; ${why}`,
      });
    });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points.

/** `stacks[2].name`, `notify[0].webhook.headers["X-Token"]`; '' for the whole file. */
export function formatPath(at: Segment[]): string {
  let out = '';
  for (const seg of at) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Where in the file a key path points: the key itself, or the nearest enclosing node that exists. */
function locate(doc: Document, at: Segment[]): number {
  let node: unknown = doc.contents;
  let offset = isMap(node) || isSeq(node) || isScalar(node) ? (node.range?.[0] ?? 0) : 0;
  for (const seg of at) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value === seg : p.key === seg));
      if (!pair) break;
      if (isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (!(isMap(item) || isSeq(item) || isScalar(item))) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}

// Sections written as a bare `api:` with every key commented out parse as null; treat them as absent, as a
// reader of the file would.
const SECTIONS = ['podman', 'api', 'queue', 'defaults', 'staleHealth', 'cleanup', 'update', 'notify'];

/** A config has a handful of anchors at most; the yaml package's own default, meant for untrusted input. */
export const CONFIG_MAX_ALIAS_COUNT = 100;

/** yaml's message, plus the key for a duplicate (yaml does not name it) and what to do. */
function yamlErrorMessage(text: string, code: string, message: string, offset: number): string {
  if (code === 'DUPLICATE_KEY') {
    const key = /^\s*("[^"\n]*"|'[^'\n]*'|[^:#\n]+?)\s*:/.exec(text.slice(offset))?.[1];
    const named = key === undefined ? 'a key' : `the key ${key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key)}`;
    return `YAML syntax error: ${message} (${named} appears twice in one mapping); expected each key once: keep one of them`;
  }
  return `YAML syntax error: ${message}; expected valid YAML`;
}

export function parseConfig(text: string, source: string, ctx: ConfigEnvironment): ParseConfigResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({ path: '', message: yamlErrorMessage(text, e.code, e.message, e.pos[0]), ...position(e.pos[0]) })),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: CONFIG_MAX_ALIAS_COUNT });
  } catch (err) {
    const message = (err as Error).message;
    if (/excessive alias count/i.test(message)) {
      return { ok: false, issues: [{ path: '', message: `YAML aliases expand more than ${CONFIG_MAX_ALIAS_COUNT} times; stackd stops there so that a ` +
        'runaway ("billion laughs") document cannot exhaust its memory; expected plain YAML data: write the values out, or use fewer aliases' }] };
    }
    return { ok: false, issues: [{ path: '', message: `YAML could not be read: ${message}; expected plain YAML data` }] };
  }
  if (data === null || data === undefined) {
    return { ok: false, issues: [{ path: '', message: 'the file is empty; expected a mapping with at least a stacks: key', line: 1, column: 1 }] };
  }
  if (typeof data === 'object' && !Array.isArray(data)) {
    const root = data as Record<string, unknown>;
    for (const key of SECTIONS) if (root[key] === null) delete root[key];
  }

  let raw: RawIssue[];
  let config: Config | undefined;
  if (!validateInput(data)) {
    raw = pruneAnyOf(validateInput.errors ?? []).map((e) => issueFromAjv(e, data));
  } else {
    ({ config, issues: raw } = resolve(data, source, ctx));
  }
  if (raw.length === 0 && config) return { ok: true, config };

  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const issue of raw) {
    const path = formatPath(issue.at);
    if (seen.has(path)) continue; // one problem per key: ajv may report a key twice (type and range)
    seen.add(path);
    issues.push({ path, message: issue.message, ...position(locate(doc, issue.at)) });
  }
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return { ok: false, issues };
}

/**
 * A message for people: one `file:line:column: key.path: problem` line per issue (the format editors and
 * terminals link), then what to do.
 */
export function formatConfigIssues(source: string, issues: ConfigIssue[]): string {
  const lines = issues.map((i) => {
    const where = i.line !== undefined ? `${source}:${i.line}:${i.column ?? 1}` : source;
    return `${where}: ${i.path === '' ? '' : `${i.path}: `}${i.message}`;
  });
  const n = issues.length;
  lines.push(`${n} problem${n === 1 ? '' : 's'} in ${source}; fix the key${n === 1 ? '' : 's'} named above (stackd.example.yaml documents every key)`);
  return lines.join('\n');
}

/** `auto` adapts from 1 up to maxConcurrency; a number is fixed (maxConcurrency then has no say). */
function concurrencyBounds(concurrency: string | number, max: number): ConcurrencyBounds {
  // the x-check let only 'auto' or a whole number from 1 to 32 through
  return typeof concurrency === 'number' ? { min: concurrency, max: concurrency } : { min: 1, max };
}
