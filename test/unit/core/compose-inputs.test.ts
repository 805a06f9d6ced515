import { describe, expect, it } from 'vitest';
import { composeReferences, MAX_ALIAS_COUNT, type ComposeReferences } from '../../../src/core/compose-inputs.js';

/** The expectation for a file whose nested compose files resolve their own relative paths from their own directory. */
function refs(composeFiles: string[], envFiles: string[]): Omit<ComposeReferences, 'error'> {
  return { composeFiles, nested: composeFiles.map((path) => ({ path, baseDir: path.slice(0, path.lastIndexOf('/')) })), envFiles };
}

describe('composeReferences', () => {
  it.each<[string, string, Omit<ComposeReferences, 'error'>]>([
    ['nothing referenced', 'services:\n  a: { image: x }\n', refs([], [])],
    ['an empty file', '', refs([], [])],
    ['env_file as a string', 'services:\n  a: { image: x, env_file: a.env }\n', refs([], ['/srv/app/a.env'])],
    ['env_file as a list with a long form', 'services:\n  a:\n    env_file: [a.env, { path: ../shared/b.env, required: false }]\n',
      refs([], ['/srv/app/a.env', '/srv/shared/b.env'])],
    ['extends from another file', 'services:\n  a: { extends: { file: base.yml, service: b } }\n', refs(['/srv/app/base.yml'], [])],
    ['extends within the same file names no file', 'services:\n  a: { extends: { service: b } }\n', refs([], [])],
    ['extends as a plain service name names no file', 'services:\n  a: { extends: b }\n', refs([], [])],
    // compose reads the included project's .env for its interpolation unless the include names env files
    ['include, short form: the file and its project .env', 'include:\n  - sub/one.yml\n',
      refs(['/srv/app/sub/one.yml'], ['/srv/app/sub/.env'])],
    ['include, long form with env_file: those instead of .env; all paths share the first path\'s directory',
      'include:\n  - path: [two.yml, /abs/three.yml]\n    env_file: inc.env\n',
      { composeFiles: ['/srv/app/two.yml', '/abs/three.yml'],
        nested: [{ path: '/srv/app/two.yml', baseDir: '/srv/app' }, { path: '/abs/three.yml', baseDir: '/srv/app' }],
        envFiles: ['/srv/app/inc.env'] }],
    ['include with project_directory: its .env, and relative paths inside resolve from there',
      'include:\n  - path: sub/one.yml\n    project_directory: proj\n',
      { composeFiles: ['/srv/app/sub/one.yml'], nested: [{ path: '/srv/app/sub/one.yml', baseDir: '/srv/app/proj' }], envFiles: ['/srv/app/proj/.env'] }],
    ['a remote include is compose\'s to fetch, not a file', 'include:\n  - oci://registry/app:1\n  - path: git@github.com:o/r.git\n', refs([], [])],
    // go-yaml (compose) merges `<<: *anchor`; YAML 1.2 parsers do not unless asked, and the env_file vanished
    ['env_file reached through a merge key', 'x-common: &common\n  env_file: common.env\nservices:\n  a:\n    <<: *common\n    image: x\n',
      refs([], ['/srv/app/common.env'])],
    ['more than 100 aliases (the yaml package default) still yield every reference',
      `x-env: &e secret.env\nservices:\n${Array.from({ length: 150 }, (_, i) => `  s${i}: { image: x, env_file: *e }`).join('\n')}\n`,
      refs([], Array.from({ length: 150 }, () => '/srv/app/secret.env'))],
    ['every document of a multi-document file', 'services: { a: { env_file: a.env } }\n---\nservices: { b: { env_file: b.env } }\n',
      refs([], ['/srv/app/a.env', '/srv/app/b.env'])],
    ['a non-mapping document references nothing (compose reports it)', '- just\n- a list\n', refs([], [])],
  ])('%s', (_what, text, expected) => {
    expect(composeReferences('/srv/app/compose.yml', text)).toEqual(expected);
  });

  it('resolves relative paths of a later -f file from the project directory (the first file\'s), as compose does', () => {
    const text = 'include: [inc.yml]\nservices:\n  a: { env_file: a.env, extends: { file: base.yml, service: b } }\n';
    expect(composeReferences('/srv/overrides/x.yml', text, '/srv/app')).toEqual({
      composeFiles: ['/srv/app/inc.yml', '/srv/app/base.yml'],
      nested: [{ path: '/srv/app/inc.yml', baseDir: '/srv/app' }, { path: '/srv/app/base.yml', baseDir: '/srv/app' }],
      envFiles: ['/srv/app/.env', '/srv/app/a.env'],
    });
  });

  describe('fails loudly instead of dropping references', () => {
    it.each<[string, string, RegExp]>([
      ['broken YAML names the file and the line', 'services: [\n', /^\/srv\/app\/compose\.yml is not valid YAML \(.*line 2, column 1.*\)/],
      ['a duplicate key (compose rejects it too)', 'services:\n  a: { image: x }\n  a: { image: y }\n', /^\/srv\/app\/compose\.yml is not valid YAML \(Map keys must be unique/],
      ['an alias of an anchor that does not exist', 'services: { a: { env_file: *nope } }\n', /^\/srv\/app\/compose\.yml is not valid YAML \(Unresolved alias/],
      ['a broken second document', 'services: {}\n---\nservices: [\n', /^\/srv\/app\/compose\.yml is not valid YAML/],
      ['an alias bomb past the limit', aliasBomb(), new RegExp(`^/srv/app/compose\\.yml expands YAML aliases more than ${MAX_ALIAS_COUNT} times`)],
    ])('%s', (_what, text, message) => {
      const out = composeReferences('/srv/app/compose.yml', text);
      expect(out.error).toMatch(message);
      expect(out.error).toMatch(/what to do|fix/i);
    });
  });
});

/** The classic "billion laughs": every level doubles the expansion of the level before. */
function aliasBomb(): string {
  const lines = ['a0: &a0 [x, x]'];
  for (let i = 1; i <= 16; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}]`);
  lines.push('services: { s: { image: x, env_file: a.env, labels: *a16 } }');
  return `${lines.join('\n')}\n`;
}
