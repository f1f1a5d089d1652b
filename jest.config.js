/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // ts-jest type-checks every test file and the sources it imports.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: true }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Namespace and VM tests share kernel state per test file; run files one at a time.
  maxWorkers: 1,
  // Longer than the tests' own waits (10 s), so a wait that fails names what it waited for.
  testTimeout: 30_000,
};
