// Registry credentials from the user's own podman/docker login state: reads the auth files (core's
// findCredentials decides which entry counts) and, when an entry names a credential helper, runs
// `docker-credential-<name> get` with the server URL on stdin through the process runner (argv only) and
// reads its JSON {"Username","Secret"}. Nothing is cached here: the client keeps the token (or Basic header)
// it builds from these for a short while, and a new `podman login` is seen on the next token fetch.
import { readIfExists } from './atomic-file.js';
import { findCredentials } from '../core/registry/auth-lookup.js';
import type { AuthFile } from '../core/registry/auth-lookup.js';
import { ProcessSpawnError, RegistryError } from './errors.js';
import { runProcess } from './process-runner.js';
import type { ProcessResult, RunProcessOptions } from './process-runner.js';

export interface Credentials {
  username: string;
  password: string;
  /** where they came from ("<file> (auths.<key>)" or "docker-credential-<helper>"), for messages; never the secret */
  source: string;
}

/** What the registry client asks for credentials; RegistryAuth is the real one, tests pass their own. */
export interface CredentialSource {
  credentialsFor(registry: string, repository: string): Promise<Credentials | undefined>;
  /** where credentials are looked for, for a "none found" message */
  describe(): string;
}

export interface RegistryAuthOptions {
  /** the auth files in podman's order: core's authFilePaths(env) */
  authFiles: readonly string[];
  /** the helper's whole environment: PATH to find docker-credential-*, HOME, XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS… */
  helperEnv: Record<string, string>;
  /** file contents, or null when the file does not exist. Default: node:fs. */
  readText?: (path: string) => Promise<string | null>;
  /** Default: the process runner. */
  run?: (opts: RunProcessOptions) => Promise<ProcessResult>;
  /** a helper that unlocks a keyring may take a moment; default 15 s */
  helperTimeoutMs?: number;
}

/** docker-credential-helpers' message when it has nothing for the server URL */
const NOT_FOUND = /credentials not found/i;
/** a helper name becomes part of an executable's name: no path, no shell */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export class RegistryAuth implements CredentialSource {
  private readonly authFiles: readonly string[];
  private readonly helperEnv: Record<string, string>;
  private readonly readText: (path: string) => Promise<string | null>;
  private readonly run: (opts: RunProcessOptions) => Promise<ProcessResult>;
  private readonly helperTimeoutMs: number;

  constructor(opts: RegistryAuthOptions) {
    this.authFiles = [...opts.authFiles];
    this.helperEnv = opts.helperEnv;
    this.readText = opts.readText ?? readTextFile;
    this.run = opts.run ?? runProcess;
    this.helperTimeoutMs = opts.helperTimeoutMs ?? 15_000;
  }

  describe(): string {
    return this.authFiles.length > 0 ? this.authFiles.join(', ') : '(no auth file paths: HOME and XDG_RUNTIME_DIR unset)';
  }

  async credentialsFor(registry: string, repository: string): Promise<Credentials | undefined> {
    const files = await Promise.all(this.authFiles.map((p) => this.readAuthFile(registry, p)));
    const found = findCredentials(files, registry, repository);
    switch (found.kind) {
      case 'none':
        return undefined;
      case 'basic':
        return { username: found.username, password: found.password, source: `${found.file} (auths["${found.key}"])` };
      case 'helper':
        return this.fromHelper(registry, found.helper, found.serverUrls, `${found.file} (${found.key})`);
    }
  }

  private async readAuthFile(registry: string, path: string): Promise<AuthFile> {
    let text: string | null;
    try {
      text = await this.readText(path);
    } catch (err) {
      throw new RegistryError(registry, 'config', `cannot read the auth file ${path} (${codeOf(err)}); podman cannot either: fix its permissions`, { cause: err });
    }
    if (text === null) return { path, content: undefined };
    try {
      return { path, content: JSON.parse(text) as unknown };
    } catch (err) {
      // never quote the file: it holds secrets
      throw new RegistryError(registry, 'config', `the auth file ${path} is not valid JSON; podman refuses it too: fix it or log in again (podman login ${registry})`, { cause: err });
    }
  }

  private async fromHelper(registry: string, helper: string, serverUrls: string[], where: string): Promise<Credentials | undefined> {
    const program = `docker-credential-${helper}`;
    if (!HELPER_NAME.test(helper)) {
      throw new RegistryError(registry, 'config', `${where} names the credential helper "${helper}", which is not a plain program name; fix the auth file`);
    }
    for (const serverUrl of serverUrls) {
      let r: ProcessResult;
      try {
        r = await this.run({ argv: [program, 'get'], env: this.helperEnv, timeoutMs: this.helperTimeoutMs, input: serverUrl, maxOutputBytes: 64 * 1024 });
      } catch (err) {
        throw new RegistryError(registry, 'config', `${where} says to use the credential helper ${program}, which cannot be started (${codeOf(err instanceof ProcessSpawnError ? err.cause : err)}); install it on stackd's PATH or remove the entry`, { cause: err });
      }
      if (r.timedOut) {
        throw new RegistryError(registry, 'config', `the credential helper ${program} did not answer for ${serverUrl} within ${this.helperTimeoutMs} ms (a locked keyring?); unlock it or log in with a password file (podman login ${registry})`);
      }
      if (r.exitCode !== 0) {
        // docker-credential-helpers print "credentials not found in native keychain" on stdout
        if (NOT_FOUND.test(r.stdout) || NOT_FOUND.test(r.stderr)) continue;
        throw new RegistryError(registry, 'config', `the credential helper ${program} failed for ${serverUrl} (exit ${r.exitCode ?? r.signal ?? '?'}: ${lastLine(r.stderr || r.stdout)}); check it by hand: echo ${serverUrl} | ${program} get`);
      }
      return parseHelperAnswer(registry, program, r.stdout);
    }
    return undefined;
  }
}

function parseHelperAnswer(registry: string, program: string, stdout: string): Credentials {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch (err) {
    throw new RegistryError(registry, 'config', `the credential helper ${program} answered something that is not JSON; expected {"Username": …, "Secret": …}`, { cause: err });
  }
  const o = typeof v === 'object' && v !== null ? v as Record<string, unknown> : {};
  if (typeof o.Username !== 'string' || typeof o.Secret !== 'string') {
    throw new RegistryError(registry, 'config', `the credential helper ${program} answered without a string Username and Secret`);
  }
  if (o.Username === '<token>') {
    // an OAuth identity (refresh) token: needs the OAuth2 grant flow, which stackd does not speak
    throw new RegistryError(registry, 'auth', `the credential helper ${program} holds an identity token for ${registry}, not a password; stackd needs a username and password or access token: podman login ${registry} with one`);
  }
  return { username: o.Username, password: o.Secret, source: program };
}

async function readTextFile(path: string): Promise<string | null> {
  return (await readIfExists(path)) ?? null;
}

function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : String(err);
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines[lines.length - 1] ?? '(no output)').slice(0, 200);
}
