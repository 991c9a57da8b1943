import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{test,api,protocol,agent,offload-worker,proxy,gc,infra,bin,bench,examples}/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    // Integration tests spawn real servers, workers and PostgreSQL: give them room on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
