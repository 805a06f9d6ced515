// readStackInputs over an in-memory file system: which files are inputs, what their fingerprint follows,
// what is redacted, and the compose invocation built from them.
import { describe, expect, it } from 'vitest';
import type { StackConfig } from '../../../src/core/config-types.js';
import { readStackInputs, type FilesPort } from '../../../src/supervisor/stack-inputs.js';

const childEnv = { PATH: '/usr/bin', HOME: '/home/u' };

function stack(over: Partial<StackConfig> = {}): StackConfig {
  return {
    name: 'app', project: 'app', unit: 'app.service',
    compose: ['/srv/app/compose.yml'], envFiles: ['/run/secrets/app.env'],
    startupTimeoutMs: 60_000, envWaitMs: 0, healthWindowMs: 60_000,
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

  it('hands out copies: a caller editing a spec does not change the next one', async () => {
    const got = await readStackInputs(stack(), memFiles(baseTree), childEnv);
    got.spec(1).envFiles.push('/tmp/x.env');
    expect(got.spec(1).envFiles).toEqual(['/run/secrets/app.env']);
  });
});
