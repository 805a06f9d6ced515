// One place builds what compose reads for a stack: the files (contents, for the model's fingerprint), the
// redactor for everything an operator will see, which --env-files exist, and the compose invocation. The
// reconciler, `stackctl check` and the offline check all call readStackInputs, so "what is an input" and
// "what is a secret" cannot drift apart between them.
import { posix } from 'node:path';
import { composeReferences } from '../core/compose-inputs.js';
import type { StackConfig } from '../core/config-types.js';
import { fingerprintInputs, type FingerprintPart } from '../core/fingerprint.js';
import { makeRedactor, parseEnvFile } from '../core/redact.js';

/** Structurally the FilesPort of ./ports.ts; declared here so this module needs nothing else from the shell. */
export interface FilesPort {
  exists(path: string): Promise<boolean>;
  /** file contents, or null when the file does not exist (or cannot be read) */
  readText(path: string): Promise<string | null>;
}

/** Structurally the compose adapter's ComposeSpec (minus its abort signal); the supervisor imports no adapter. */
export interface ComposeSpec {
  project: string;
  /** absolute paths, in order; each becomes -f */
  composeFiles: string[];
  /** each becomes --env-file, in order */
  envFiles: string[];
  timeoutMs: number;
  /** the project directory: compose resolves relative paths (and finds .env) from there */
  cwd?: string;
}

export interface StackInputs {
  /** every file compose reads for this stack, in the order read; content null when it does not exist */
  inputs: FingerprintPart[];
  /** digest of the inputs and the child environment: equal fingerprints, equal compose model */
  fingerprint: string;
  /** scrubs every env value compose may have read for this stack (the stack's own names stay) */
  redact: (text: string) => string;
  /** the stack's --env-files that exist now, in config order */
  presentEnvFiles: string[];
  /** the stack's --env-files that do not exist (yet: a secrets unit may write them) */
  missingEnvFiles: string[];
  /**
   * The compose invocation for this stack. `envFiles` defaults to every configured --env-file; stop, down
   * and check pass presentEnvFiles so that a wiped secret does not keep a stack from stopping.
   */
  spec(timeoutMs: number, opts?: { envFiles?: string[] }): ComposeSpec;
}

export async function readStackInputs(stack: StackConfig, files: FilesPort, childEnv: Record<string, string>): Promise<StackInputs> {
  const first = stack.compose[0];
  const projectDir = first === undefined ? undefined : posix.dirname(first);

  const inputs: FingerprintPart[] = [];
  const seen = new Set<string>();
  const read = async (path: string): Promise<string | null | undefined> => {
    if (seen.has(path)) return undefined;
    seen.add(path);
    const content = await files.readText(path);
    inputs.push({ path, content });
    return content;
  };

  const queue = [...stack.compose];
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    const text = await read(path);
    if (typeof text !== 'string') continue;
    const refs = composeReferences(path, text);
    queue.push(...refs.composeFiles);
    for (const env of refs.envFiles) await read(env);
  }
  for (const env of stack.envFiles) await read(env);

  const secrets: string[] = [];
  for (const p of stack.envFiles) {
    const text = inputs.find((i) => i.path === p)?.content;
    if (text) secrets.push(...Object.values(parseEnvFile(text)));
  }
  const redact = makeRedactor(secrets, { keep: [stack.name, stack.project, stack.unit] });

  const present = await Promise.all(stack.envFiles.map((p) => files.exists(p)));
  return {
    inputs,
    fingerprint: fingerprintInputs(inputs, childEnv),
    redact,
    presentEnvFiles: stack.envFiles.filter((_, i) => present[i]),
    missingEnvFiles: stack.envFiles.filter((_, i) => !present[i]),
    spec: (timeoutMs, opts = {}) => ({
      project: stack.project,
      composeFiles: [...stack.compose],
      envFiles: [...(opts.envFiles ?? stack.envFiles)],
      timeoutMs,
      ...(projectDir === undefined ? {} : { cwd: projectDir }),
    }),
  };
}
