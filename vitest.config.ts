import { defineConfig } from 'vitest/config';

// Tests that spawn `kubeplane` run the compiled dist/ (npm test builds it first).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test time is spent waiting on processes, kernels and sockets, not CPU: two files at
    // once halves CI's wall time on 2 cores (every test already isolates its namespaces and ports).
    maxWorkers: 2,
    reporters: ['default'],
  },
});
