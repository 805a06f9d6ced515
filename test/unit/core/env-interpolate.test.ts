// compose's interpolation of env-file values. Each expected value was seen from docker-compose 2.26
// (`compose --env-file … config`) in the lab, with HOME=/root.
import { describe, expect, it } from 'vitest';
import { interpolateEnvFiles } from '../../../src/core/env-interpolate.js';
import { parseEnvEntries } from '../../../src/core/redact.js';

const env = { HOME: '/root' };

/** KEY → value as compose makes it, for one env file. */
function interpolated(text: string): Record<string, string> {
  return Object.fromEntries(interpolateEnvFiles([parseEnvEntries(text)], env).entries.map((e) => [e.key, e.value]));
}

describe('interpolateEnvFiles: one file', () => {
  it.each<[string, string, Record<string, string>]>([
    ['an earlier key, bare and braced', 'BASE=abc\nA=pre-$BASE-post\nB=x${BASE}y', { BASE: 'abc', A: 'pre-abc-post', B: 'xabcy' }],
    ['an unset variable is empty', 'A=abc$def', { A: 'abc' }],
    ['a later key is not seen yet', 'A=${LATER}\nLATER=zzz', { A: '', LATER: 'zzz' }],
    ['$$ is a dollar', 'D=$$HOME\nE="$${HOME}"', { D: '$HOME', E: '${HOME}' }],
    ['a double-quoted \\$ is a literal dollar', 'A="\\$HOME"', { A: '$HOME' }],
    ['an unquoted \\$ is a backslash before a variable', 'C=a\\$HOME', { C: 'a\\/root' }],
    ['single quotes are literal', "H='$HOME ${X}'", { H: '$HOME ${X}' }],
    ['the environment wins over an earlier key', 'HOME=file-home\nA=$HOME', { HOME: 'file-home', A: '/root' }],
    ['the name is as long as it can be', 'I=$HOME_X-z', { I: '-z' }],
    ['defaults, set or not, empty or not', 'F=${HOME:+set}-${NOPE:-dflt ${HOME}}-${NOPE-x}-${EMPTY:-e}-${EMPTY-f}\nEMPTY=\nG=${EMPTY:-e}-${EMPTY-f}|${HOME}}',
      { F: 'set-dflt /root-x-e-f', EMPTY: '', G: 'e-|/root}' }],
    ['a multi-line double-quoted value', 'S=k7Rw-salt\nP="pl4nt $$ \'sq\' \\"dq\\" ${S} .*+?()[]{}|\\\\^ \\^ end\nline2"',
      { S: 'k7Rw-salt', P: 'pl4nt $ \'sq\' "dq" k7Rw-salt .*+?()[]{}|\\^ \\^ end\nline2' }],
    ['an unterminated ${ is kept as written', 'A=x${HOME', { A: 'x${HOME' }],
    ['a $ before no name is kept', 'A=cost: 5$ or $-', { A: 'cost: 5$ or $-' }],
  ])('%s', (_name, text, expected) => {
    expect(interpolated(text)).toEqual(expected);
  });
});

describe('interpolateEnvFiles: what it returns', () => {
  it('the ${V:?message} texts compose would fail with, interpolated', () => {
    const entries = parseEnvEntries('SALT=s4lt-value\nREQ=${NOPE:?set NOPE, see $SALT}\n');
    expect(interpolateEnvFiles([entries], {}).messages).toEqual(['set NOPE, see s4lt-value']);
  });

  it('a later file sees the keys of the earlier ones (--env-file a --env-file b; env_file: targets)', () => {
    const a = parseEnvEntries('ONE=first-val\n');
    const b = parseEnvEntries('TWO=x-${ONE}-y\nTHREE=$TWO!\n');
    const c = parseEnvEntries('CE=c-${ONE}-${TWO}\n');
    expect(interpolateEnvFiles([a, b, c], {}).entries.map((e) => e.value)).toEqual(['first-val', 'x-first-val-y', 'x-first-val-y!', 'c-first-val-x-first-val-y']);
  });

  it('a message with no variable missing is not a message', () => {
    expect(interpolateEnvFiles([parseEnvEntries('A=${HOME:?never shown}')], env)).toEqual({ entries: [{ key: 'A', value: '/root' }], messages: [] });
  });
});
