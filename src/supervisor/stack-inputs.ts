// One place builds what compose reads for a stack: the files (contents, for the model's fingerprint), the
// redactor for everything an operator will see, which --env-files exist, and the compose invocation. The
// reconciler, `stackctl check` and the offline check all call readStackInputs, so "what is an input" and
// "what is a secret" cannot drift apart between them.
import { posix } from 'node:path';
import { composeReferences, type NestedComposeFile } from '../core/compose-inputs.js';
import type { StackConfig } from '../core/config-types.js';
import { envFileProblems } from '../core/env-file-problems.js';
import { errorCode, errorMessage } from '../core/errors.js';
import { fingerprintInputs, type FingerprintPart } from '../core/fingerprint.js';
import { interpolateEnvFiles } from '../core/env-interpolate.js';
import { makeRedactor, parseEnvEntries } from '../core/redact.js';

import type { ComposeSpec, FilesPort } from './ports.js';

export type { ComposeSpec, FilesPort };

/** A stack whose files stackd cannot read completely: the caller fails the reconcile (or the check) with it. */
export interface StackInputsFailure {
  reasonCode: 'compose-config';
  /** names the stack and the file, what went wrong and what to do; redacted */
  reason: string;
}

export interface StackInputs {
  /** every file compose reads for this stack, in the order read; content null when it does not exist */
  inputs: FingerprintPart[];
  /** digest of the inputs, the child environment and the compose arguments: equal fingerprints, equal model */
  fingerprint: string;
  /** scrubs every env value compose may have read for this stack (the stack's own names and paths stay) */
  redact: (text: string) => string;
  /** the stack's --env-files that exist now, in config order */
  presentEnvFiles: string[];
  /** the stack's --env-files that do not exist (yet: a secrets unit may write them) */
  missingEnvFiles: string[];
  /**
   * Set when a compose file could not be read completely (invalid YAML, too many aliases, unreadable), or an
   * env file has a line compose refuses: the files it references are unknown, so neither the fingerprint nor
   * the redactor can be trusted to be whole. The rest is still filled in from what could be read (redact the
   * compose error with it).
   */
  failure?: StackInputsFailure;
  /**
   * The compose invocation for this stack. `envFiles` defaults to every configured --env-file; stop, down
   * and check pass presentEnvFiles so that a wiped secret does not keep a stack from stopping.
   */
  spec(timeoutMs: number, opts?: { envFiles?: string[] }): ComposeSpec;
}

/**
 * Reads every file compose reads for `stack`: the -f files and, followed, what they include and extend;
 * every env_file: target; the --env-files; and the project's `.env` (compose reads it for interpolation
 * whenever no --env-file is passed, which stop, down and check do when the secrets are gone; fingerprinting
 * and redacting it always costs at most one extra `compose config`). Values of every env file read are
 * redacted. A file that does not exist is an input too (content null). Errors of the FilesPort propagate.
 */
export async function readStackInputs(stack: StackConfig, files: FilesPort, childEnv: Record<string, string>): Promise<StackInputs> {
  const first = stack.compose[0];
  const projectDir = first === undefined ? undefined : posix.dirname(first);

  const inputs: FingerprintPart[] = [];
  const contents = new Map<string, string | null>();
  const envPaths: string[] = [];
  let failure: string | undefined;
  const read = async (path: string): Promise<string | null | undefined> => {
    if (contents.has(path)) return undefined; // read once: ends include cycles too
    let content: string | null;
    try {
      content = await files.readText(path);
    } catch (err) {
      // exists but unreadable (permissions, a link loop): the owner's to fix, named here; anything else propagates
      if (errorCode(err) !== 'STACKD_FILE_UNREADABLE') throw err;
      failure ??= errorMessage(err);
      content = null;
    }
    contents.set(path, content);
    inputs.push({ path, content });
    return content;
  };
  /** An env file compose would refuse: the file, the line and the fix, before compose says "setenv: invalid argument". */
  const readEnv = async (path: string, lint = true): Promise<void> => {
    envPaths.push(path);
    const text = await read(path);
    const [problem] = lint && typeof text === 'string' ? envFileProblems(text) : [];
    if (problem) failure ??= `env file ${path} line ${problem.line} ${problem.problem}; compose refuses the file as it is`;
  };

  // compose resolves every -f file's relative paths from the project directory, not from the file's own
  const queue: NestedComposeFile[] = stack.compose.map((path) => ({ path, baseDir: projectDir ?? posix.dirname(path) }));
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const text = await read(next.path);
    if (typeof text !== 'string') continue;
    const refs = composeReferences(next.path, text, next.baseDir);
    failure ??= refs.error;
    queue.push(...refs.nested);
    for (const env of refs.envFiles) await readEnv(env);
  }
  for (const env of stack.envFiles) await readEnv(env);
  // compose reads the project's .env for `up` only when no --env-file is given: judge it only then
  if (projectDir !== undefined) await readEnv(posix.join(projectDir, '.env'), stack.envFiles.length === 0);

  // Secrets: each value as the file has it, and as compose makes it by interpolation (the form its errors and
  // podman's show). Compose's project environment is read first and the env_file: targets see its keys: the
  // --env-files, or the project's .env when none is passed (as stop, down and check do when they are missing).
  const entriesOf = (paths: Iterable<string>) => [...paths].map((p) => contents.get(p)).filter((t): t is string => !!t).map(parseEnvEntries);
  const dotEnv = projectDir === undefined ? [] : [posix.join(projectDir, '.env')];
  const projectEnvs = stack.envFiles.length > 0 ? [stack.envFiles, dotEnv] : [dotEnv];
  const targets = envPaths.filter((p) => !stack.envFiles.includes(p) && !dotEnv.includes(p));
  const secrets = entriesOf(new Set(envPaths)).flat().map((e) => e.value);
  for (const projectEnv of projectEnvs) {
    const derived = interpolateEnvFiles(entriesOf([...projectEnv, ...targets]), childEnv);
    secrets.push(...derived.entries.map((e) => e.value), ...derived.messages);
  }
  // The stack's own names are not secrets even if an env file repeats them (DB_USER=immich), and neither are
  // its paths: a reason must still name the file (APP_DIR=/srv/app would otherwise hide the project directory).
  // Nor is compose's own environment (an allow-list: PATH, HOME, XDG_RUNTIME_DIR, the podman socket): a value
  // that is `$XDG_RUNTIME_DIR` would otherwise hide the runtime directory in every socket path.
  const keep = [stack.name, stack.project, stack.unit, ...(projectDir === undefined ? [] : [projectDir]), ...contents.keys(), ...Object.values(childEnv)];
  const redact = makeRedactor(secrets, { keep });

  const spec = (timeoutMs: number, opts: { envFiles?: string[] } = {}): ComposeSpec => ({
    project: stack.project,
    composeFiles: [...stack.compose],
    envFiles: [...(opts.envFiles ?? stack.envFiles)],
    timeoutMs,
    ...(projectDir === undefined ? {} : { cwd: projectDir }),
  });
  const present = await Promise.all(stack.envFiles.map((p) => files.exists(p)));
  return {
    inputs,
    fingerprint: fingerprintInputs(inputs, childEnv, composeArgs(spec(0))),
    redact,
    presentEnvFiles: stack.envFiles.filter((_, i) => present[i]),
    missingEnvFiles: stack.envFiles.filter((_, i) => !present[i]),
    ...(failure === undefined ? {} : { failure: { reasonCode: 'compose-config', reason: redact(`stack "${stack.name}": ${failure}`) } }),
    spec,
  };
}

/** What in compose's invocation decides how the files are read (the timeout does not); cwd is the project directory. */
function composeArgs(spec: ComposeSpec): string[] {
  return [
    '-p', spec.project,
    ...spec.composeFiles.flatMap((f) => ['-f', f]),
    ...spec.envFiles.flatMap((e) => ['--env-file', e]),
    ...(spec.cwd === undefined ? [] : ['--project-directory', spec.cwd]),
  ];
}
