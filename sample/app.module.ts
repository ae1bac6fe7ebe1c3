import { Logger, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { FlushModule, type FlushModuleOptions } from 'nestjs-flush';
import { BoardModule } from './board/board.module.js';
import { ChatModule } from './chat/chat.module.js';
import { browserStreamKey } from './common/browser-key.js';
import { EnvelopeInterceptor } from './common/envelope.interceptor.js';
import { RequestLogInterceptor } from './common/request-log.interceptor.js';
import { TimeoutInterceptor } from './common/timeout.interceptor.js';
import { ExportModule } from './export/export.module.js';
import { HealthModule } from './health/health.module.js';
import { LlmModule } from './llm/llm.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { StaticModule } from './static/static.module.js';
import { StatsModule } from './stats/stats.module.js';
import { TickerModule } from './ticker/ticker.module.js';

/**
 * FlushModule options for the sample. With `REDIS_URL` set, FlushHub uses the Redis transport
 * (fan-out and resume across instances: start two and open the page on both); without it, the
 * in-memory default. `nestjs-flush/redis` (and ioredis) are loaded only when needed.
 * Streams are keyed by browser (a cookie the page sets, else the IP): the board's
 * `@FlushLimits({ maxStreamsPerKey: 3 })` counts the streams of one browser, all tabs together.
 */
export const flushOptions = async (
  env: NodeJS.ProcessEnv = process.env,
): Promise<FlushModuleOptions> => {
  const options: FlushModuleOptions = {
    heartbeatIntervalMs: 15000,
    historySize: 1000,
    streamKey: browserStreamKey,
  };
  if (env.REDIS_URL) {
    const { RedisFlushTransport } = await import('nestjs-flush/redis');
    options.transport = new RedisFlushTransport({ url: env.REDIS_URL });
    new Logger('Sample').log(`FlushHub transport: Redis (${redact(env.REDIS_URL)})`);
  }
  return options;
};

/** A URL without its password, for logs. */
const redact = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'invalid URL';
  }
};

/**
 * The demo app. Two interceptors every real app has are registered globally on purpose, the
 * naive way: an envelope (`{ code, message, data }`) and a 5 s timeout. JSON routes stay
 * enveloped; the ticker, the chat stream, the order board, the LLM answer and the export stay
 * clean and open.
 */
@Module({
  imports: [
    FlushModule.forRootAsync({ useFactory: () => flushOptions() }),
    HealthModule,
    MetricsModule,
    TickerModule,
    ChatModule,
    BoardModule,
    LlmModule,
    ExportModule,
    StatsModule,
    StaticModule,
  ],
  providers: [
    { provide: APP_INTERCEPTOR, useClass: RequestLogInterceptor },
    { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
    { provide: APP_INTERCEPTOR, useClass: TimeoutInterceptor },
  ],
})
export class AppModule {}
