import { describe, expect, it } from 'vitest';
import { makeRedactor, parseEnvEntries, parseEnvFile } from '../../../src/core/redact.js';

describe('makeRedactor', () => {
  it.each<[string, string[], string, string]>([
    ['replaces every occurrence', ['hunter22'], 'pw=hunter22 again hunter22', 'pw=*** again ***'],
    ['ignores values shorter than 4 characters', ['abc', 'x'], 'abc x abcd', 'abc x abcd'],
    ['hides the longest value whole', ['pass', 'password123'], 'password123 pass', '*** ***'],
    ['treats regex characters literally', ['a.b*c(d)$'], 'a.b*c(d)$ axbbc', '*** axbbc'],
    ['hides each line of a multi-line value', ['line-one\nline-two'], 'got line-two', 'got ***'],
    ['hides the JSON-escaped form', ['say "hi"'], '{"v":"say \\"hi\\""}', '{"v":"***"}'],
    ['keeps boolean-like settings', ['true', 'false', 'yes'], '{"ok":true}', '{"ok":true}'],
    ['finds values inside words', ['s3cret'], 'xs3cretx', 'x***x'],
    ['does nothing without secrets', [], 'plain', 'plain'],
    // values as they come out of real env files
    ['a value with $ signs (and replacement patterns)', ['pa$$w0rd$&$1'], 'auth pa$$w0rd$&$1 failed', 'auth *** failed'],
    ['a value with every regex special', ['a.b*c+d?e^f${g}(h)|[i]\\j/k-l'], 'x a.b*c+d?e^f${g}(h)|[i]\\j/k-l y', 'x *** y'],
    ['a value with spaces', ['correct horse battery staple'], 'pw correct horse battery staple!', 'pw ***!'],
    ['a value with single and double quotes', [`it's "quoted"`], `got it's "quoted" and {"v":"it's \\"quoted\\""}`, 'got *** and {"v":"***"}'],
    ['a multi-line value, whole and line by line', ['first-line\nsecond-line'], 'a first-line\nsecond-line b second-line', 'a *** b ***'],
    ['a multi-line value with CRLF', ['first-line\r\nsecond-line'], 'got first-line\r\n', 'got ***\r\n'],
    ['a value with surrounding spaces is hidden without them', ['  padded-secret  '], 'x padded-secret y', 'x *** y'],
    // Go's JSON (the podman daemon's errors) escapes < > & as \u003c \u003e \u0026
    ['the Go-JSON-escaped form', ['a&b<c>d'], '{"message":"a\\u0026b\\u003cc\\u003ed"}', '{"message":"***"}'],
    // a blank line inside a PEM-like value must not turn every run of spaces into ***
    ['whitespace-only values and lines are not secrets', ['    ', 'abcd\n      \nefgh'], 'a      b abcd', 'a      b ***'],
    // numbers that short are uids, ports and sizes: hiding 1000 would garble /run/user/1000 in every path
    ['short all-digit values are not secrets', ['1000', '8080', '1234567'], '/run/user/1000 port 8080 1234567', '/run/user/1000 port 8080 1234567'],
    ['long all-digit values are', ['12345678'], 'pin 12345678', 'pin ***'],
    // escaped shapes the value takes in what is printed
    ['the logfmt (Go-quoted) form, as compose logs a field', ['pa "x" \\ y\tz'], 'level=warning msg="pa \\"x\\" \\\\ y\\tz"', 'level=warning msg="***"'],
    ['Go-quoted control characters', ['bell\x07and\x01'], 'msg="bell\\aand\\x01"', 'msg="***"'],
    ['JSON escaped twice (a JSON body logged as a string)', ['say "hi" \\o/'], '{"err":"{\\"message\\":\\"say \\\\\\"hi\\\\\\" \\\\\\\\o/\\"}"}', '{"err":"{\\"message\\":\\"***\\"}"}'],
    ['the `compose config` form, every $ doubled', ['pa$word$1'], 'environment: {PW: pa$$word$$1}', 'environment: {PW: ***}'],
    ['a multi-line value JSON-escaped whole', ['first-line\nsecond "q"'], '{"v":"first-line\\nsecond \\"q\\""}', '{"v":"***"}'],
  ])('%s', (_name, secrets, input, expected) => {
    expect(makeRedactor(secrets)(input)).toBe(expected);
  });

  it('keeps values the caller names (stack names that are also env values)', () => {
    const redact = makeRedactor(['immich', 'topsecret'], { keep: ['immich'] });
    expect(redact('reconciled immich with topsecret')).toBe('reconciled immich with ***');
  });
});

describe('parseEnvEntries: what compose interpolates', () => {
  it.each<[string, string, { key: string; value: string; template?: string }[]]>([
    ['unquoted: the value itself', 'A=x$B', [{ key: 'A', value: 'x$B', template: 'x$B' }]],
    ['single-quoted: nothing', "A='x$B'", [{ key: 'A', value: 'x$B' }]],
    ['double-quoted: the value, a \\$ kept literal as $$', 'A="x\\$B $C\\n"', [{ key: 'A', value: 'x$B $C\n', template: 'x$$B $C\n' }]],
    ['double-quoted over lines', 'A="one\n$B"', [{ key: 'A', value: 'one\n$B', template: 'one\n$B' }]],
  ])('%s', (_name, text, expected) => {
    expect(parseEnvEntries(text)).toEqual(expected);
  });
});

describe('parseEnvFile', () => {
  it.each<[string, string, Record<string, string>]>([
    ['plain pairs', 'A=1\nB=two', { A: '1', B: 'two' }],
    ['export prefix', 'export TOKEN=abc', { TOKEN: 'abc' }],
    ['comments and blank lines', '# c\n\n  # indented\nA=1\n', { A: '1' }],
    ['inline comment after unquoted value', 'A=value # note', { A: 'value' }],
    ['hash without space is part of the value', 'A=pa#ss', { A: 'pa#ss' }],
    ['single quotes are literal', "A='x \\n # y'", { A: 'x \\n # y' }],
    ['double quotes with escapes', 'A="x\\ny \\"q\\" # z"', { A: 'x\ny "q" # z' }],
    ['multi-line double-quoted value', 'K="-----BEGIN\nabc\n-----END"\nB=2', { K: '-----BEGIN\nabc\n-----END', B: '2' }],
    ['spaces around =', 'A = spaced  ', { A: 'spaced' }],
    ['empty value', 'A=', { A: '' }],
    ['value containing =', 'URL=postgres://u:p@h/db?x=1', { URL: 'postgres://u:p@h/db?x=1' }],
    ['lines without = are skipped', 'JUSTKEY\nA=1', { A: '1' }],
    ['CRLF line ends', 'A=1\r\nB=2\r\n', { A: '1', B: '2' }],
    ['later keys win', 'A=1\nA=2', { A: '2' }],
    ['unterminated quote keeps the rest of the line', 'A="abc\nB=2', { A: 'abc', B: '2' }],
  ])('%s', (_name, text, expected) => {
    expect(parseEnvFile(text)).toEqual(expected);
  });

  it('feeds the redactor', () => {
    const env = parseEnvFile('DB_PASSWORD="s3cr3t-pw"\nDEBUG=true\n');
    const redact = makeRedactor(Object.values(env));
    expect(redact('auth failed for s3cr3t-pw, debug=true')).toBe('auth failed for ***, debug=true');
  });
});
