import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files run in parallel, each against its own database (see test/helpers/database.ts).
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
