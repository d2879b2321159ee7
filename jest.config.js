/** Jest runs TypeScript through ts-jest without type-checking (tsc runs in `pretest`). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // Workflow tests share one dev server and a 2-core machine: run files one at a time.
  maxWorkers: 1,
  testTimeout: 300000,
};
