// Which files does compose read besides the -f files and --env-files? `compose config` inlines them and
// forgets where they came from, so they are found in the raw YAML: top-level `include:` (and the included
// project's `.env`), a service's `extends: { file }` and `env_file:`. Their contents join the model's
// fingerprint (editing any of them makes the next reconcile resolve the model again instead of trusting the
// cache) and their values are redacted. A reference missed here is an edit stackd ignores and a secret it
// prints, so a file that cannot be read completely is an error, never an empty answer.
import { posix } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * How many alias expansions one compose file may make. The yaml package's default (100) is meant for
 * untrusted input; compose files are the owner's and DRY ones (`<<: *defaults` on every service) pass 100
 * easily. This only stops a runaway "billion laughs" document from exhausting memory.
 */
export const MAX_ALIAS_COUNT = 10_000;

export interface NestedComposeFile {
  /** absolute path of the compose file */
  path: string;
  /** the directory ITS relative paths resolve against (compose: an include's project directory, an extended file's own directory) */
  baseDir: string;
}

export interface ComposeReferences {
  /** further compose files (include, extends), absolute: they may reference more files themselves */
  composeFiles: string[];
  /** the same files, each with the directory to pass as `baseDir` when following it */
  nested: NestedComposeFile[];
  /** env files compose reads for this file (env_file:, an include's env_file or its project's .env), absolute */
  envFiles: string[];
  /**
   * Set when the file could not be read completely (invalid YAML, too many aliases): the lists above are
   * then incomplete and the caller must fail the stack with this message (it names the file and what to do).
   */
  error?: string;
}

/** Compose's remote resources (`oci://…`, git URLs): compose fetches them itself; there is no file to read. */
const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|[^/\s]+@[^/\s]+:)/i;

/**
 * Files that the compose file at `path` (with text `text`) references, as absolute paths. `baseDir` is the
 * directory its relative paths resolve against: compose resolves every -f file's paths from the project
 * directory (the first -f file's directory), not from the file's own, so a caller reading the second -f file
 * passes the first one's directory. Default: the file's own directory.
 */
export function composeReferences(path: string, text: string, baseDir: string = posix.dirname(path)): ComposeReferences {
  const out: ComposeReferences = { composeFiles: [], nested: [], envFiles: [] };
  const docs = parseAllDocuments(text, { merge: true });
  for (const doc of docs) {
    const [first] = doc.errors;
    if (first) {
      return failed(`${path} is not valid YAML (${oneLine(first.message)}); stackd reads it to find the files it includes ` +
        'and the env files it names, and compose would reject it too. Fix the YAML, then run: stackctl check');
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // yaml's words for its alias limit; an unknown anchor (`*nope`) is a ReferenceError too, but plain bad YAML
      if (err instanceof Error && /excessive alias count/i.test(err.message)) {
        return failed(`${path} expands YAML aliases more than ${MAX_ALIAS_COUNT} times; stackd stops there so that a runaway ` +
          'document cannot exhaust its memory, and so cannot tell which files it includes. What to do: use fewer aliases ' +
          '(or fewer levels of aliases that contain aliases)');
      }
      return failed(`${path} is not valid YAML (${oneLine(err instanceof Error ? err.message : String(err))}); stackd reads it to ` +
        'find the files it includes and the env files it names, and compose would reject it too. Fix the YAML, then run: stackctl check');
    }
    collect(data, baseDir, out);
  }
  return out;
}

function collect(doc: unknown, baseDir: string, out: ComposeReferences): void {
  if (!isRecord(doc)) return; // compose reports a document that is not a mapping; nothing to follow
  const abs = (p: string) => posix.resolve(baseDir, p);
  const nest = (file: string, dir: string) => {
    out.composeFiles.push(file);
    out.nested.push({ path: file, baseDir: dir });
  };

  for (const entry of asList(doc['include'])) {
    const long = isRecord(entry) ? entry : { path: entry };
    const paths = strings(long['path']).filter((p) => !REMOTE.test(p)).map(abs);
    const firstPath = paths[0];
    if (firstPath === undefined) continue;
    const dir = typeof long['project_directory'] === 'string' ? abs(long['project_directory']) : posix.dirname(firstPath);
    for (const p of paths) nest(p, dir);
    const envFiles = strings(long['env_file']).map(abs);
    // compose reads the included project's .env for its interpolation only when the include names no env file
    out.envFiles.push(...(envFiles.length > 0 ? envFiles : [posix.join(dir, '.env')]));
  }
  const services = isRecord(doc['services']) ? Object.values(doc['services']) : [];
  for (const svc of services) {
    if (!isRecord(svc)) continue;
    const ext = svc['extends'];
    if (isRecord(ext) && typeof ext['file'] === 'string' && !REMOTE.test(ext['file'])) {
      const file = abs(ext['file']);
      nest(file, posix.dirname(file)); // an extended file's own paths resolve from its directory
    }
    for (const e of asList(svc['env_file'])) {
      if (typeof e === 'string') out.envFiles.push(abs(e));
      else if (isRecord(e) && typeof e['path'] === 'string') out.envFiles.push(abs(e['path']));
    }
  }
}

function failed(error: string): ComposeReferences {
  return { composeFiles: [], nested: [], envFiles: [], error };
}

/** The yaml package's messages carry a multi-line code frame after the first line; a reason is one line. */
function oneLine(message: string): string {
  return message.split('\n')[0]?.replace(/:$/, '').trim() ?? message;
}

function strings(v: unknown): string[] {
  return asList(v).filter((x): x is string => typeof x === 'string');
}

function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
