import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Node built-ins and packages that do I/O. src/core must stay pure (STYLE.md "For stackd").
const ioModules = [
  'fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns', 'tls', 'os',
  'worker_threads', 'cluster', 'readline', 'process', 'timers', 'timers/promises',
].flatMap((m) => [m, `node:${m}`]);
const ioPackages = ['undici', 'fastify', 'pino', 'p-queue', 'prom-client', 'dockerode'];

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': ['error', {
        paths: [...ioModules, ...ioPackages].map((name) => ({ name, message: 'src/core is pure: pass data in, do I/O in src/adapters.' })),
        patterns: [{ group: ['../adapters/*', '../supervisor/*', '../http/*', '../cli/*'], message: 'src/core depends on nothing outside itself.' }],
      }],
      'no-restricted-globals': ['error', { name: 'process', message: 'src/core is pure: pass env and clock in.' }, { name: 'fetch', message: 'no I/O in src/core' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'pass the clock in' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/core/config.ts', 'src/main.ts', 'src/cli/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'only the config module and the entry points read process.env' }],
    },
  },
);
