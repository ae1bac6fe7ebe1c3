import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication, Type } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

export type PlatformName = 'express' | 'fastify';

/** Both HTTP adapters: every behaviour is proven on each (pino, throttler style). */
export const platforms: [PlatformName][] = [['express'], ['fastify']];

export const createAdapter = (
  name: PlatformName,
  fastifyOptions?: { forceCloseConnections?: boolean },
) => (name === 'express' ? new ExpressAdapter() : new FastifyAdapter(fastifyOptions));

/**
 * Matrix entry under test: a folder of test/nest-versions (`11.0`, `11.1`, `11`, `12.0`, `12.5`) or `12`,
 * the root install. Chosen by NEST_VERSION; NEST_MAJOR=11 is an alias of `11` (latest 11).
 * jest.config.js maps `@nestjs/*` and `rxjs` to the same install.
 */
export const nestInstall: string =
  process.env.NEST_VERSION || (process.env.NEST_MAJOR === '11' ? '11' : '12');

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const corePackageJson =
  nestInstall === '12'
    ? join(repoRoot, 'node_modules/@nestjs/core/package.json')
    : join(repoRoot, 'test/nest-versions', nestInstall, 'node_modules/@nestjs/core/package.json');

/** Exact `@nestjs/core` version under test (e.g. `11.0.21`), read from the selected install. */
export const nestVersion: string = (
  JSON.parse(readFileSync(corePackageJson, 'utf8')) as { version: string }
).version;

const [major = 0, minor = 0, patch = 0] = nestVersion.split('.').map(part => parseInt(part, 10));

/** Nest major under test: 11 or 12. */
export const nestMajor: number = major;

/** Nest minor under test (e.g. 0 for 11.0.21), to branch on behaviour that differs inside a major. */
export const nestMinor: number = minor;

/**
 * True when the Nest under test is at least `version` (`'11.1.9'`, `'12.4'`): for tests whose
 * expectation depends on a feature Nest added in a patch or minor release.
 */
export const nestAtLeast = (version: string): boolean => {
  const [wantMajor = 0, wantMinor = 0, wantPatch = 0] = version
    .split('.')
    .map(part => parseInt(part, 10));
  if (major !== wantMajor) return major > wantMajor;
  if (minor !== wantMinor) return minor > wantMinor;
  return patch >= wantPatch;
};

/**
 * A real Nest app on a real port (127.0.0.1, random), built from `imports`, with an optional
 * setup step before listen (useGlobalInterceptors, middleware...).
 */
export const startApp = async (
  platform: PlatformName,
  imports: Type[] | unknown[],
  setup?: (app: INestApplication) => void | Promise<void>,
  fastifyOptions?: { forceCloseConnections?: boolean },
): Promise<INestApplication> => {
  const moduleRef = await Test.createTestingModule({ imports: imports as Type[] }).compile();
  const app = moduleRef.createNestApplication(createAdapter(platform, fastifyOptions) as never, {
    logger: ['error', 'warn'],
  });
  await setup?.(app);
  await app.listen(0, '127.0.0.1');
  return app;
};
