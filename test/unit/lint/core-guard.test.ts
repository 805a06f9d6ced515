// The architecture rules in eslint.config.js, proven by linting planted files through ESLint's Node API.
// A flat-config block that silently overrides another (as the src/** process.env block once replaced the
// core block's Date.now ban) only shows up here: each planted violation must produce its intended rule.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: repoRoot });
});

async function lint(filePath: string, code: string): Promise<{ ruleId: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath });
  if (!result) throw new Error(`ESLint returned no result for ${filePath}`);
  return result.messages.filter((m) => m.severity === 2).map((m) => ({ ruleId: m.ruleId, message: m.message }));
}

describe('src/core stays pure', () => {
  it.each<[string, string, string]>([
    ['Date.now()', 'export const t = (): number => Date.now();\n', 'no-restricted-properties'],
    ['new Date() without arguments (reads the clock)', 'export const t = (): Date => new Date();\n', 'no-restricted-syntax'],
    ['Math.random()', 'export const r = (): number => Math.random();\n', 'no-restricted-properties'],
    ['process.env.X', 'export const x = process.env.X;\n', 'no-restricted-globals'],
    ['process.env.X (the property rule too)', 'export const x = process.env.X;\n', 'no-restricted-properties'],
    ['globalThis.process', 'export const x = globalThis.process.argv;\n', 'no-restricted-properties'],
    ["import fs from 'node:fs'", "import fs from 'node:fs';\nexport const e = fs.existsSync('/');\n", 'no-restricted-imports'],
    ["import from 'fs/promises'", "import { readFile } from 'fs/promises';\nexport const r = readFile;\n", 'no-restricted-imports'],
    ['an I/O package (undici)', "import { request } from 'undici';\nexport const r = request;\n", 'no-restricted-imports'],
    ['an adapter import', "import { InvalidOptionError } from '../adapters/errors.js';\nexport const E = InvalidOptionError;\n", 'no-restricted-imports'],
    ['a type-only adapter import', "import type { ComposeSpec } from '../adapters/compose-runner.js';\nexport type S = ComposeSpec;\n", 'no-restricted-imports'],
    ['a supervisor import', "import { Reconciler } from '../supervisor/reconciler.js';\nexport const R = Reconciler;\n", 'no-restricted-imports'],
    ['an http import', "export { buildApp } from '../http/app.js';\n", 'no-restricted-imports'],
    ['a cli import', "import { offlineCheck } from '../cli/offline-check.js';\nexport const o = offlineCheck;\n", 'no-restricted-imports'],
    ['fetch(...)', "export const f = (): Promise<unknown> => fetch('http://x');\n", 'no-restricted-globals'],
    ['setTimeout (timers belong to the shell)', 'export const s = (f: () => void): unknown => setTimeout(f, 1);\n', 'no-restricted-globals'],
    ['performance.now()', 'export const p = (): number => performance.now();\n', 'no-restricted-globals'],
    ['any', 'export const a: any = 1;\n', '@typescript-eslint/no-explicit-any'],
  ])('%s is an error', async (_what, code, ruleId) => {
    const messages = await lint('src/core/planted.ts', code);
    expect(messages.map((m) => m.ruleId)).toContain(ruleId);
  });

  it('a clean core file passes (a clock passed in, a Date from a number, node:path and yaml are fine)', async () => {
    const code = [
      "import { posix } from 'node:path';",
      "import { parse } from 'yaml';",
      "import type { ObservedContainer } from './model.js';",
      'export function age(now: () => number, startedAt: string): number {',
      '  return now() - new Date(startedAt).getTime();',
      '}',
      'export const dir = (p: string): string => posix.dirname(p);',
      'export const doc = (t: string): unknown => parse(t);',
      'export const names = (cs: ObservedContainer[]): string[] => cs.map((c) => c.name);',
      '',
    ].join('\n');
    expect(await lint('src/core/planted.ts', code)).toEqual([]);
  });
});

describe('process.env outside config, main and cli', () => {
  it('is an error in the supervisor, adapters and http', async () => {
    for (const dir of ['supervisor', 'adapters', 'http']) {
      const messages = await lint(`src/${dir}/planted.ts`, 'export const x = process.env.X;\n');
      expect(messages.map((m) => m.ruleId), dir).toContain('no-restricted-properties');
    }
  });

  it('is allowed in main.ts and the CLI', async () => {
    expect(await lint('src/main.ts', 'export const x = process.env.X;\n')).toEqual([]);
    expect(await lint('src/cli/planted.ts', 'export const x = process.env.X;\n')).toEqual([]);
  });
});

describe('layering between the supervisor and the adapters', () => {
  it('the supervisor may not import an adapter, not even a type', async () => {
    for (const code of [
      "import type { ComposeSpec } from '../adapters/compose-runner.js';\nexport type S = ComposeSpec;\n",
      "import { ComposeRunner } from '../adapters/compose-runner.js';\nexport const C = ComposeRunner;\n",
      "export type { ComposeResult } from '../adapters/compose-runner.js';\n",
    ]) {
      const messages = await lint('src/supervisor/planted.ts', code);
      expect(messages.map((m) => m.ruleId), code).toContain('no-restricted-imports');
    }
  });

  it('an adapter may import nothing from the supervisor but its ports', async () => {
    const bad = await lint('src/adapters/planted.ts', "import { Reconciler } from '../supervisor/reconciler.js';\nexport const R = Reconciler;\n");
    expect(bad.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const ports = await lint('src/adapters/planted.ts', "import type { FilesPort } from '../supervisor/ports.js';\nexport type F = FilesPort;\n");
    expect(ports).toEqual([]);
  });

  it('the supervisor may still import the core and its own modules', async () => {
    const code = "import type { StackConfig } from '../core/config-types.js';\nimport type { FilesPort } from './ports.js';\n" +
      'export type Both = [StackConfig, FilesPort];\n';
    expect(await lint('src/supervisor/planted.ts', code)).toEqual([]);
  });
});
