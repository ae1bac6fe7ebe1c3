import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { isTransportUnavailable } from '../src/broadcast/flush-transport.interface.js';
import { RedisFlushTransport } from '../src/redis/redis.transport.js';
import { describeControlPlaneContract } from './utils/control-plane.conformance.js';
import { recordingLogger } from './utils/logger.js';
import {
  describeWithRedis,
  freePort,
  REDIS_URL,
  startRedis,
  stopRedis,
} from './utils/redis-server.js';
import { waitFor } from './utils/wait.js';

const describeRedis = describeWithRedis('The Redis control plane suite');

describeRedis('RedisFlushTransport.control', () => {
  const prefix = `flush-control:${randomUUID()}:`;
  // Two instances of one deployment: two transports on one Redis, same key prefix.
  const a = new RedisFlushTransport({ url: REDIS_URL, keyPrefix: prefix, logger: false });
  const b = new RedisFlushTransport({ url: REDIS_URL, keyPrefix: prefix, logger: false });
  let admin: Redis;

  beforeAll(async () => {
    admin = new Redis(REDIS_URL!);
    await Promise.all([a.connect(), b.connect()]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  describeControlPlaneContract('Redis, two instances', () => ({ a: a.control, b: b.control }));

  describe('keys', () => {
    it('keeps leases in a sorted set per key that expires with its latest lease, on the Redis clock', async () => {
      await a.control.acquire('user:1', 'stream-1', 3, 30_000);
      const key = `${prefix}#lease:user:1`;
      expect(await admin.type(key)).toBe('zset');
      const [, score] = await admin.zrange(key, '0', '-1', 'WITHSCORES');
      const [seconds] = await admin.time();
      expect(Number(score) - Number(seconds) * 1000).toBeGreaterThan(29_000);
      expect(await admin.pttl(key)).toBeGreaterThan(29_000);
      await a.control.release('user:1', 'stream-1');
      expect(await admin.exists(key)).toBe(0);
    });

    it('keeps single-use values as strings with a TTL, deleted when taken', async () => {
      await a.control.put('t1', 'v', 30_000);
      const key = `${prefix}#once:t1`;
      expect(await admin.get(key)).toBe('v');
      expect(await admin.pttl(key)).toBeGreaterThan(29_000);
      await b.control.take('t1');
      expect(await admin.exists(key)).toBe(0);
    });

    it('broadcasts on the Pub/Sub channel <prefix>#control, subscribed only while listened to', async () => {
      const off = await a.control.listen(() => undefined);
      expect(await admin.pubsub('CHANNELS', `${prefix}#control`)).toEqual([`${prefix}#control`]);
      await off();
      expect(await admin.pubsub('CHANNELS', `${prefix}#control`)).toEqual([]);
    });
  });
});

describeRedis('RedisFlushTransport.control through a Redis restart', () => {
  let port: number;
  let server: ChildProcess | undefined;
  let transport: RedisFlushTransport;
  let other: RedisFlushTransport;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    port = await freePort();
    server = await startRedis(port);
    const options = {
      url: `redis://127.0.0.1:${port}`,
      commandTimeoutMs: 1000,
      redisOptions: { retryStrategy: () => 50 },
    };
    transport = new RedisFlushTransport({ ...options, logger: recordingLogger() });
    other = new RedisFlushTransport({ ...options, logger: recordingLogger() });
    await Promise.all([transport.connect(), other.connect()]);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await Promise.all([transport?.close(), other?.close()]);
    if (server) await stopRedis(server);
  });

  it('rejects every call with `unavailable` while Redis is down, and its listeners hear broadcasts once it is back', async () => {
    const got: string[] = [];
    await transport.control.listen(m => got.push(m));
    await other.control.broadcast('before');
    await waitFor(() => got.includes('before'), 'the broadcast before the restart');

    await stopRedis(server!);
    server = undefined;
    await waitFor(() => !transport.health().connected, 'the disconnect');
    const calls: Promise<unknown>[] = [
      transport.control.broadcast('down'),
      transport.control.listen(() => undefined),
      transport.control.acquire('k', 'h', 1, 1000),
      transport.control.renew([{ key: 'k', holder: 'h' }], 1000),
      transport.control.release('k', 'h'),
      transport.control.count('k'),
      transport.control.put('id', 'v', 1000),
      transport.control.take('id'),
    ];
    for (const result of await Promise.allSettled(calls)) {
      expect(result.status).toBe('rejected');
      expect(isTransportUnavailable((result as PromiseRejectedResult).reason)).toBe(true);
    }

    server = await startRedis(port);
    await waitFor(
      () => transport.health().connected && other.health().connected,
      'both transports back',
      10_000,
    );
    // The listener's subscription is re-established by the transport; a broadcast that races
    // it is missed (not stored), so send until one arrives.
    await waitFor(
      async () => {
        await other.control.broadcast('after');
        return got.includes('after');
      },
      'a broadcast after the restart',
      10_000,
      100,
    );
    expect(await other.control.acquire('k', 'h', 1, 1000)).toBe(true);
    expect(unhandled).toEqual([]);
  });
});
