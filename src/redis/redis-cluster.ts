import { FlushConfigurationError } from '../flush.errors.js';
import type { RedisClientLike } from './redis-client.interface.js';
import type { RedisConnectionEvents } from './redis-connections.js';
import { keySlot } from './redis-cluster.slot.js';
import { RedisFlushTransportError, messageOf } from './redis-transport.error.js';
import type { RedisFlushTransportOptions } from './redis-transport.options.js';

/**
 * A startup node of a Redis Cluster: any of its nodes will do, the transport discovers the rest.
 * @publicApi
 */
export interface RedisClusterNode {
  host: string;
  port: number;
}

/** The ioredis `Cluster` constructor, as the transport calls it. @internal */
export type RedisClusterConstructor = new (
  nodes: RedisClusterNode[],
  options: object,
) => RedisClientLike;

/** What the transport reads of an ioredis `Cluster` beyond `RedisClientLike`. @internal */
interface ClusterInternals {
  readonly options?: { shardedSubscribers?: unknown };
  /** Slot -> node keys (`host:port`), the master first. */
  readonly slots?: readonly (readonly string[] | undefined)[];
  duplicate?(nodes?: RedisClusterNode[], options?: object): RedisClientLike;
}

/** The Cluster-only members of a client (absent on other clients: they are all optional). */
const internalsOf = (client: RedisClientLike | undefined): ClusterInternals | undefined => client;

/** Whether `client` is an ioredis `Cluster` (or a client that says it is one). @internal */
export const isClusterClient = (client: RedisClientLike | undefined): boolean =>
  client?.isCluster === true;

const NOT_INSTALLED = (reason: string) =>
  `RedisFlushTransport needs the optional peer dependency "ioredis" (>= 5.5, for sharded Pub/Sub) ` +
  `to connect to a Redis Cluster with { cluster }: install it (npm install ioredis), or pass your own ` +
  `{ publisher, subscriber } Cluster clients. (${reason})`;

/** The ioredis `Cluster` constructor, loaded on demand. @internal */
export const loadIoredisCluster = async (): Promise<RedisClusterConstructor> => {
  const specifier = 'ioredis'; // a variable: no static import, ioredis stays optional
  let mod: { Cluster?: unknown; default?: { Cluster?: unknown } };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (err) {
    throw new RedisFlushTransportError(NOT_INSTALLED(messageOf(err)), {
      cause: err,
      unavailable: false,
    });
  }
  const Cluster = mod.Cluster ?? mod.default?.Cluster;
  if (typeof Cluster !== 'function')
    throw new RedisFlushTransportError(NOT_INSTALLED('no Cluster export found'), {
      unavailable: false,
    });
  return Cluster as RedisClusterConstructor;
};

/**
 * A Cluster client the transport creates itself from `cluster`, `clusterOptions` and
 * `redisOptions` (the options of every node connection). The publisher fails at once while the
 * cluster is not ready (no offline queue); the subscriber uses ioredis' sharded subscribers (one
 * connection per master, following slot moves and failovers). @internal
 */
export const createClusterClient = (
  Cluster: RedisClusterConstructor,
  options: RedisFlushTransportOptions,
  role: 'publisher' | 'subscriber',
): RedisClientLike => {
  const own = options.redisOptions as { connectionName?: unknown } | undefined;
  const name = typeof own?.connectionName === 'string' ? own.connectionName : 'nestjs-flush';
  const redisOptions = {
    disconnectTimeout: 200,
    ...options.redisOptions,
    connectionName: `${name}:${role}`,
    ...(role === 'publisher' && { maxRetriesPerRequest: 0 }),
  };
  return new Cluster(options.cluster ?? [], {
    ...options.clusterOptions,
    lazyConnect: false,
    redisOptions,
    ...(role === 'publisher' ? { enableOfflineQueue: false } : { shardedSubscribers: true }),
  });
};

/**
 * The other connection of a Cluster client passed alone: the subscriber gets sharded
 * subscribers. @internal
 */
export const duplicateCluster = (
  client: RedisClientLike,
  role: 'publisher' | 'subscriber',
): RedisClientLike => {
  const cluster = internalsOf(client);
  if (typeof cluster?.duplicate !== 'function')
    throw new RedisFlushTransportError('RedisFlushTransport: the Cluster has no duplicate().', {
      unavailable: false,
    });
  return cluster.duplicate([], { shardedSubscribers: role === 'subscriber' });
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener arguments vary per event
type Handler = [string, (...args: any[]) => void];

/**
 * The listeners of a subscriber Cluster: shard messages (`smessage`); the end of one master's
 * sharded subscriber (`-node`, with its `host:port`; the pool's own `-node` has one argument, the
 * node's connection) and slot map refreshes, which tell which subscriptions to renew. @internal
 */
export const clusterSubscriberHandlers = (events: RedisConnectionEvents): Handler[] => [
  ['smessage', (key: unknown, message: unknown) => events.message(key, message)],
  ['-node', (node: unknown, nodeKey: unknown) => events.nodeLost?.(nodeKeyOf(node, nodeKey))],
  ['refresh', () => events.slotsRefreshed?.()],
];

/** `host:port` of a node from ioredis' `-node` arguments. */
const nodeKeyOf = (node: unknown, nodeKey: unknown): string => {
  if (typeof nodeKey === 'string') return nodeKey;
  const options = (node as { options?: { host?: unknown; port?: unknown } } | null)?.options;
  return `${String(options?.host)}:${String(options?.port)}`;
};

const FAIL = (what: string) => new FlushConfigurationError(`RedisFlushTransport: ${what}`);

/** Bootstrap checks of the cluster options (with a message saying what to do). @internal */
export const validateClusterOptions = (options: RedisFlushTransportOptions): void => {
  const { cluster, clusterOptions, publisher, subscriber, url, keyPrefix } = options;
  if (clusterOptions !== undefined && (typeof clusterOptions !== 'object' || !clusterOptions))
    throw FAIL('"clusterOptions" must be an object of ioredis ClusterOptions.');
  if (cluster !== undefined) {
    if (!Array.isArray(cluster) || cluster.length === 0) {
      throw FAIL(
        `"cluster" must be a non-empty array of startup nodes, e.g. [{ host: '10.0.0.1', port: 6379 }]; received ${describe(cluster)}.`,
      );
    }
    cluster.forEach((node: unknown, i) => {
      const { host, port } = (node ?? {}) as { host?: unknown; port?: unknown };
      if (typeof host !== 'string' || host === '' || !Number.isInteger(port))
        throw FAIL(
          `cluster[${i}] must be { host: string, port: number }, e.g. { host: '127.0.0.1', port: 7000 }; received ${describe(node)}.`,
        );
      if ((port as number) < 1 || (port as number) > 65535)
        throw FAIL(`cluster[${i}].port must be between 1 and 65535; received ${String(port)}.`);
    });
    if (url !== undefined || publisher || subscriber)
      throw FAIL(
        'give one of { cluster }, { url } or { publisher, subscriber }: "cluster" creates its own Cluster clients.',
      );
  } else if (clusterOptions !== undefined) {
    throw FAIL('"clusterOptions" needs "cluster" (the startup nodes of the Redis Cluster).');
  }
  const given = [publisher, subscriber].filter(c => c !== undefined);
  const clusters = given.filter(isClusterClient).length;
  if (clusters > 0 && clusters < given.length)
    throw FAIL(
      'publisher and subscriber must both be ioredis Cluster clients, or both plain Redis clients.',
    );
  const sub = internalsOf(subscriber);
  if (clusters > 0 && sub && sub.options?.shardedSubscribers !== true)
    throw FAIL(
      'the subscriber Cluster needs sharded Pub/Sub: create it with new Cluster(nodes, { shardedSubscribers: true }) (ioredis >= 5.5).',
    );
  if ((cluster !== undefined || clusters > 0) && /[{}]/.test(keyPrefix ?? ''))
    throw FAIL(
      `on a Redis Cluster "keyPrefix" must not contain "{" or "}" (the transport puts each channel in a hash tag of its own); received ${JSON.stringify(keyPrefix)}.`,
    );
};

const describe = (value: unknown): string => {
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
};

/**
 * Which master serves each subscribed key, as the subscriber Cluster last saw it: after a slots
 * refresh, the keys whose master changed (a failover, a slot move) lost their subscription there
 * and are subscribed again on the new master. @internal
 */
export class RedisShardOwners {
  private readonly owners = new Map<string, string | undefined>();

  constructor(private readonly client: () => RedisClientLike | undefined) {}

  /** Remembers the master of `key` now (after a confirmed SSUBSCRIBE). */
  record(key: string): void {
    this.owners.set(key, this.ownerOf(key));
  }

  forget(key: string): void {
    this.owners.delete(key);
  }

  /** The keys served by `nodeKey` (`host:port`), e.g. when its connection ended. */
  servedBy(nodeKey: string): string[] {
    return [...this.owners].filter(([, owner]) => owner === nodeKey).map(([key]) => key);
  }

  /** The keys whose master is not the one they were subscribed on. */
  moved(): string[] {
    return [...this.owners].filter(([key, owner]) => this.ownerOf(key) !== owner).map(([k]) => k);
  }

  private ownerOf(key: string): string | undefined {
    const cluster = internalsOf(this.client());
    return cluster?.slots?.[keySlot(key)]?.[0];
  }
}
