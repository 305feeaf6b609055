import { defineConfig } from 'vitest/config';

// Tests that spawn `kubeplane` run the compiled dist/ (npm test builds it first).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
