// The bad-input corpus (test/fixtures/bad/): every case is a file somebody could really write, with what stackd
// must say about it. config/<case>/input.yaml → the config is refused, and every line of expected.txt appears in
// the message (which names the key, what arrived, what was expected, what to do). env/<case>/input.env → what
// docker-compose 2.26 did with it was captured beside it (compose-config.stderr.txt: refused;
// compose-config.values.json: accepted), and stackd's own env-file check must agree: a problem naming the line
// for every file compose refuses, none for a file compose takes — and never the value itself.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatConfigIssues, parseConfig } from '../../src/core/config.js';
import { envFileProblems } from '../../src/core/env-file-problems.js';

const BAD = fileURLToPath(new URL('../fixtures/bad/', import.meta.url));
const cases = (kind: string) => readdirSync(join(BAD, kind)).sort();
const ctx = { env: { HOME: '/home/alice', XDG_RUNTIME_DIR: '/run/user/1000' }, uid: 1000 };

describe('bad configs: refused with a message that says what to fix', () => {
  it('the corpus is big enough to mean something', () => {
    expect(cases('config').length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases('config'))('%s', (name) => {
    const dir = join(BAD, 'config', name);
    const text = readFileSync(join(dir, 'input.yaml'), 'utf8');
    const expected = readFileSync(join(dir, 'expected.txt'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    const parsed = parseConfig(text, '/etc/stackd/stackd.yaml', ctx);
    expect(parsed.ok, `${name} was accepted`).toBe(false);
    if (parsed.ok) return;
    const message = formatConfigIssues('/etc/stackd/stackd.yaml', parsed.issues);
    for (const line of expected) expect(message).toContain(line);
    // always the file, and what to do about it
    expect(message).toContain('/etc/stackd/stackd.yaml');
  });
});

describe('env files: stackd agrees with what docker-compose refused or took', () => {
  it.each(cases('env'))('%s', (name) => {
    const dir = join(BAD, 'env', name);
    const text = readFileSync(join(dir, 'input.env'), 'utf8');
    const refused = existsSync(join(dir, 'compose-config.stderr.txt'));
    expect(refused || existsSync(join(dir, 'compose-config.values.json')), 'a captured compose result').toBe(true);
    const problems = envFileProblems(text);
    if (!refused) {
      expect(problems).toEqual([]);
      return;
    }
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p.line).toBeGreaterThan(0);
      // a problem never quotes a value (values are secrets): no text after a "=" of the file appears in it
      for (const l of text.split(/\r?\n/)) {
        const value = l.slice(l.indexOf('=') + 1).trim();
        if (l.includes('=') && value.length > 3) expect(p.problem).not.toContain(value);
      }
    }
  });
});
