import { describe, expect, it } from 'vitest';
import { envFileProblems } from '../../../src/core/env-file-problems.js';

describe('envFileProblems never repeats text of the file', () => {
  it.each<[string, string, string]>([
    // the second line of an unquoted multi-line value looks like "KEY=VALUE" with a space in the key
    ['an unquoted multi-line value', 'PEM=-----BEGIN KEY-----\nMIIBsecret fragment=tail\n', 'MIIBsecret fragment'],
    ['a key with a space', 'A B=alpha-1\n', 'A B'],
  ])('%s', (_name, text, secretPart) => {
    const [problem] = envFileProblems(text);
    expect(problem?.line).toBe(text.split('\n').findIndex((l) => l.includes(secretPart)) + 1);
    expect(problem?.problem).toContain('has a space in the text before "="');
    expect(problem?.problem).not.toContain(secretPart);
  });
});
