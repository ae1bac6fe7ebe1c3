/**
 * The `nestjs-flush/redis` entry point: the Redis transport of FlushHub, for fan-out and
 * Last-Event-ID resume across instances. Needs the optional peer dependency `ioredis` when the
 * transport creates its own connections (`{ url }`); nothing here imports ioredis statically.
 * @example
 * import { RedisFlushTransport } from 'nestjs-flush/redis';
 * FlushModule.forRoot({ transport: new RedisFlushTransport({ url: process.env.REDIS_URL }) });
 * @publicApi
 */
export { RedisFlushTransport } from './redis/redis.transport.js';
export { RedisFlushTransportError } from './redis/redis-transport.error.js';
export type { RedisFlushTransportOptions } from './redis/redis-transport.options.js';
export type { RedisClientLike } from './redis/redis-client.interface.js';
export type { RedisClusterNode } from './redis/redis-cluster.js';
