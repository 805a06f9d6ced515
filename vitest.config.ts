import { defineConfig } from 'vitest/config';

// Three tiers (DESIGN.md "Tests"): unit = pure core, contract = adapters against in-process fakes,
// system = the real rootless podman lab (run as the lab user by test/lab/run-system-tests.sh).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'contract', include: ['test/contract/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'system',
          include: ['test/system/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // one lab, one podman: system test files share it, so they run one after another
          fileParallelism: false,
        },
      },
      // as root, what a system unit does (test/root; .ci/run runs it after the system tier)
      { test: { name: 'root', include: ['test/root/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } },
    ],
  },
});
