import type { FlushHistoryOptions } from '../flush-option.rules.js';
import {
  compareEventIds,
  FLUSH_FIRST_EVENT_ID,
  isEventId,
  type FlushPublishStorage,
  type FlushGapState,
  type FlushReplayResult,
  type FlushTransport,
  type FlushTransportEvent,
  type FlushTransportHealth,
  type FlushTransportMessage,
} from '../broadcast/flush-transport.interface.js';
import type { RedisClientLike } from './redis-client.interface.js';
import type { FlushControlPlane } from '../broadcast/flush-control-plane.interface.js';
import { RedisConnections } from './redis-connections.js';
import { RedisFlushControlPlane } from './redis-control-plane.js';
import {
  decodeEntry,
  decodeMessage,
  decodeReplayReply,
  encodeEntry,
  toTransportEvent,
} from './redis-event.codec.js';
import {
  PUBLISH_SCRIPT,
  REPLAY_SCRIPT,
  runScript,
  SHARDED_PUBLISH_SCRIPT,
  type LuaScript,
} from './redis.scripts.js';
import { clusterKey } from './redis-cluster.slot.js';
import { RedisSubscriptions } from './redis-subscriptions.js';
import { RedisFlushTransportError, toTransportError } from './redis-transport.error.js';
import {
  historyKeyTtl,
  resolveRedisTransportOptions,
  type RedisFlushTransportOptions,
  type ResolvedRedisTransportOptions,
} from './redis-transport.options.js';

export { RedisFlushTransportError } from './redis-transport.error.js';
export type { RedisFlushTransportOptions } from './redis-transport.options.js';

/**
 * FlushHub transport for many instances: every channel is a Redis Stream (the history, with
 * Redis-assigned `<ms>-<seq>` ids that are ordered across instances) and a Pub/Sub channel (the
 * live fan-out). Each instance subscribes only to the channels it has local listeners for.
 *
 * - Publishing runs one Lua script (XADD + trim + PUBLISH): atomic, one round trip.
 * - Resume (`replay`) is exact: `ok` iff the client's id is still an entry of the stream (or is
 *   its newest id), so nothing after it can have been trimmed; otherwise `resync`.
 * - While Redis is unreachable, `publish`, `subscribe` and `replay` reject at once with a
 *   `RedisFlushTransportError` (`unavailable: true`; no queueing; FlushHub answers 503); nothing
 *   crashes. The outage is logged once when it starts (warn) and once when it ends (log), not
 *   per request or per reconnect attempt.
 * - Gaps: when the subscriber connection drops, the transport reports a gap `open` for every
 *   channel with listeners at once; once it has re-subscribed **and** the publisher connection is
 *   ready too (they come back in any order), it reports the gap `closed`, and FlushHub refills
 *   what was missed from the streams (or sends `resync`).
 * - On a Redis Cluster (`cluster`, or two ioredis `Cluster` clients; Redis >= 7): a channel's
 *   stream and shard channel are `{<keyPrefix><channel>}` (one slot), events are announced with
 *   `SPUBLISH` and received through sharded subscribers (`SSUBSCRIBE`, one connection per master).
 *   When a master is lost or a slot moves, the channels it served report a gap `open`, are
 *   subscribed again on their new master, then report it `closed` (refill, or `resync`).
 *
 * ioredis is an optional peer dependency, loaded only when the transport creates connections:
 * at bootstrap (`init()`, awaited by FlushHub), so a missing ioredis fails the startup.
 * @example
 * FlushModule.forRoot({ transport: new RedisFlushTransport({ url: process.env.REDIS_URL }) });
 * @example
 * new RedisFlushTransport({ cluster: [{ host: '10.0.0.1', port: 6379 }] }); // a Redis Cluster
 * @publicApi
 */
export class RedisFlushTransport implements FlushTransport {
  /**
   * Cross-instance messages, expiring leases and single-use values on Redis, through the
   * transport's two connections (keys `<keyPrefix>#control`, `<keyPrefix>#lease:<key>`,
   * `<keyPrefix>#once:<id>`). Needs Redis >= 6.2.
   */
  readonly control: FlushControlPlane;
  private readonly settings: ResolvedRedisTransportOptions;
  private historySize: number;
  private historyMaxAgeMs: number | false;
  private readonly connections: RedisConnections;
  private readonly subscriptions: RedisSubscriptions;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RedisFlushTransportOptions = {}) {
    this.settings = resolveRedisTransportOptions(options);
    this.historySize = this.settings.historySize;
    this.historyMaxAgeMs = this.settings.historyMaxAgeMs;
    const { logger, connectTimeoutMs, commandTimeoutMs, cluster } = this.settings;
    this.connections = new RedisConnections(
      options,
      { logger, connectTimeoutMs, cluster },
      {
        nodeLost: nodeKey => this.subscriptions.nodeLost(nodeKey),
        slotsRefreshed: () => this.subscriptions.slotsRefreshed(),
        subscriptionsLost: () => this.subscriptions.subscriptionsLost(),
        subscriberLost: () => this.subscriptions.subscriberLost(),
        subscriberBack: () => this.subscriptions.subscriberBack(),
        ready: () => this.subscriptions.ready(),
        message: (key, message) => this.subscriptions.message(key, message),
      },
    );
    this.subscriptions = new RedisSubscriptions(
      this.connections,
      logger,
      commandTimeoutMs,
      cluster,
    );
    this.control = new RedisFlushControlPlane(this.connections, this.subscriptions, {
      keyPrefix: this.settings.keyPrefix,
      commandTimeoutMs,
      cluster,
    });
  }

  /** Takes the module's history options, except those this transport was given itself. */
  useHistoryDefaults(history: FlushHistoryOptions): void {
    this.historySize = this.options.historySize ?? history.historySize;
    this.historyMaxAgeMs = this.options.historyMaxAgeMs ?? history.historyMaxAgeMs;
  }

  /**
   * Loads ioredis when the transport creates its own connections (no `publisher`/`subscriber`
   * given), without connecting. FlushHub awaits it at bootstrap, so a missing ioredis fails the
   * application's startup with a message saying what to do, not its first publish.
   */
  async init(): Promise<void> {
    await this.connections.init();
    // Connect in the background from bootstrap on, so the first requests know at once whether
    // Redis is there (503 while it is not) instead of each waiting for a first connection.
    this.connections.connection('connect').catch(() => undefined);
  }

  /**
   * Connects now instead of on first use (loads ioredis if needed) and waits, at most
   * `connectTimeoutMs`, for both connections to be ready.
   */
  async connect(): Promise<void> {
    await this.connections.connection('connect');
  }

  async publish(
    channel: string,
    message: FlushTransportMessage,
    storage: FlushPublishStorage = {},
  ): Promise<FlushTransportEvent> {
    const { pub } = await this.connections.connection('publish');
    this.connections.assertReady(pub, `publish to channel "${channel}"`);
    const key = this.key(channel);
    // A channel with its own history size (a run) keeps it whole: no age limit.
    const maxAge =
      this.historyMaxAgeMs === false || storage.historySize !== undefined
        ? ''
        : String(this.historyMaxAgeMs);
    let id: unknown;
    try {
      const script = this.settings.cluster ? SHARDED_PUBLISH_SCRIPT : PUBLISH_SCRIPT;
      id = await this.run(pub.client, script, key, [
        this.settings.trimOperator,
        storage.historySize ?? this.historySize,
        maxAge,
        key,
        encodeEntry(message),
        storage.expireMs !== undefined
          ? String(storage.expireMs)
          : historyKeyTtl(this.settings.keyTtlMs, this.historyMaxAgeMs),
      ]);
    } catch (err) {
      throw toTransportError(`Publishing to channel "${channel}" failed`, err);
    }
    if (typeof id !== 'string') {
      throw new RedisFlushTransportError(
        `Publishing to channel "${channel}": unexpected reply from Redis.`,
        { unavailable: false },
      );
    }
    return toTransportEvent(id, message);
  }

  async subscribe(
    channel: string,
    listener: (event: FlushTransportEvent) => void,
  ): Promise<() => Promise<void>> {
    const { sub } = await this.connections.connection('subscribe');
    this.connections.assertReady(sub, `subscribe to channel "${channel}"`);
    const key = this.key(channel);
    return this.subscriptions.add(channel, key, message => {
      const event = decodeMessage(message);
      if (event) listener(event);
      else this.settings.logger.warn(`Ignored a malformed message on the Redis channel "${key}".`);
    });
  }

  async replay(channel: string, lastEventId: string): Promise<FlushReplayResult> {
    const { pub } = await this.connections.connection('replay');
    this.connections.assertReady(pub, `read the history of channel "${channel}"`);
    const valid = isEventId(lastEventId);
    let raw: unknown;
    try {
      raw = await this.run(pub.client, REPLAY_SCRIPT, this.key(channel), [
        valid ? lastEventId : '',
      ]);
    } catch (err) {
      throw toTransportError(`Reading the history of channel "${channel}" failed`, err);
    }
    const whole = lastEventId === FLUSH_FIRST_EVENT_ID;
    const reply = decodeReplayReply(raw);
    // No stream: nothing published, or expired.
    if (!reply) return whole ? { status: 'ok', events: [] } : { status: 'resync' };
    const { lastId, entries } = reply;
    const resync: FlushReplayResult =
      lastId === undefined ? { status: 'resync' } : { status: 'resync', lastId };
    if (!valid) return resync;
    if (entries && whole) return { status: 'ok', events: this.decodeEntries(channel, entries) };
    if (entries) {
      // entries[0] is lastEventId itself: the client's position is retained, so every later
      // event is too (trimming only removes from the head).
      return { status: 'ok', events: this.decodeEntries(channel, entries.slice(1)) };
    }
    // Not in the stream: fine only when it is the newest id (its entry may have been trimmed).
    if (lastId !== undefined && compareEventIds(lastEventId, lastId) === 0)
      return { status: 'ok', events: [] };
    return resync; // trimmed, never existed, or from the future (e.g. Redis lost its data)
  }

  onGap(listener: (channel: string, state: FlushGapState) => void): void {
    this.subscriptions.onGap(listener);
  }

  health(): FlushTransportHealth {
    return this.connections.health();
  }

  /**
   * Quits the connections the transport created (bounded: after 1 s they are dropped) and
   * detaches from clients that were passed in, leaving them open. Never hangs.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.connections.markClosed();
    this.subscriptions.stopRetrying();
    this.closing = (async () => {
      await this.connections.release(() => this.subscriptions.subscribedKeys());
      this.subscriptions.clear();
    })();
    return this.closing;
  }

  /** The stream key and (Sharded) Pub/Sub channel of a channel; hash-tagged on a cluster. */
  private key(channel: string): string {
    const { keyPrefix, cluster } = this.settings;
    return cluster ? clusterKey(keyPrefix, channel) : keyPrefix + channel;
  }

  /** A script on one key, bounded by `commandTimeoutMs`. */
  private run(
    client: RedisClientLike,
    script: LuaScript,
    key: string,
    args: (string | number)[],
  ): Promise<unknown> {
    return runScript(client, script, key, args, this.settings.commandTimeoutMs);
  }

  private decodeEntries(channel: string, entries: readonly unknown[]): FlushTransportEvent[] {
    const events: FlushTransportEvent[] = [];
    for (const entry of entries) {
      const event = decodeEntry(entry);
      if (event) events.push(event);
      else
        this.settings.logger.warn(
          `Skipped a malformed entry in the stream of channel "${channel}".`,
        );
    }
    return events;
  }
}
