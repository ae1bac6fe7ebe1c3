// Jest runs in ESM mode (NestJS 12 is ESM-only): ts-jest with useESM, started with
// NODE_OPTIONS=--experimental-vm-modules (see package.json scripts).
// NEST_MAJOR=11 runs the same suites against the second install in test/nest11.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(fileURLToPath(import.meta.url));
const nest11 = join(root, 'test/nest11/node_modules');

const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: join(root, 'tsconfig.json') }],
};

const moduleNameMapper = {
  '^nestjs-flush$': '<rootDir>/src/index.ts',
  '^nestjs-flush/testing$': '<rootDir>/src/testing/index.ts',
  '^nestjs-flush/redis$': '<rootDir>/src/redis.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
  ...(process.env.NEST_MAJOR === '11'
    ? {
        '^@nestjs/(common|core|platform-express|platform-fastify|testing)$': `${nest11}/@nestjs/$1`,
        '^rxjs$': `${nest11}/rxjs`,
        '^rxjs/operators$': `${nest11}/rxjs/operators`,
      }
    : {}),
};

const common = {
  rootDir: root,
  extensionsToTreatAsEsm: ['.ts'],
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
};

export default {
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
      testTimeout: 30000,
    },
  ],
};
