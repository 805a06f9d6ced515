// What compose makes of env-file values: it interpolates `$VAR` and `${VAR}` inside them (docker-compose v2,
// compose-go's dotenv), so the text compose prints can differ from the file's: `PW="a${SALT}b"` shows up as
// `a<salt>b`, `X=pa$$word` as `pa$word`. The redactor hides these derived forms too (stack-inputs.ts).
// Rules, each seen with docker-compose 2.26 `config`: a variable is looked up in compose's own environment
// first, then among the keys read before it (earlier lines, earlier env files); unset is empty; `$$` is a
// dollar; single-quoted values and a double-quoted `\$` are literal; `${V:-d}` `${V-d}` `${V:+a}` `${V+a}`
// `${V:?msg}` `${V?msg}` nest. A `?` whose variable is missing makes compose fail with the message (interpolated)
// in its error, so that message is a derived form as well.
import type { EnvEntry } from './redact.js';

export interface InterpolatedEnv {
  /** every entry, in order, with its value as compose sees it after interpolation */
  entries: { key: string; value: string }[];
  /** the texts of `${V:?msg}` errors compose would print */
  messages: string[];
}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;
const BRACED = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[-?+])([\s\S]*))?$/;

/**
 * The interpolated entries of env files read in order (the project's --env-files first, then env_file: targets;
 * each sees the keys of those before it), given the environment compose runs with.
 */
export function interpolateEnvFiles(files: readonly (readonly EnvEntry[])[], env: Readonly<Record<string, string>>): InterpolatedEnv {
  const seen = new Map<string, string>();
  const entries: { key: string; value: string }[] = [];
  const messages: string[] = [];
  const lookup = (name: string): string | undefined => (Object.hasOwn(env, name) ? env[name] : seen.get(name));
  for (const file of files) {
    for (const e of file) {
      const value = e.template === undefined ? e.value : substitute(e.template, lookup, messages);
      entries.push({ key: e.key, value });
      seen.set(e.key, value);
    }
  }
  return { entries, messages };
}

type Lookup = (name: string) => string | undefined;

/** compose's template substitution; text compose would call an invalid template is kept as written. */
function substitute(text: string, lookup: Lookup, messages: string[] = []): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) return out + text.slice(i);
      out += braced(text.slice(i + 2, end), lookup, messages);
      i = end + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (name === undefined) {
      out += c;
      i++;
      continue;
    }
    out += lookup(name) ?? '';
    i += 1 + name.length;
  }
  return out;
}

/** The `}` that closes a `${` whose body starts at `from` (nested `${…}` in a default count). */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) {
      return i;
    }
  }
  return -1;
}

function braced(body: string, lookup: Lookup, messages: string[]): string {
  const m = BRACED.exec(body);
  if (!m) return `\${${body}}`;
  const [, name = '', op, rest = ''] = m;
  const value = lookup(name);
  const set = value !== undefined;
  const present = op?.startsWith(':') ? set && value !== '' : set;
  switch (op) {
    case undefined: return value ?? '';
    case ':-': case '-': return present ? value ?? '' : substitute(rest, lookup, messages);
    case ':+': case '+': return present ? substitute(rest, lookup, messages) : '';
    default: // ':?' and '?'
      if (present) return value ?? '';
      messages.push(substitute(rest, lookup, messages));
      return '';
  }
}
