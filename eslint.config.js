import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Architecture rules (README "Layout"). Proven by test/unit/lint/core-guard.test.ts, which lints planted
// violations: flat-config blocks that match the same file REPLACE each other's options for a rule, so each
// layer's restrictions live in ONE block that no later block also matches (a src/** block once replaced the
// core block's `no-restricted-properties`, and Date.now() passed lint in src/core).

// Node built-ins and packages that do I/O. src/core must stay pure (STYLE.md "For stackd").
const ioModules = [
  'fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns', 'tls', 'os',
  'worker_threads', 'cluster', 'readline', 'process', 'timers', 'timers/promises',
].flatMap((m) => [m, `node:${m}`]);
const ioPackages = ['undici', 'fastify', 'pino', 'p-queue', 'prom-client', 'dockerode'];

const processEnv = { object: 'process', property: 'env', message: 'only the config module and the entry points read process.env; pass what you need in' };

// An import specifier that climbs out (../, however many) into one of the named layers; `./x.js` siblings
// never match, so a core module may be called http.ts without tripping this.
const layer = (names) => `^(?:\\./)?(?:\\.\\./)+(?:.*/)?(?:${names.join('|')})(?:/|\\.js$|$)`;

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
    // The imperative shell outside the entry points: the environment arrives through the config.
    files: ['src/**/*.ts'],
    ignores: ['src/core/**', 'src/main.ts', 'src/cli/**'],
    rules: {
      'no-restricted-properties': ['error', processEnv],
    },
  },
  {
    // The functional core: no clock, no randomness, no environment, no I/O, no shell layer. Data in, data out.
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': ['error', {
        paths: [...ioModules, ...ioPackages].map((name) => ({ name, message: 'src/core is pure: pass data in, do I/O in src/adapters.' })),
        patterns: [{
          regex: layer(['adapters', 'supervisor', 'http', 'cli', 'main']),
          allowTypeImports: false,
          message: 'src/core depends on nothing outside itself (types included): move the shared type into src/core.',
        }],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'src/core is pure: pass env and clock in.' },
        { name: 'fetch', message: 'no I/O in src/core: do it in src/adapters and pass the result in.' },
        { name: 'performance', message: 'pass the clock in' },
        ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask']
          .map((name) => ({ name, message: 'src/core decides, the shell schedules: return the delay instead.' })),
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'pass the clock in' },
        { object: 'Math', property: 'random', message: 'pass the random source in (see backoff.ts)' },
        processEnv,
        { object: 'globalThis', property: 'process', message: 'src/core is pure: pass env and clock in.' },
        { object: 'globalThis', property: 'fetch', message: 'no I/O in src/core' },
      ],
      'no-restricted-syntax': ['error', {
        selector: "NewExpression[callee.name='Date'][arguments.length=0]",
        message: 'new Date() reads the clock: pass the clock in (new Date(ms) is fine)',
      }],
    },
  },
  {
    // The supervisor talks to the outside world through src/supervisor/ports.ts only; the adapters satisfy
    // those ports structurally. Even a type import would tie it to one adapter's module.
    files: ['src/supervisor/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: layer(['adapters']),
          allowTypeImports: false,
          message: 'src/supervisor depends on ports, not adapters: declare the shape in src/supervisor/ports.ts (or src/core).',
        }],
      }],
    },
  },
  {
    // An adapter implements a port; it must not reach into the supervisor's machinery.
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(?:\\./)?(?:\\.\\./)+(?:.*/)?supervisor/(?!ports(?:\\.js)?$)',
          message: 'an adapter may import only ../supervisor/ports.js from the supervisor (the port it implements).',
        }],
      }],
    },
  },
);
