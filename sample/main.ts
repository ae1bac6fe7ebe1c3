import 'reflect-metadata';
import { Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { setupDocs } from './docs/docs.setup.js';

/**
 * Starts the demo: `npm start`, then open http://localhost:3000.
 * - `PORT` (default 3000), `HOST` (default 0.0.0.0);
 * - `FLUSH_SAMPLE_ADAPTER=fastify` for fastify (default express);
 * - `REDIS_URL=redis://127.0.0.1:6379` for the Redis transport (start two instances on two ports);
 * - `FLUSH_SAMPLE_DEBUG=1` to log every request, streams included (the @StreamSafe() interceptor).
 */
async function bootstrap(): Promise<void> {
  const adapterName = process.env.FLUSH_SAMPLE_ADAPTER === 'fastify' ? 'fastify' : 'express';
  if (
    process.env.FLUSH_SAMPLE_ADAPTER &&
    !['express', 'fastify'].includes(process.env.FLUSH_SAMPLE_ADAPTER)
  ) {
    throw new Error(
      `FLUSH_SAMPLE_ADAPTER must be "express" or "fastify", not "${process.env.FLUSH_SAMPLE_ADAPTER}"`,
    );
  }
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, not "${process.env.PORT}"`);
  const host = process.env.HOST ?? '0.0.0.0';
  const logger: LogLevel[] = process.env.FLUSH_SAMPLE_DEBUG
    ? ['log', 'warn', 'error', 'debug']
    : ['log', 'warn', 'error'];

  const adapter = adapterName === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger });
  // SIGTERM/SIGINT → app.close(): nestjs-flush ends open streams at once (with a jittered
  // retry hint), so the process exits promptly instead of waiting for every browser tab.
  app.enableShutdownHooks();
  setupDocs(app);
  await app.listen(port, host);

  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  new Logger('Sample').log(`nestjs-flush demo (${adapterName}) on http://${shown}:${port}`);
}

bootstrap().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
