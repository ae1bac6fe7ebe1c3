import type { FlushTransportHealth } from '../broadcast/flush-transport.interface.js';
import type { RedisClientConstructor, RedisClientLike } from './redis-client.interface.js';
import { createClient, duplicateOf, loadIoredis, type RedisRole } from './redis-clients.js';
import {
  clusterSubscriberHandlers,
  createClusterClient,
  duplicateCluster,
  isClusterClient,
  loadIoredisCluster,
  type RedisClusterConstructor,
} from './redis-cluster.js';
import { RedisFlushTransportError, messageOf, noop, withTimeout } from './redis-transport.error.js';
import type {
  RedisFlushTransportOptions,
  RedisTransportLogger,
} from './redis-transport.options.js';

type ClientListener = Parameters<RedisClientLike['on']>[1];

/** One of the two connections and what the transport knows about it. @internal */
export interface RedisConnection {
  readonly role: RedisRole;
  readonly client: RedisClientLike;
  /** Created by the transport, so closed by it. */
  readonly owned: boolean;
  readonly handlers: [string, ClientListener][];
  everReady: boolean;
  /** Lost after having been ready, not back yet. */
  down: boolean;
  /** The last error since it was last ready (the reason of a loss). */
  errorSinceReady: string | undefined;
}

/** The publisher (commands) and the subscriber (Pub/Sub) connection. @internal */
export interface RedisConnectionPair {
  readonly pub: RedisConnection;
  readonly sub: RedisConnection;
}

/** What the connections tell the subscriptions. @internal */
export interface RedisConnectionEvents {
  /** The subscriber connection closed: Redis forgot its subscriptions. */
  subscriptionsLost(): void;
  /** The subscriber connection was lost after having been ready (once per loss). */
  subscriberLost(): void;
  /** The subscriber connection is ready again after a loss: subscribe again. */
  subscriberBack(): void;
  /** A connection became ready (other than the subscriber coming back). */
  ready(): void;
  /** A Pub/Sub message arrived on the subscriber connection. */
  message(key: unknown, message: unknown): void;
  /** Cluster: a node connection of the subscriber ended (`host:port`). */
  nodeLost?(nodeKey: string): void;
  /** Cluster: the subscriber refreshed its slot map. */
  slotsRefreshed?(): void;
}

/** Settings of the connections. @internal */
export interface RedisConnectionSettings {
  readonly logger: RedisTransportLogger;
  readonly connectTimeoutMs: number;
  /** A Redis Cluster: sharded Pub/Sub (SSUBSCRIBE / SUNSUBSCRIBE). */
  readonly cluster: boolean;
}

/** Bound on QUIT when closing. */
const CLOSE_TIMEOUT_MS = 1_000;

/** A promise with its settling functions. */
const deferred = () => {
  let resolve: () => void = noop;
  let reject: (err: Error) => void = noop;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(noop); // rejected on close; only callers that wait care
  return { promise, resolve, reject };
};

/**
 * The two connections of a RedisFlushTransport: created on first use (ioredis loaded when the
 * transport creates them), the first connection awaited with a bound, losses and returns tracked
 * and logged once per outage, and closed (owned) or detached from (passed in) at the end.
 * @internal
 */
export class RedisConnections {
  private opening: Promise<RedisConnectionPair> | undefined;
  private Redis: RedisClientConstructor | undefined;
  private Cluster: RedisClusterConstructor | undefined;
  private pair: RedisConnectionPair | undefined;
  private connectedOnce = false;
  private readonly firstConnect = deferred();
  /** Set while a connection that was ready is down (logged once at each end). */
  private outage: { since: number; lastError?: string } | undefined;
  private isClosed = false;
  /** Last connection error logged before the first connection (logged once per message). */
  private lastLoggedError: string | undefined;
  private reconnectCount = 0;
  private lastErrorMessage: string | undefined;

  constructor(
    private readonly options: RedisFlushTransportOptions,
    private readonly settings: RedisConnectionSettings,
    private readonly events: RedisConnectionEvents,
  ) {}

  /** Whether `markClosed()` was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The connections, once created. */
  get current(): RedisConnectionPair | undefined {
    return this.pair;
  }

  /** Loads ioredis when the transport creates its own connections, without connecting. */
  async init(): Promise<void> {
    if (this.options.publisher || this.options.subscriber) return;
    if (this.options.cluster) this.Cluster ??= await loadIoredisCluster();
    else this.Redis ??= await loadIoredis();
  }

  /** The connections, created on first use; waits for the very first connection (bounded). */
  async connection(operation: string): Promise<RedisConnectionPair> {
    if (this.isClosed)
      throw new RedisFlushTransportError(`Cannot ${operation}: RedisFlushTransport is closed.`);
    const pair = await (this.opening ??= this.open());
    if (!this.connectedOnce && this.lastErrorMessage !== undefined) {
      // Redis refused or failed already: answer now (503), not after connectTimeoutMs; the
      // clients keep retrying in the background.
      throw new RedisFlushTransportError(this.unreachable(operation));
    }
    if (!this.connectedOnce) {
      const { connectTimeoutMs } = this.settings;
      await withTimeout(
        this.firstConnect.promise,
        connectTimeoutMs,
        () =>
          `Cannot ${operation}: no connection to Redis within ${connectTimeoutMs} ms` +
          (this.lastErrorMessage ? ` (${this.lastErrorMessage})` : '') +
          '.',
      );
    }
    return pair;
  }

  /** Throws, without sending anything, unless the transport is open and `conn` is ready. */
  assertReady(conn: RedisConnection, operation: string): void {
    if (this.isClosed)
      throw new RedisFlushTransportError(`Cannot ${operation}: RedisFlushTransport is closed.`);
    if (conn.client.status !== 'ready')
      throw new RedisFlushTransportError(this.unavailable(operation));
  }

  /** The message of an operation refused before Redis was ever reached. */
  unreachable(operation: string): string {
    return (
      `Cannot ${operation}: Redis has not been reachable since startup (retrying)` +
      (this.lastErrorMessage ? `; last error: ${this.lastErrorMessage}` : '') +
      '.'
    );
  }

  /** The message of an operation refused while Redis is away. */
  unavailable(operation: string): string {
    return (
      `Cannot ${operation}: Redis is not connected (reconnecting)` +
      (this.lastErrorMessage ? `; last error: ${this.lastErrorMessage}` : '') +
      '.'
    );
  }

  /** Both connections exist and are ready. */
  bothReady(): boolean {
    const pair = this.pair;
    return pair?.pub.client.status === 'ready' && pair.sub.client.status === 'ready';
  }

  /** Ends the outage, if any, with one log line (`refilling`: channels whose gap closes now). */
  endOutage(refilling: number): void {
    if (!this.outage) return;
    const { since, lastError } = this.outage;
    this.outage = undefined;
    this.settings.logger.log(
      `Redis available again after ${Date.now() - since} ms` +
        (lastError === undefined ? '' : ` (last error: ${lastError})`) +
        (refilling > 0 ? `; refilling what ${refilling} channel(s) missed.` : '.'),
    );
  }

  health(): FlushTransportHealth {
    const connected = !this.isClosed && this.bothReady();
    // Still on the first attempt, with no error yet: callers wait (bounded) instead of failing.
    const connecting =
      !connected && !this.isClosed && !this.connectedOnce && !this.lastErrorMessage;
    return {
      connected,
      ...(connecting && { connecting }),
      ...(this.lastErrorMessage !== undefined && { lastError: this.lastErrorMessage }),
      reconnects: this.reconnectCount,
    };
  }

  /** Refuses every operation from now on; callers waiting for the first connection fail. */
  markClosed(): void {
    this.isClosed = true;
    this.firstConnect.reject(new RedisFlushTransportError('RedisFlushTransport was closed.'));
  }

  /**
   * Quits the owned connections (bounded), detaches from the others (unsubscribing them from
   * `subscribedKeys()`, read once the connections exist).
   */
  async release(subscribedKeys: () => string[]): Promise<void> {
    const pair = this.opening ? await this.opening.catch(() => undefined) : undefined;
    if (!pair) return;
    const keys = subscribedKeys();
    await Promise.all([this.releaseOne(pair.pub, []), this.releaseOne(pair.sub, keys)]);
  }

  private async open(): Promise<RedisConnectionPair> {
    const { publisher, subscriber } = this.options;
    let pub: RedisConnection;
    let sub: RedisConnection;
    if (publisher || subscriber) {
      // The options were validated: the missing one can be duplicated.
      const other = (client: RedisClientLike, role: RedisRole) =>
        isClusterClient(client) ? duplicateCluster(client, role) : duplicateOf(client);
      const p = publisher ?? (subscriber && other(subscriber, 'publisher'));
      const s = subscriber ?? (publisher && other(publisher, 'subscriber'));
      if (!p || !s) throw new RedisFlushTransportError('RedisFlushTransport: no client given.');
      pub = this.wire('publisher', p, !publisher);
      sub = this.wire('subscriber', s, !subscriber);
    } else if (this.options.cluster) {
      const Cluster = (this.Cluster ??= await loadIoredisCluster());
      if (this.isClosed)
        throw new RedisFlushTransportError('RedisFlushTransport was closed while connecting.');
      pub = this.wire('publisher', createClusterClient(Cluster, this.options, 'publisher'), true);
      sub = this.wire('subscriber', createClusterClient(Cluster, this.options, 'subscriber'), true);
    } else {
      const Redis = (this.Redis ??= await loadIoredis());
      if (this.isClosed)
        throw new RedisFlushTransportError('RedisFlushTransport was closed while connecting.');
      pub = this.wire('publisher', createClient(Redis, this.options, 'publisher'), true);
      sub = this.wire('subscriber', createClient(Redis, this.options, 'subscriber'), true);
    }
    const pair = { pub, sub };
    this.pair = pair;
    for (const conn of [pub, sub]) {
      if (conn.client.status === 'ready') this.onReady(conn);
      else if (conn.client.status === 'wait') conn.client.connect().catch(noop); // failures arrive as 'error' events
    }
    return pair;
  }

  private wire(role: RedisRole, client: RedisClientLike, owned: boolean): RedisConnection {
    const conn: RedisConnection = {
      role,
      client,
      owned,
      handlers: [],
      everReady: false,
      down: false,
      errorSinceReady: undefined,
    };
    conn.handlers.push(
      ['ready', () => this.onReady(conn)],
      ['close', () => this.onClose(conn)],
      ['end', () => this.onEnd(conn)],
      ['error', (err: unknown) => this.onError(conn, err)],
    );
    if (role === 'subscriber' && !this.settings.cluster) {
      conn.handlers.push([
        'message',
        (key: unknown, message: unknown) => this.events.message(key, message),
      ]);
    } else if (role === 'subscriber') {
      conn.handlers.push(...clusterSubscriberHandlers(this.events));
    }
    for (const [event, handler] of conn.handlers) client.on(event, handler);
    return conn;
  }

  private onReady(conn: RedisConnection): void {
    if (this.isClosed) return;
    const wasReady = conn.everReady;
    conn.everReady = true;
    conn.errorSinceReady = undefined;
    if (conn.down) {
      conn.down = false;
      this.reconnectCount++;
    }
    const pair = this.pair;
    if (!this.connectedOnce && pair?.pub.everReady && pair.sub.everReady) {
      this.connectedOnce = true;
      this.firstConnect.resolve();
      this.settings.logger.log('Connected to Redis.');
    }
    if (conn.role === 'subscriber' && wasReady) this.events.subscriberBack();
    else this.events.ready();
  }

  private onClose(conn: RedisConnection): void {
    // Redis forgets the subscriptions of a closed connection.
    if (conn.role === 'subscriber') this.events.subscriptionsLost();
    if (this.isClosed || !conn.everReady || conn.down) return;
    conn.down = true;
    // Before anything else: live events delivered from now on must not move FlushHub past the gap.
    if (conn.role === 'subscriber') this.events.subscriberLost();
    if (this.outage) return; // logged once per outage, whichever connection goes first
    this.outage = {
      since: Date.now(),
      ...(conn.errorSinceReady !== undefined && { lastError: conn.errorSinceReady }),
    };
    const reason = conn.errorSinceReady === undefined ? '' : ` (${conn.errorSinceReady})`;
    this.settings.logger.warn(
      `Redis unavailable: lost the ${conn.role} connection${reason}; reconnecting. Until it is back, ` +
        'publish() and new streams fail with 503 (Retry-After), and live events missed meanwhile ' +
        'are refilled from the streams afterwards (or a resync is sent).',
    );
  }

  private onEnd(conn: RedisConnection): void {
    if (this.isClosed) return;
    this.settings.logger.error(
      `The Redis ${conn.role} connection ended and will not reconnect (the client's retryStrategy gave up). ` +
        'Create a new transport or restart the application.',
    );
  }

  private onError(conn: RedisConnection, err: unknown): void {
    const message = messageOf(err);
    this.lastErrorMessage = `${conn.role}: ${message}`;
    conn.errorSinceReady = message;
    if (this.outage) this.outage.lastError = message;
    if (this.isClosed || conn.everReady) return; // after the first connection: the outage lines say it
    // Before the first connection: once per message, not per retry.
    if (this.lastLoggedError === message) return;
    this.lastLoggedError = message;
    this.settings.logger.warn(
      `Cannot connect to Redis (${conn.role}): ${message}; retrying. Until it connects, ` +
        'publish() and every new stream answer 503 with Retry-After at once.',
    );
  }

  private async releaseOne(conn: RedisConnection, subscribedKeys: string[]): Promise<void> {
    const { client } = conn;
    if (conn.owned) {
      if (client.status === 'ready') {
        await withTimeout(client.quit(), CLOSE_TIMEOUT_MS, () => 'QUIT timed out').catch(noop);
      }
      // Stops reconnect timers in every other state. (Not after a completed QUIT: ioredis would
      // arm its disconnectTimeout timer for a socket that has already closed.)
      if (client.status !== 'end') client.disconnect();
      for (const [event, handler] of conn.handlers) client.removeListener(event, handler);
      client.on('error', noop); // a late socket error must not become an unhandled 'error' event
      return;
    }
    if (subscribedKeys.length > 0 && client.status === 'ready') {
      // Sharded: one SUNSUBSCRIBE per key (ioredis routes each by its slot).
      const sunsubscribe = client.sunsubscribe?.bind(client);
      const unsubscribing =
        this.settings.cluster && sunsubscribe
          ? Promise.all(subscribedKeys.map(key => sunsubscribe(key)))
          : client.unsubscribe(...subscribedKeys);
      await withTimeout(unsubscribing, CLOSE_TIMEOUT_MS, () => 'UNSUBSCRIBE timed out').catch(noop);
    }
    for (const [event, handler] of conn.handlers) client.removeListener(event, handler);
  }
}
