// Which files does compose read besides the -f files and --env-files? `compose config` inlines them and
// forgets where they came from, so they are found in the raw YAML: top-level `include:`, a service's
// `extends: { file }` and `env_file:`. Their contents join the model's fingerprint, so editing any of them
// makes the next reconcile resolve the model again instead of trusting the cache.
import { posix } from 'node:path';
import { parse } from 'yaml';

export interface ComposeReferences {
  /** further compose files (include, extends): they may reference more files themselves */
  composeFiles: string[];
  /** env files named by env_file: read by compose, not parsed as compose */
  envFiles: string[];
}

/** Files that the compose file at `path` (with text `text`) references, as absolute paths. */
export function composeReferences(path: string, text: string): ComposeReferences {
  const dir = posix.dirname(path);
  const abs = (p: string) => posix.resolve(dir, p);
  const out: ComposeReferences = { composeFiles: [], envFiles: [] };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return out; // compose itself reports the syntax error; nothing to follow
  }
  if (!isRecord(doc)) return out;

  for (const entry of asList(doc['include'])) {
    if (typeof entry === 'string') out.composeFiles.push(abs(entry));
    else if (isRecord(entry)) {
      for (const p of asList(entry['path'])) if (typeof p === 'string') out.composeFiles.push(abs(p));
      for (const p of asList(entry['env_file'])) if (typeof p === 'string') out.envFiles.push(abs(p));
    }
  }
  const services = isRecord(doc['services']) ? Object.values(doc['services']) : [];
  for (const svc of services) {
    if (!isRecord(svc)) continue;
    const ext = svc['extends'];
    if (isRecord(ext) && typeof ext['file'] === 'string') out.composeFiles.push(abs(ext['file']));
    for (const e of asList(svc['env_file'])) {
      if (typeof e === 'string') out.envFiles.push(abs(e));
      else if (isRecord(e) && typeof e['path'] === 'string') out.envFiles.push(abs(e['path']));
    }
  }
  return out;
}

function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
