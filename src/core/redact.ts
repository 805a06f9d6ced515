// Scrubbing env-file values out of everything an operator sees (reasons, logs, responses, notifications).

export const REDACTED = '***';
/** Shorter values match too much ordinary text to be worth hiding (and hiding them would garble messages). */
export const MIN_SECRET_LENGTH = 4;
/** Env values that are settings, not secrets; hiding them would turn `"ok":true` into `"ok":***` in every log. */
const NOT_SECRET = new Set(['true', 'false', 'yes', 'no', 'null', 'none', 'on', 'off']);
/** uids, ports, sizes, timeouts: numbers this short are settings (a PIN this short is not much of a secret). */
const SHORT_NUMBER = /^\d{1,7}$/;

export interface RedactorOptions {
  /** Values never hidden even when an env file holds them, e.g. stack, project and unit names. */
  keep?: Iterable<string>;
}

/**
 * Returns a function that replaces every occurrence of each secret value with `***`.
 * Besides each value it also hides each line of a multi-line value (a PEM key printed line by line), and each
 * in the escaped shapes it takes in what stackd, compose and podman print (see formsOf). Longest first, in one
 * pass, so a secret that contains another is hidden whole. Values are matched literally: `$`, quotes, spaces
 * and regex specials mean nothing special. Callers pass the values compose derives by interpolation too
 * (env-interpolate.ts): this function only knows text.
 */
export function makeRedactor(secretValues: Iterable<string>, options: RedactorOptions = {}): (text: string) => string {
  const keep = new Set(options.keep ?? []);
  const candidates = new Set<string>();
  for (const value of secretValues) {
    for (const form of formsOf(value)) {
      if (isSecretLike(form) && !keep.has(form)) candidates.add(form);
    }
  }
  if (candidates.size === 0) return (text) => text;
  const sorted = [...candidates].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  // a function, not a string, as the replacement: no `$&`-style pattern in it can ever be interpolated
  return (text) => text.replace(pattern, () => REDACTED);
}

/** A copy of `value` with every string in it (not the keys) passed through `redact`: for a whole answer at once. */
export function redactStrings<T>(value: T, redact: (text: string) => string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * The shapes a value takes in what compose, podman and our own logs print, for the whole value and each of its
 * lines: as is; JSON-escaped (pino's log lines, our API's bodies); JSON-escaped twice (a JSON error body logged
 * as a string); Go's JSON (podman's daemon errors escape < > & as \u003c \u003e \u0026); Go-quoted, as
 * logfmt quotes a field (compose's own `level=warning msg="..."` lines); and with `$` doubled, as
 * `compose config` prints a value. Trimmed: surrounding blanks are rarely printed as they were, and the trimmed
 * form is contained in the untrimmed one anyway.
 */
function formsOf(value: string): string[] {
  const forms = new Set<string>();
  for (const v of [value, ...value.split(/\r?\n/)]) {
    const t = v.trim();
    const json = jsonEscape(t);
    forms.add(t).add(json).add(jsonEscape(json)).add(goJsonEscape(json)).add(goQuote(t)).add(t.replaceAll('$', () => '$$'));
  }
  return [...forms];
}

function jsonEscape(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function goJsonEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const GO_QUOTE_ESCAPES: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\',
};

/**
 * Go's strconv.Quote without the quotes (what logfmt writers such as logrus use for a field with blanks or
 * quotes): like JSON, but \a \v are letters and other control characters \xNN; printable unicode stays.
 */
function goQuote(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
  return text.replace(/[\x00-\x1f\x7f"\\]/g, (c) => GO_QUOTE_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Too short, blank, a boolean-like setting or a short number: hiding these would garble ordinary text (a blank
 * line of a PEM value would turn every indentation into ***; PUID=1000 every /run/user/1000 path) and
 * protect nothing worth protecting.
 */
function isSecretLike(form: string): boolean {
  return form.length >= MIN_SECRET_LENGTH && !NOT_SECRET.has(form.toLowerCase()) && !SHORT_NUMBER.test(form);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

const DOUBLE_QUOTE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

/** One KEY=VALUE of an env file, in file order. */
export interface EnvEntry {
  key: string;
  /** the value with quotes and escapes resolved, before compose's `$VAR` interpolation */
  value: string;
  /**
   * What compose interpolates (`$VAR`, `${VAR:-x}`, `$$`): the value, except that a double-quoted `\$` is a
   * literal dollar (written `$$` here). Absent for a single-quoted value: compose takes it literally.
   */
  template?: string;
}

/**
 * Reads a dotenv file as docker-compose does (KEY=VALUE, `export ` prefix, single quotes literal, double quotes
 * with \n \t \" \\ escapes and line breaks, `#` comments, ` #` inline comments after unquoted values).
 * Lines without `=` (compose takes those from its environment) are skipped. Its job is to learn values to
 * scrub, so it never throws: an unterminated quote yields the rest of that line.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of parseEnvEntries(text)) out[e.key] = e.value;
  return out;
}

/** parseEnvFile's entries in file order, each with what compose would interpolate (see env-interpolate.ts). */
export function parseEnvEntries(text: string): EnvEntry[] {
  const out: EnvEntry[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const body = line.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    if (eq < 0) continue;
    const key = body.slice(0, eq).trim();
    if (key === '' || /\s/.test(key)) continue;
    const rest = body.slice(eq + 1).trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      const found = readQuoted(lines, i, rest.slice(1), quote);
      out.push(quote === "'" ? { key, value: found.value } : { key, value: found.value, template: found.template });
      i = found.lastLine;
    } else {
      const value = rest.replace(/\s+#.*$/, '').trimEnd();
      out.push({ key, value, template: value });
    }
  }
  return out;
}

function readQuoted(lines: string[], start: number, first: string, quote: string): { value: string; template: string; lastLine: number } {
  let value = '';
  let template = '';
  let text = first;
  for (let i = start; i < lines.length; i++) {
    for (let j = 0; j < text.length; j++) {
      const c = text[j] ?? '';
      if (c === quote) return { value, template, lastLine: i };
      if (quote === '"' && c === '\\' && j + 1 < text.length) {
        const next = text[j + 1] ?? '';
        const resolved = DOUBLE_QUOTE_ESCAPES[next] ?? `\\${next}`;
        value += resolved;
        template += next === '$' ? '$$' : resolved;
        j++;
        continue;
      }
      value += c;
      template += c;
    }
    value += '\n';
    template += '\n';
    text = lines[i + 1] ?? '';
  }
  // Unterminated: not a value compose would accept; keep the first line so it is still scrubbed.
  return { value: first, template: first, lastLine: start };
}
