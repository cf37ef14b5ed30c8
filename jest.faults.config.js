// Fault-injection suite (`npm run test:faults`): the built service against PostgreSQL servers, PgBouncer
// and TCP proxies that each test starts, breaks and repairs (see test/faults/). It reuses the e2e
// harness: test/support/global-setup.ts builds dist/ and starts the shared server once per run.
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  testMatch: ['<rootDir>/test/faults/**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 180_000,
  slowTestThreshold: 60,
  verbose: true,
};
