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

/** Nest major under test: 12 (root install) or 11 (test/nest11, NEST_MAJOR=11). */
export const nestMajor = process.env.NEST_MAJOR === '11' ? 11 : 12;

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
