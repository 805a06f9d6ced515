// A digest of everything `compose config` reads, so its ~0.7 s result can be cached until an input changes.
import { createHash } from 'node:crypto';

export interface FingerprintPart {
  path: string;
  /** the file's text; null when it does not exist (which must differ from an empty file) */
  content: string | null;
}

/**
 * sha256 hex over the parts in the order given, the environment sorted by key and the compose arguments
 * in order. Part order is kept on purpose: `-f a.yml -f b.yml` and `-f b.yml -f a.yml` merge differently,
 * so callers pass files in argv order. Environment key order carries no meaning, so it does not change the
 * digest. `args` (the project name, -f and --env-file list) are there because the files alone do not say
 * how compose reads them: a file that is an env_file: target AND becomes an --env-file is read once, but
 * compose then interpolates from it. Every value is JSON-encoded, so no choice of paths or contents can
 * make two different inputs serialize alike; without args the canonical form is the original v1 one.
 */
export function fingerprintInputs(parts: readonly FingerprintPart[], env: Readonly<Record<string, string>>, args: readonly string[] = []): string {
  const envPairs = Object.keys(env)
    .sort()
    .map((k) => [k, env[k]]);
  const canonical = JSON.stringify({
    v: 1,
    files: parts.map((p) => [p.path, p.content]),
    env: envPairs,
    ...(args.length > 0 ? { args } : {}),
  });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
