// Unit specs sit beside the code (src/**/*.spec.ts): pure logic, and services, guards and filters in a Nest
// testing module with fakes. E2e specs (test/api/<feature>/, test/ops/) start the built service
// (`node dist/main.js`, as production runs it) against a real PostgreSQL that test/support/global-setup.ts
// starts once per run, and drive it over HTTP. (A child process is the honest way to test signals, logs and
// crashes.) Run Jest through npm (`npm test`, `npm run jest -- <path>`): NestJS is ES modules only, which
// Jest loads in-process with node --experimental-vm-modules; the services the e2e specs spawn run without it.
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };

module.exports = {
  // Jest reads testTimeout from the top level only: inside a project it is ignored.
  testTimeout: 60_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      setupFiles: ['<rootDir>/test/support/vm-modules.ts'],
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      // The fault-injection suite has its own run: npm run test:faults (jest.faults.config.js).
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
      transform,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      // Every supertest response is checked against the server's OpenAPI document (test/support/contract.ts).
      setupFilesAfterEnv: ['<rootDir>/test/support/contract-hook.ts'],
      testTimeout: 60_000,
      slowTestThreshold: 30,
    },
  ],
};
