import { Logger, type LoggerService } from '@nestjs/common';
import { FlushConfigurationError } from '../flush.errors.js';
import { INVALID_TRANSPORT_OPTION } from '../flush.messages.js';
import {
  checkOptions,
  HISTORY_DEFAULTS,
  OPTION_RULES,
  type OptionRule,
} from '../flush-option.rules.js';
import type { RedisClientLike } from './redis-client.interface.js';
import { isClusterClient, validateClusterOptions, type RedisClusterNode } from './redis-cluster.js';
import { noop } from './redis-transport.error.js';

/**
 * Options of `RedisFlushTransport`. Give either connection settings (`url`, `redisOptions`: the
 * transport loads ioredis and creates its two connections) or your own clients (`publisher`,
 * `subscriber`).
 * @publicApi
 */
export interface RedisFlushTransportOptions {
  /**
   * Redis URL, e.g. `redis://user:pass@127.0.0.1:6379/0`. Used when no clients are given.
   * @default ioredis' default (127.0.0.1:6379)
   */
  url?: string;
  /**
   * ioredis options (the `RedisOptions` object of `new Redis(url, options)`) for the two
   * connections the transport creates from `url`: TLS (`tls`), credentials (`username`,
   * `password`), `db`, `retryStrategy`, timeouts, and so on. Typed as `object` so that
   * nestjs-flush's types do not depend on ioredis.
   *
   * The transport always sets `lazyConnect: false`; on the publisher `enableOfflineQueue: false`
   * and `maxRetriesPerRequest: 0` (a publish fails at once instead of waiting for Redis); on the
   * subscriber `autoResubscribe: false` (the transport re-subscribes itself, then refills the
   * gap). It names the connections `<connectionName>:publisher` and `<connectionName>:subscriber`
   * (`CLIENT LIST`), with `connectionName` from here, `nestjs-flush` by default.
   * @example { tls: {}, password: process.env.REDIS_PASSWORD, retryStrategy: times => Math.min(times * 100, 2000) }
   */
  redisOptions?: object;
  /**
   * The startup nodes of a Redis Cluster (Redis >= 7): the transport creates two ioredis `Cluster`
   * clients, one for commands and one with sharded subscribers. Every key of a channel is in one
   * slot (hash tag `{<keyPrefix><channel>}`) and live events travel by sharded Pub/Sub
   * (`SPUBLISH`/`SSUBSCRIBE`), so each shard carries the traffic of its own channels.
   * `redisOptions` then applies to every node connection (`password`, `tls`, ...).
   * @example [{ host: '10.0.0.1', port: 6379 }, { host: '10.0.0.2', port: 6379 }]
   */
  cluster?: RedisClusterNode[];
  /**
   * ioredis `ClusterOptions` for the two Cluster clients created from `cluster` (`natMap`,
   * `slotsRefreshTimeout`, `dnsLookup`, ...). The transport sets `lazyConnect: false`, on the
   * publisher `enableOfflineQueue: false`, on the subscriber `shardedSubscribers: true`.
   */
  clusterOptions?: object;
  /**
   * Your client for commands (stream writes and reads, PUBLISH): an ioredis `Redis`, or an
   * ioredis `Cluster` (then `subscriber` must be a `Cluster` created with
   * `{ shardedSubscribers: true }`). With only `publisher`, the subscriber is created with
   * `publisher.duplicate()`. Clients you pass are not closed by
   * `close()`; connections the transport created are.
   */
  publisher?: RedisClientLike;
  /**
   * Your client for Pub/Sub: a dedicated connection (it enters subscriber mode), never the same
   * object as `publisher`. With only `subscriber`, the publisher is `subscriber.duplicate()`.
   */
  subscriber?: RedisClientLike;
  /**
   * Prefix of the stream keys and Pub/Sub channel names: channel `news` lives in the stream
   * `flush:news` and is announced on the Pub/Sub channel `flush:news`.
   * @default 'flush:'
   */
  keyPrefix?: string;
  /**
   * Events kept per channel (stream `MAXLEN`). @default the module's `historySize` (1000)
   */
  historySize?: number;
  /**
   * Maximum age of kept events in milliseconds (stream `MINID`, measured on the Redis clock).
   * `false`: no age limit. @default the module's `historyMaxAgeMs` (none)
   */
  historyMaxAgeMs?: number | false;
  /**
   * `approximate` (`MAXLEN ~`/`MINID ~`, the cheap Redis default) may keep up to one stream node
   * (~100 entries) more than asked; `exact` (`=`) keeps exactly `historySize`. Resume is exact
   * either way: it only decides whether the client's id is still in the stream.
   * @default 'approximate'
   */
  trimming?: 'approximate' | 'exact';
  /**
   * Expire a channel's stream (its history key) this long after its last publish (`PEXPIRE`),
   * so that per-user or per-order channels (`user:42`) do not pile up keys in Redis. A resume
   * after expiry yields a resync. `false`: keep every history key forever.
   * @default `historyMaxAgeMs` when set (older events are gone by then anyway), else one day
   */
  keyTtlMs?: number | false;
  /**
   * How long operations wait for the first connection to Redis while it is still being made
   * (the transport starts connecting at bootstrap). Once a connection attempt failed, and
   * whenever Redis is lost later, operations fail at once (503) instead. @default 3000
   */
  connectTimeoutMs?: number;
  /**
   * Bound on every Redis command the transport sends, in milliseconds. A publish that times out
   * rejects, though Redis may still have stored and announced it (at-least-once on retry).
   * @default 5000
   */
  commandTimeoutMs?: number;
  /**
   * Where connection losses, reconnects and errors are logged. `false` silences them.
   * @default a Nest `Logger` with the context `RedisFlushTransport`
   */
  logger?: Pick<LoggerService, 'log' | 'warn' | 'error'> | false;
}

/** Where `RedisFlushTransport` logs. @internal */
export type RedisTransportLogger = Pick<LoggerService, 'log' | 'warn' | 'error'>;

/** The options with their defaults applied, in the form the transport uses them. @internal */
export interface ResolvedRedisTransportOptions {
  readonly logger: RedisTransportLogger;
  readonly keyPrefix: string;
  /** The trim operator of `MAXLEN`/`MINID`: `~` (approximate) or `=` (exact). */
  readonly trimOperator: '~' | '=';
  /** `keyTtlMs` as given: undefined for the default (see `historyKeyTtl()`). */
  readonly keyTtlMs: number | false | undefined;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly historySize: number;
  readonly historyMaxAgeMs: number | false;
  /** A Redis Cluster: hash-tagged keys, sharded Pub/Sub. */
  readonly cluster: boolean;
}

/** Defaults of the options that have one. @internal */
export const REDIS_TRANSPORT_DEFAULTS = {
  keyPrefix: 'flush:',
  ...HISTORY_DEFAULTS,
  connectTimeoutMs: 3_000,
  /** History keys expire this long after their last publish when nothing else is said: a day. */
  keyTtlMs: 86_400_000,
  commandTimeoutMs: 5_000,
} as const;

/** The options checked by the rules shared with FlushModule and the in-memory transport. */
const REDIS_RULES: { readonly [K in keyof RedisFlushTransportOptions]?: OptionRule } = {
  historySize: OPTION_RULES.historySize,
  historyMaxAgeMs: OPTION_RULES.historyMaxAgeMs,
  keyTtlMs: OPTION_RULES.positiveMsOrFalse,
  connectTimeoutMs: OPTION_RULES.positiveMs,
  commandTimeoutMs: OPTION_RULES.positiveMs,
};

/** Throws a FlushConfigurationError for options that cannot work, at construction (bootstrap). */
const validate = (options: RedisFlushTransportOptions): void => {
  const fail = (option: string, got: unknown, expected: string): never => {
    throw new FlushConfigurationError(
      INVALID_TRANSPORT_OPTION('RedisFlushTransport', option, got, expected),
    );
  };
  if (typeof options !== 'object' || options === null) fail('options', options, 'an object');
  const { url, publisher, subscriber, keyPrefix } = options;
  if (url !== undefined && typeof url !== 'string')
    fail('url', url, 'a redis:// or rediss:// URL string');
  if (keyPrefix !== undefined && typeof keyPrefix !== 'string')
    fail('keyPrefix', keyPrefix, 'a string');
  checkOptions(options, REDIS_RULES, fail);
  validateClusterOptions(options);
  if (
    options.trimming !== undefined &&
    options.trimming !== 'approximate' &&
    options.trimming !== 'exact'
  ) {
    fail('trimming', options.trimming, "'approximate' or 'exact'");
  }
  if (
    options.redisOptions !== undefined &&
    (typeof options.redisOptions !== 'object' || options.redisOptions === null)
  ) {
    fail('redisOptions', options.redisOptions, 'an object of ioredis options');
  }
  if (publisher || subscriber) {
    if (url !== undefined || options.redisOptions !== undefined) {
      throw new FlushConfigurationError(
        'RedisFlushTransport: give either { url, redisOptions } or { publisher, subscriber }, not both.',
      );
    }
    if (publisher && publisher === subscriber) {
      throw new FlushConfigurationError(
        'RedisFlushTransport: publisher and subscriber must be two connections (a subscribed connection ' +
          'cannot run other commands); pass publisher.duplicate() as the subscriber, or only the publisher.',
      );
    }
    const given = publisher ?? subscriber;
    if ((!publisher || !subscriber) && typeof given?.duplicate !== 'function') {
      throw new FlushConfigurationError(
        `RedisFlushTransport: the ${publisher ? 'publisher' : 'subscriber'} client has no duplicate() ` +
          'to create the other connection; pass both { publisher, subscriber }.',
      );
    }
  }
};

/**
 * Validates `options` (a FlushConfigurationError for options that cannot work, at construction,
 * so at bootstrap) and applies the defaults. @internal
 */
export const resolveRedisTransportOptions = (
  options: RedisFlushTransportOptions,
): ResolvedRedisTransportOptions => {
  validate(options);
  return {
    logger:
      options.logger === false
        ? { log: noop, warn: noop, error: noop }
        : (options.logger ?? new Logger('RedisFlushTransport')),
    keyPrefix: options.keyPrefix ?? REDIS_TRANSPORT_DEFAULTS.keyPrefix,
    trimOperator: options.trimming === 'exact' ? '=' : '~',
    keyTtlMs: options.keyTtlMs,
    connectTimeoutMs: options.connectTimeoutMs ?? REDIS_TRANSPORT_DEFAULTS.connectTimeoutMs,
    commandTimeoutMs: options.commandTimeoutMs ?? REDIS_TRANSPORT_DEFAULTS.commandTimeoutMs,
    historySize: options.historySize ?? REDIS_TRANSPORT_DEFAULTS.historySize,
    historyMaxAgeMs: options.historyMaxAgeMs ?? REDIS_TRANSPORT_DEFAULTS.historyMaxAgeMs,
    cluster:
      options.cluster !== undefined || isClusterClient(options.publisher ?? options.subscriber),
  };
};

/**
 * The `PEXPIRE` argument of a channel's history key ('' for none): `keyTtlMs` when given, else
 * the history age when there is one, else a day. @internal
 */
export const historyKeyTtl = (
  keyTtlMs: number | false | undefined,
  historyMaxAgeMs: number | false,
): string => {
  if (keyTtlMs === false) return '';
  return String(
    keyTtlMs ?? (historyMaxAgeMs === false ? REDIS_TRANSPORT_DEFAULTS.keyTtlMs : historyMaxAgeMs),
  );
};
