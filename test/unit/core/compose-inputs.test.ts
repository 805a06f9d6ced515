import { describe, expect, it } from 'vitest';
import { composeReferences } from '../../../src/core/compose-inputs.js';

describe('composeReferences', () => {
  it.each<[string, string, { composeFiles: string[]; envFiles: string[] }]>([
    ['nothing referenced', 'services:\n  a: { image: x }\n', { composeFiles: [], envFiles: [] }],
    ['env_file as a string', 'services:\n  a: { image: x, env_file: a.env }\n', { composeFiles: [], envFiles: ['/srv/app/a.env'] }],
    ['env_file as a list with a long form', 'services:\n  a:\n    env_file: [a.env, { path: ../shared/b.env, required: false }]\n',
      { composeFiles: [], envFiles: ['/srv/app/a.env', '/srv/shared/b.env'] }],
    ['extends from another file', 'services:\n  a: { extends: { file: base.yml, service: b } }\n', { composeFiles: ['/srv/app/base.yml'], envFiles: [] }],
    ['extends within the same file names no file', 'services:\n  a: { extends: { service: b } }\n', { composeFiles: [], envFiles: [] }],
    ['include, short and long form', 'include:\n  - sub/one.yml\n  - path: [two.yml, /abs/three.yml]\n    env_file: inc.env\n',
      { composeFiles: ['/srv/app/sub/one.yml', '/srv/app/two.yml', '/abs/three.yml'], envFiles: ['/srv/app/inc.env'] }],
    ['broken YAML references nothing (compose reports it)', 'services: [\n', { composeFiles: [], envFiles: [] }],
    ['a non-mapping document references nothing', '- just\n- a list\n', { composeFiles: [], envFiles: [] }],
  ])('%s', (_what, text, expected) => {
    expect(composeReferences('/srv/app/compose.yml', text)).toEqual(expected);
  });
});
