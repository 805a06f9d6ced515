// The commands that work from the config file without stackd (`check --offline`, `units`) read it the same
// way: the path given or stackd's default, parsed and checked like stackd does; problems go to stderr.
import { readFile } from 'node:fs/promises';
import { defaultConfigPath, formatConfigIssues, parseConfig } from '../core/config.js';
import type { Config } from '../core/config-types.js';

export interface ReadConfigIo {
  env: Record<string, string | undefined>;
  uid: number;
  cwd: string;
  stderr: { write(s: string): unknown };
}

/** The parsed config and the path it came from, or undefined after saying on stderr what was wrong. */
export async function readConfigFile(io: ReadConfigIo, given: string | undefined): Promise<{ config: Config; path: string } | undefined> {
  const path = given ?? defaultConfigPath(io.env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    io.stderr.write(`stackctl: cannot read the config ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}); pass --config PATH\n`);
    return undefined;
  }
  const parsed = parseConfig(text, path, { env: io.env, uid: io.uid, cwd: io.cwd });
  if (!parsed.ok) {
    io.stderr.write(`${formatConfigIssues(path, parsed.issues)}\n`);
    return undefined;
  }
  return { config: parsed.config, path };
}
