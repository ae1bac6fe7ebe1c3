// README "Hub guarantees" examples: a server-internal stream that skips the authorize rules, and
// the Redis transport with ioredis options (built, not connected: the type-check is the test).
import { Controller, Module, Sse, type MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { FlushHub, FlushModule } from 'nestjs-flush';
import { RedisFlushTransport } from 'nestjs-flush/redis';

@Controller()
export class JobsController {
  constructor(private readonly hub: FlushHub) {}

  @Sse('jobs/done')
  done(): Observable<MessageEvent> {
    return this.hub.stream('jobs:done', { skipAuthorization: true }); // server-internal: no client request to check
  }
}

@Module({
  imports: [
    FlushModule.forRoot({
      transport: new RedisFlushTransport({
        url: process.env.REDIS_URL, // redis:// or rediss://
        // Passed to ioredis for both connections the transport creates. TLS, credentials, db,
        // retryStrategy, timeouts… connectionName names them `<name>:publisher` / `<name>:subscriber`
        // in CLIENT LIST (default `nestjs-flush`).
        redisOptions: { tls: {}, password: process.env.REDIS_PASSWORD, connectionName: 'api' },
      }),
    }),
  ],
  controllers: [JobsController],
})
export class JobsModule {}
