import { jest } from '@jest/globals';
import { Module, type Type } from '@nestjs/common';
import { FlushHub, FlushModule } from '../src/index.js';
import { RedisFlushTransport, RedisFlushTransportError } from '../src/redis.js';
import type { RedisClientLike } from '../src/redis.js';
import { platforms, startApp } from './utils/platforms.js';

// ioredis is not installed, as far as this file's module graph can tell: importing it fails the
// way Node fails for a package that is not there.
jest.unstable_mockModule('ioredis', () => {
  throw Object.assign(new Error(`Cannot find package 'ioredis' imported from ${import.meta.url}`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
});

const appModule = (transport: RedisFlushTransport): Type => {
  @Module({ imports: [FlushModule.forRoot({ heartbeatIntervalMs: false, transport })] })
  class AppModule {}
  return AppModule;
};

describe.each(platforms)('RedisFlushTransport without ioredis installed (%s)', platform => {
  it('fails the bootstrap, not the first publish, with what to do', async () => {
    const transport = new RedisFlushTransport({ url: 'redis://127.0.0.1:6379' });
    const failure = await startApp(platform, [appModule(transport)]).then(
      async app => {
        await app.close(); // started anyway: the check did not run at bootstrap
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(RedisFlushTransportError);
    expect((failure as RedisFlushTransportError).unavailable).toBe(false); // not an outage: a setup error
    const message = (failure as Error).message;
    expect(message).toContain('RedisFlushTransport needs the optional peer dependency "ioredis"');
    expect(message).toContain('npm install ioredis');
    expect(message).toContain('{ publisher, subscriber }');
    expect(message).toContain("Cannot find package 'ioredis'");
    await transport.close();
  });

  it('needs no ioredis with clients of your own: the bootstrap succeeds', async () => {
    const client = () => ({ status: 'wait' }) as unknown as RedisClientLike;
    const transport = new RedisFlushTransport({ publisher: client(), subscriber: client() });
    const app = await startApp(platform, [appModule(transport)]);
    expect(app.get(FlushHub)).toBeInstanceOf(FlushHub);
    await app.close();
  });
});
