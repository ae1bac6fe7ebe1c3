import { expect } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { FlushModule } from '../src/index.js';
import { RedisFlushTransport } from '../src/redis.js';
import { FlushHealthIndicator } from '../src/terminus.js';
import { baseUrl } from '../src/testing/index.js';
import { platforms, startApp } from './utils/platforms.js';
import { describeWithRedis, freePort, startRedis, stopRedis } from './utils/redis-server.js';
import { waitFor } from './utils/wait.js';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly flush: FlushHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.flush.isHealthy('flush')]);
  }
}

/** The health module as terminus' docs shape it: TerminusModule, the indicator in providers. */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [FlushHealthIndicator],
})
class HealthModule {}

const health = async (app: INestApplication) => {
  const res = await fetch(`${baseUrl(app)}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe.each(platforms)('FlushHealthIndicator, in memory (%s)', platform => {
  it('is up with the in-memory transport', async () => {
    const app = await startApp(platform, [FlushModule.forRoot(), HealthModule]);
    try {
      expect(await health(app)).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'ok',
          info: { flush: { status: 'up', transport: 'InMemoryFlushTransport' } },
        }),
      });
    } finally {
      await app.close();
    }
  });
});

describeWithRedis('The terminus suite').each(platforms)(
  'FlushHealthIndicator on Redis (%s)',
  platform => {
    let server: ChildProcess | undefined;
    let app: INestApplication;
    let port: number;

    beforeAll(async () => {
      port = await freePort();
      server = await startRedis(port);
      const transport = new RedisFlushTransport({
        url: `redis://127.0.0.1:${port}`,
        keyPrefix: `flush-health:${randomUUID()}:`,
        commandTimeoutMs: 1000,
        redisOptions: { retryStrategy: () => 100 },
        logger: false,
      });
      const booted = Date.now();
      app = await startApp(platform, [FlushModule.forRoot({ transport }), HealthModule]);
      // Up within 5 s of boot when Redis answers.
      await waitFor(async () => (await health(app)).status === 200, 'up after boot', 5000, 50);
      expect(Date.now() - booted).toBeLessThan(5000);
    }, 20_000);

    afterAll(async () => {
      await app?.close();
      if (server) await stopRedis(server);
    });

    it('goes down within 2 s of Redis going away, and up again once it returns', async () => {
      expect(await health(app)).toEqual({
        status: 200,
        body: expect.objectContaining({
          info: { flush: expect.objectContaining({ status: 'up', connected: true }) },
        }),
      });

      await stopRedis(server!);
      server = undefined;
      const stopped = Date.now();
      await waitFor(async () => (await health(app)).status === 503, 'down', 2000, 20);
      const downAfterMs = Date.now() - stopped;
      expect(downAfterMs).toBeLessThan(2000);
      expect(await health(app)).toEqual({
        status: 503,
        body: expect.objectContaining({
          status: 'error',
          error: { flush: expect.objectContaining({ status: 'down', connected: false }) },
        }),
      });

      server = await startRedis(port);
      const restarted = Date.now();
      await waitFor(async () => (await health(app)).status === 200, 'up again', 10_000, 50);
      console.log(
        `terminus (${platform}): down ${downAfterMs} ms after SIGKILL, up ${Date.now() - restarted} ms after restart`,
      );
    }, 30_000);
  },
);
