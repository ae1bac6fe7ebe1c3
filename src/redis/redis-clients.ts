import type { RedisClientConstructor, RedisClientLike } from './redis-client.interface.js';
import { RedisFlushTransportError, messageOf } from './redis-transport.error.js';
import type { RedisFlushTransportOptions } from './redis-transport.options.js';

/** Which of the two connections. @internal */
export type RedisRole = 'publisher' | 'subscriber';

const NOT_INSTALLED = (reason: string) =>
  `RedisFlushTransport needs the optional peer dependency "ioredis" to connect with { url }: ` +
  `install it (npm install ioredis), or pass your own { publisher, subscriber } clients. (${reason})`;

/**
 * The ioredis `Redis` constructor, loaded on demand; a RedisFlushTransportError (not
 * `unavailable`) saying what to do when ioredis is not installed. @internal
 */
export const loadIoredis = async (): Promise<RedisClientConstructor> => {
  // A variable specifier: no static import, so ioredis stays optional for bundlers and types.
  const specifier = 'ioredis';
  let mod: { default?: unknown; Redis?: unknown };
  try {
    mod = (await import(specifier)) as { default?: unknown; Redis?: unknown };
  } catch (err) {
    throw new RedisFlushTransportError(NOT_INSTALLED(messageOf(err)), {
      cause: err,
      unavailable: false,
    });
  }
  const Redis = mod.Redis ?? mod.default;
  if (typeof Redis !== 'function')
    throw new RedisFlushTransportError(NOT_INSTALLED('no Redis export found'), {
      unavailable: false,
    });
  return Redis as RedisClientConstructor;
};

/**
 * The other connection of a client that was passed alone. The options were validated, so it has
 * `duplicate()`. @internal
 */
export const duplicateOf = (client: RedisClientLike): RedisClientLike => {
  if (typeof client.duplicate !== 'function')
    throw new RedisFlushTransportError('RedisFlushTransport: the client has no duplicate().', {
      unavailable: false,
    });
  return client.duplicate();
};

/** Options the transport forces on the connections it creates, per role. */
const FORCED: Record<RedisRole, object> = {
  publisher: { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 0 },
  subscriber: { lazyConnect: false, autoResubscribe: false },
};

/**
 * A connection the transport creates itself, from `url` and `redisOptions`, named
 * `<connectionName>:<role>`. @internal
 */
export const createClient = (
  Redis: RedisClientConstructor,
  options: RedisFlushTransportOptions,
  role: RedisRole,
): RedisClientLike => {
  // disconnectTimeout: ioredis keeps a (non-unref'd) timer this long when disconnect() meets
  // a socket that already failed, e.g. close() while Redis is down; keep shutdown prompt.
  const own = options.redisOptions as { connectionName?: unknown } | undefined;
  const name = typeof own?.connectionName === 'string' ? own.connectionName : 'nestjs-flush';
  const clientOptions = {
    disconnectTimeout: 200,
    ...options.redisOptions,
    ...FORCED[role],
    connectionName: `${name}:${role}`,
  };
  return options.url === undefined
    ? new Redis(clientOptions)
    : new Redis(options.url, clientOptions);
};
