// Jest runs in ESM mode (NestJS 12 is ESM-only): ts-jest with useESM, started with
// NODE_OPTIONS=--experimental-vm-modules (see package.json scripts).
//
// Version matrix: NEST_VERSION=<folder of test/nest-versions> (11.0, 11.1, 11, 12.0, 12.5) runs the same
// suites against that second install of @nestjs/* and rxjs; NEST_VERSION=12 (or unset) is the root
// install (latest 12: 12.6.3). NEST_MAJOR=11 is an alias of NEST_VERSION=11 (latest 11).
// `node test/nest-versions/run.mjs` installs every entry and runs the e2e project on each.
// On a second install the Redis suites (test/redis*.e2e-spec.ts) and the Chromium ones are left
// out (they test our code more than Nest's, and they are the slowest); NEST_ALL_SUITES=1 puts them
// back.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

/** Matrix entries that live in test/nest-versions/<name>; `12` is the root install. */
const secondInstalls = ['11.0', '11.1', '11', '12.0', '12.5'];

const nestVersion = process.env.NEST_VERSION || (process.env.NEST_MAJOR === '11' ? '11' : '12');
if (nestVersion !== '12' && !secondInstalls.includes(nestVersion)) {
  throw new Error(
    `NEST_VERSION=${nestVersion} is not a matrix entry: use one of 12 (root install), ${secondInstalls.join(', ')}.`,
  );
}
const install =
  nestVersion === '12' ? null : join(root, 'test/nest-versions', nestVersion, 'node_modules');
if (install && !existsSync(join(install, '@nestjs/core/package.json'))) {
  throw new Error(
    `NEST_VERSION=${nestVersion}: ${install} is not installed. Run ` +
      `\`npm ci --prefix test/nest-versions/${nestVersion}\` (or \`node test/nest-versions/run.mjs ${nestVersion}\`).`,
  );
}

const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: join(root, 'tsconfig.json') }],
};

const moduleNameMapper = {
  '^nestjs-flush$': '<rootDir>/src/index.ts',
  '^nestjs-flush/testing$': '<rootDir>/src/testing/index.ts',
  '^nestjs-flush/redis$': '<rootDir>/src/redis.ts',
  '^nestjs-flush/(prometheus|terminus|swagger)$': '<rootDir>/src/$1.ts',
  '^nestjs-flush/client$': '<rootDir>/src/client/index.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
  ...(install
    ? {
        // Subpaths too (`@nestjs/common/constants`): they must come from the same install.
        '^@nestjs/(common|core|platform-express|platform-fastify|testing)(/.*)?$': `${install}/@nestjs/$1$2`,
        '^rxjs$': `${install}/rxjs`,
        '^rxjs/operators$': `${install}/rxjs/operators`,
      }
    : {}),
};

const common = {
  rootDir: root,
  // A CommonJS dependency require()ing an ESM-only one (@fastify/middie 9.3.9 and path-to-regexp 9,
  // since NestJS 12.6): Node 20 allows it, Jest on Node 20 does not (see the resolver).
  resolver: join(root, 'test/utils/jest-require-esm.resolver.cjs'),
  extensionsToTreatAsEsm: ['.ts'],
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
};

/** Suites that run on the root install only (unless NEST_ALL_SUITES=1). */
const rootOnlySuites =
  install && process.env.NEST_ALL_SUITES !== '1'
    ? ['<rootDir>/test/redis[^/]*\\.e2e-spec\\.ts$', '<rootDir>/test/sample-[^/]*\\.e2e-spec\\.ts$']
    : [];

export default {
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...rootOnlySuites],
      testTimeout: 30000,
    },
  ],
};
