// readStackInputs over an in-memory file system: which files are inputs, what their fingerprint follows,
// what is redacted, and the compose invocation built from them.
import { describe, expect, it } from 'vitest';
import type { StackConfig } from '../../../src/core/config-types.js';
import type { ComposeSpec as AdapterComposeSpec } from '../../../src/adapters/compose-runner.js';
import type { FilesPort as PortsFilesPort } from '../../../src/supervisor/ports.js';
import { readStackInputs, type ComposeSpec, type FilesPort } from '../../../src/supervisor/stack-inputs.js';

const childEnv = { PATH: '/usr/bin', HOME: '/home/u' };

function stack(over: Partial<StackConfig> = {}): StackConfig {
  return {
    name: 'app', project: 'app', unit: 'app.service',
    compose: ['/srv/app/compose.yml'], envFiles: ['/run/secrets/app.env'],
    startupTimeoutMs: 60_000, envWaitMs: 0, healthWindowMs: 60_000, repair: 'none', update: 'apply',
    ...over,
  };
}

/** An in-memory FilesPort that also counts reads (so a cycle that never ends shows up as a count, not a hang). */
function memFiles(tree: Record<string, string>): FilesPort & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    exists: async (p) => Object.hasOwn(tree, p),
    readText: async (p) => {
      reads.push(p);
      if (reads.length > 1000) throw new Error('read loop');
      return Object.hasOwn(tree, p) ? (tree[p] ?? null) : null;
    },
  };
}

const baseTree = {
  '/srv/app/compose.yml': 'include: [sub/inc.yml]\nservices:\n  web: { image: x, env_file: web.env, extends: { file: base.yml, service: b } }\n',
  '/srv/app/sub/inc.yml': 'services:\n  side: { image: y }\n',
  '/srv/app/base.yml': 'services:\n  b: { image: z }\n',
  '/srv/app/web.env': 'WEB_TOKEN=web-token-value\n',
  '/run/secrets/app.env': 'DB_PASSWORD=db-password-value\nDB_USER=app\n',
};

describe('readStackInputs: the files', () => {
  it('reads the -f files, follows include and extends, and reads env_file targets and the --env-files', async () => {
    const got = await readStackInputs(stack(), memFiles(baseTree), childEnv);
    expect(got.inputs.map((i) => i.path)).toEqual(expect.arrayContaining([
      '/srv/app/compose.yml', '/srv/app/sub/inc.yml', '/srv/app/base.yml', '/srv/app/web.env', '/run/secrets/app.env',
    ]));
    expect(got.inputs.find((i) => i.path === '/srv/app/web.env')?.content).toBe('WEB_TOKEN=web-token-value\n');
  });

  it('records a missing file as a null input (a missing file differs from an empty one)', async () => {
    const tree: Record<string, string> = { ...baseTree };
    delete tree['/srv/app/base.yml'];
    delete tree['/run/secrets/app.env'];
    const got = await readStackInputs(stack(), memFiles(tree), childEnv);
    expect(got.inputs).toEqual(expect.arrayContaining([
      { path: '/srv/app/base.yml', content: null }, { path: '/run/secrets/app.env', content: null },
    ]));
  });

  it('terminates on an include cycle and reads each file once', async () => {
    const files = memFiles({
      '/srv/app/compose.yml': 'include: [a.yml]\nservices: { web: { image: x } }\n',
      '/srv/app/a.yml': 'include: [b.yml]\n',
      '/srv/app/b.yml': 'include: [a.yml, compose.yml]\n',
    });
    const got = await readStackInputs(stack({ envFiles: [] }), files, childEnv);
    const paths = got.inputs.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['/srv/app/compose.yml', '/srv/app/a.yml', '/srv/app/b.yml']));
    expect(new Set(files.reads).size).toBe(files.reads.length);
  });
});

describe('readStackInputs: the fingerprint', () => {
  it('is stable while nothing changes', async () => {
    const a = await readStackInputs(stack(), memFiles(baseTree), childEnv);
    const b = await readStackInputs(stack(), memFiles({ ...baseTree }), { ...childEnv });
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(b.fingerprint).toBe(a.fingerprint);
  });

  it.each<[string, Record<string, string>]>([
    ['the compose file changes', { '/srv/app/compose.yml': `${baseTree['/srv/app/compose.yml']}# edited\n` }],
    ['an included file changes', { '/srv/app/sub/inc.yml': 'services:\n  side: { image: y2 }\n' }],
    ['an extended file changes', { '/srv/app/base.yml': 'services:\n  b: { image: z2 }\n' }],
    ['an env_file target changes', { '/srv/app/web.env': 'WEB_TOKEN=rotated-token\n' }],
    ['an --env-file changes', { '/run/secrets/app.env': 'DB_PASSWORD=rotated\n' }],
  ])('changes when %s', async (_what, edit) => {
    const before = await readStackInputs(stack(), memFiles(baseTree), childEnv);
    const after = await readStackInputs(stack(), memFiles({ ...baseTree, ...edit }), childEnv);
    expect(after.fingerprint).not.toBe(before.fingerprint);
  });

  it('changes when the child environment changes', async () => {
    const before = await readStackInputs(stack(), memFiles(baseTree), childEnv);
    const after = await readStackInputs(stack(), memFiles(baseTree), { ...childEnv, XDG_RUNTIME_DIR: '/run/user/1000' });
    expect(after.fingerprint).not.toBe(before.fingerprint);
  });
});

describe('readStackInputs: redaction', () => {
  it('hides --env-file values and keeps the stack\'s own names', async () => {
    const got = await readStackInputs(stack(), memFiles(baseTree), childEnv);
    expect(got.redact('stack "app" (app.service): login db-password-value failed')).toBe('stack "app" (app.service): login *** failed');
  });
});

describe('readStackInputs: redaction of what compose makes of the values ($VAR interpolation)', () => {
  const tree = {
    ...baseTree,
    '/run/secrets/app.env': 'SALT=k7Rw-salt\nPW="p$$w ${SALT} .*+?()[]{}|\\\\^"\nREQ=${NOPE:?set NOPE to ${SALT}!}\nRUN=$HOME\n',
    '/srv/app/web.env': 'WEB_TOKEN=web-${SALT}-tok\n',
  };

  it.each<[string, string]>([
    ['an --env-file value interpolated from an earlier key, with $$ as $', 'p$w k7Rw-salt .*+?()[]{}|\\^'],
    ['the message of a ${V:?msg} compose fails with', 'set NOPE to k7Rw-salt!'],
    ['an env_file: value interpolated from the --env-file', 'web-k7Rw-salt-tok'],
    ['an interpolated value as compose config prints it', 'p$$w k7Rw-salt .*+?()[]{}|\\^'],
  ])('hides %s', async (_what, shown) => {
    const got = await readStackInputs(stack(), memFiles(tree), childEnv);
    expect(got.redact(`compose said: ${shown}|end`)).toBe('compose said: ***|end');
  });

  it('an env_file: target is interpolated from the --env-files, and from the .env compose reads without them', async () => {
    const files = memFiles({
      ...baseTree,
      '/run/secrets/app.env': 'X=from-env-file\n',
      '/srv/app/.env': 'X=from-dot-env\n',
      '/srv/app/web.env': 'WEB_TOKEN=${X}-web-token\n',
    });
    const got = await readStackInputs(stack(), files, childEnv);
    expect(got.redact('up: from-env-file-web-token; stop: from-dot-env-web-token')).toBe('up: ***; stop: ***');
  });

  it('keeps compose\'s own environment readable when a value is just one of its variables', async () => {
    const got = await readStackInputs(stack(), memFiles(tree), childEnv);
    expect(got.redact('no such file /home/u/app.sock')).toBe('no such file /home/u/app.sock');
  });
});

describe('readStackInputs: env files and the compose invocation', () => {
  it('tells present --env-files from missing ones, in config order', async () => {
    const got = await readStackInputs(stack({ envFiles: ['/run/secrets/a.env', '/run/secrets/app.env', '/run/secrets/z.env'] }), memFiles(baseTree), childEnv);
    expect(got.presentEnvFiles).toEqual(['/run/secrets/app.env']);
    expect(got.missingEnvFiles).toEqual(['/run/secrets/a.env', '/run/secrets/z.env']);
  });

  it('builds the spec from the config: every --env-file by default, the project directory as cwd', async () => {
    const s = stack({ project: 'app-prod', compose: ['/srv/app/compose.yml', '/srv/app/override.yml'], envFiles: ['/run/secrets/a.env', '/run/secrets/app.env'] });
    const got = await readStackInputs(s, memFiles(baseTree), childEnv);
    expect(got.spec(5000)).toEqual({
      project: 'app-prod', composeFiles: ['/srv/app/compose.yml', '/srv/app/override.yml'],
      envFiles: ['/run/secrets/a.env', '/run/secrets/app.env'], timeoutMs: 5000, cwd: '/srv/app',
    });
    expect(got.spec(1000, { envFiles: got.presentEnvFiles }).envFiles).toEqual(['/run/secrets/app.env']);
  });

  it('its FilesPort and ComposeSpec are the ports\' and the adapter\'s (checked by tsc: the callers pass those)', async () => {
    const ports: PortsFilesPort = memFiles(baseTree);
    const files: FilesPort = ports;
    const spec: AdapterComposeSpec = (await readStackInputs(stack(), files, childEnv)).spec(1);
    const back: ComposeSpec = spec;
    expect(back.project).toBe('app');
  });

  it('hands out copies: a caller editing a spec does not change the next one', async () => {
    const got = await readStackInputs(stack(), memFiles(baseTree), childEnv);
    got.spec(1).envFiles.push('/tmp/x.env');
    expect(got.spec(1).envFiles).toEqual(['/run/secrets/app.env']);
  });
});

describe('readStackInputs: what the extraction missed', () => {
  const withDotEnv = { ...baseTree, '/srv/app/.env': 'IMAGE_TAG=1.2.3-rc\nAPI_KEY="dot-env-api-key"\nAPP_DIR=/srv/app\n' };

  it('the project .env is an input: editing it changes the fingerprint (it was "skipped unchanged")', async () => {
    const before = await readStackInputs(stack(), memFiles(withDotEnv), childEnv);
    const after = await readStackInputs(stack(), memFiles({ ...withDotEnv, '/srv/app/.env': 'IMAGE_TAG=1.2.4\n' }), childEnv);
    expect(before.inputs).toContainEqual({ path: '/srv/app/.env', content: withDotEnv['/srv/app/.env'] });
    expect(after.fingerprint).not.toBe(before.fingerprint);
  });

  it('a missing .env is a null input, so creating one changes the fingerprint', async () => {
    const before = await readStackInputs(stack(), memFiles(baseTree), childEnv);
    const after = await readStackInputs(stack(), memFiles(withDotEnv), childEnv);
    expect(before.inputs).toContainEqual({ path: '/srv/app/.env', content: null });
    expect(after.fingerprint).not.toBe(before.fingerprint);
  });

  it.each<[string, string]>([
    ['an env_file: value', 'web-token-value'],
    ['a .env value', 'dot-env-api-key'],
    ['an --env-file value', 'db-password-value'],
  ])('redacts %s', async (_what, secret) => {
    const got = await readStackInputs(stack(), memFiles(withDotEnv), childEnv);
    expect(got.redact(`compose said: ${secret} is wrong`)).toBe('compose said: *** is wrong');
  });

  it('redacts the env files of an include (its env_file, or its project .env)', async () => {
    const files = memFiles({
      '/srv/app/compose.yml': 'include:\n  - sub/a.yml\n  - { path: b/b.yml, env_file: b/b.env }\nservices: { web: { image: x } }\n',
      '/srv/app/sub/a.yml': 'services: { a: { image: "${A_TAG}" } }\n', '/srv/app/sub/.env': 'A_TAG=include-dot-env-secret\n',
      '/srv/app/b/b.yml': 'services: { b: { image: x } }\n', '/srv/app/b/b.env': 'B_KEY=include-env-file-secret\n',
    });
    const got = await readStackInputs(stack({ envFiles: [] }), files, childEnv);
    expect(got.redact('include-dot-env-secret include-env-file-secret')).toBe('*** ***');
  });

  it('keeps the stack\'s names and its own file paths readable even when an env file holds them', async () => {
    const files = memFiles({ ...withDotEnv, '/run/secrets/app.env': 'PROJECT=app\nUNIT=app.service\nDIR=/srv/app\nPW=secret-pw\n' });
    const got = await readStackInputs(stack(), files, childEnv);
    expect(got.redact('stack "app" (app.service): /srv/app/compose.yml rejected secret-pw')).toBe('stack "app" (app.service): /srv/app/compose.yml rejected ***');
  });

  it('adding an --env-file that the compose file already names as env_file changes the fingerprint (compose now interpolates from it)', async () => {
    const before = await readStackInputs(stack({ envFiles: [] }), memFiles(baseTree), childEnv);
    const after = await readStackInputs(stack({ envFiles: ['/srv/app/web.env'] }), memFiles(baseTree), childEnv);
    expect(after.fingerprint).not.toBe(before.fingerprint);
  });

  it('changing the project name changes the fingerprint (the model carries it)', async () => {
    const before = await readStackInputs(stack(), memFiles(baseTree), childEnv);
    const after = await readStackInputs(stack({ project: 'app2' }), memFiles(baseTree), childEnv);
    expect(after.fingerprint).not.toBe(before.fingerprint);
  });

  it('resolves a later -f file\'s relative env_file from the project directory, as compose does', async () => {
    const files = memFiles({
      '/srv/app/compose.yml': 'services: { web: { image: x } }\n',
      '/srv/overrides/app.yml': 'services: { web: { env_file: web.env } }\n',
      '/srv/app/web.env': 'WEB_TOKEN=web-token-value\n',
    });
    const got = await readStackInputs(stack({ compose: ['/srv/app/compose.yml', '/srv/overrides/app.yml'], envFiles: [] }), files, childEnv);
    expect(got.inputs).toContainEqual({ path: '/srv/app/web.env', content: 'WEB_TOKEN=web-token-value\n' });
    expect(got.redact('web-token-value')).toBe('***');
  });

  it('a compose file it cannot read completely is a compose-config failure naming the stack and the file', async () => {
    const files = memFiles({ ...baseTree, '/srv/app/sub/inc.yml': 'services: [\n' });
    const got = await readStackInputs(stack(), files, childEnv);
    expect(got.failure?.reasonCode).toBe('compose-config');
    expect(got.failure?.reason).toMatch(/^stack "app": \/srv\/app\/sub\/inc\.yml is not valid YAML \(.*line 2/);
    // what could be read is still read: the redactor and fingerprint cover it
    expect(got.redact('db-password-value web-token-value')).toBe('*** ***');
    expect(got.inputs).toContainEqual({ path: '/srv/app/sub/inc.yml', content: 'services: [\n' });
  });

  it('no failure when every file could be read (missing files are compose\'s to report)', async () => {
    const tree: Record<string, string> = { ...baseTree };
    delete tree['/srv/app/base.yml'];
    expect((await readStackInputs(stack(), memFiles(tree), childEnv)).failure).toBeUndefined();
  });
  it('an env file with a line compose refuses is a compose-config failure naming the file and line, never the value', async () => {
    const files = memFiles({ ...baseTree, '/run/secrets/app.env': 'DB_USER=app\nDB_PASSWORD="s3cret-unclosed\n' });
    const got = await readStackInputs(stack(), files, childEnv);
    expect(got.failure?.reasonCode).toBe('compose-config');
    expect(got.failure?.reason).toContain('/run/secrets/app.env line 2');
    expect(got.failure?.reason).toContain('never closed');
    expect(got.failure?.reason).not.toContain('s3cret-unclosed');
  });

  it('a file that exists but cannot be read is a compose-config failure naming it and what to do', async () => {
    const { FileUnreadableError } = await import('../../../src/adapters/errors.js');
    const files = memFiles(baseTree);
    const inner = files.readText;
    files.readText = async (p) => {
      if (p === '/srv/app/sub/inc.yml') throw new FileUnreadableError(p, 'EACCES');
      return inner(p);
    };
    const got = await readStackInputs(stack(), files, childEnv);
    expect(got.failure?.reasonCode).toBe('compose-config');
    expect(got.failure?.reason).toContain('cannot read /srv/app/sub/inc.yml: permission denied (EACCES)');
  });
});
