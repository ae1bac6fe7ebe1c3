import { createHash } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { FlushConfigurationError, FlushError } from '../../flush.errors.js';
import {
  compareEventIds,
  isEventId,
  type FlushGapState,
  type FlushReplayResult,
  type FlushTransport,
  type FlushTransportEvent,
  type FlushTransportHealth,
} from '../flush-transport.interface.js';
import type { RedisClientConstructor, RedisClientLike } from './redis-client.interface.js';

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
   * Your client for commands (stream writes and reads, PUBLISH). With only `publisher`, the
   * subscriber is created with `publisher.duplicate()`. Clients you pass are not closed by
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
   * Expire a channel's stream this long after its last publish (`PEXPIRE`), for apps with many
   * short-lived channels (`user:42`). A resume after expiry yields a resync. `false`: keep.
   * @default false
   */
  keyTtlMs?: number | false;
  /**
   * How long the first operation waits for the first connection to Redis. Later, while Redis is
   * unreachable, operations fail at once. @default 10000
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

/**
 * Thrown (as a rejection) by `RedisFlushTransport` when Redis cannot serve a request: not
 * connected, a command failed or timed out, or the transport is closed; and at bootstrap when
 * ioredis is needed but not installed.
 * @publicApi
 */
export class RedisFlushTransportError extends FlushError {
  /**
   * Whether Redis is merely unavailable now (not connected, reconnecting, timed out, closed), so
   * that a retry later may succeed: FlushHub answers such errors with a 503. `false` for errors
   * Redis answered itself (a command error) and for a missing ioredis.
   */
  readonly unavailable: boolean;

  constructor(message: string, options: { cause?: unknown; unavailable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.unavailable = options.unavailable ?? true;
  }
}

type Listener = (event: FlushTransportEvent) => void;
type Role = 'publisher' | 'subscriber';

/** One of the two connections and what the transport knows about it. */
interface Connection {
  readonly role: Role;
  readonly client: RedisClientLike;
  /** Created by the transport, so closed by it. */
  readonly owned: boolean;
  readonly handlers: [string, (...args: any[]) => void][]; // eslint-disable-line @typescript-eslint/no-explicit-any
  everReady: boolean;
  /** Lost after having been ready, not back yet. */
  down: boolean;
  /** The last error since it was last ready (the reason of a loss). */
  errorSinceReady: string | undefined;
}

/** The local side of one channel: its listeners and the state of its Redis subscription. */
interface ChannelState {
  readonly channel: string;
  readonly key: string;
  readonly listeners: Set<Listener>;
  /** SUBSCRIBE confirmed and not undone (cleared when the subscriber connection closes). */
  subscribed: boolean;
  /** SUBSCRIBE/UNSUBSCRIBE run one after the other, per channel. */
  queue: Promise<void>;
  pending: number;
}

interface LuaScript {
  readonly text: string;
  readonly sha: string;
}

const lua = (text: string): LuaScript => ({
  text,
  sha: createHash('sha1').update(text).digest('hex'),
});

/**
 * Appends an event to the channel's stream (Redis assigns the id), trims the stream, and
 * announces the event with its id on Pub/Sub: atomic, one round trip, so Pub/Sub order is id
 * order on every instance.
 * KEYS[1] stream key. ARGV: 1 trim operator (`~` or `=`), 2 max length, 3 max age in ms or '',
 * 4 Pub/Sub channel, 5 the entry as JSON `{"event"?,"data"}`, 6 key TTL in ms or ''.
 */
const PUBLISH_SCRIPT = lua(`
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[2], '*', 'm', ARGV[5])
if ARGV[3] ~= '' then
  local cutoff = tonumber(string.match(id, '^(%d+)')) - tonumber(ARGV[3])
  if cutoff > 0 then
    redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1], string.format('%.0f', cutoff))
  end
end
if ARGV[6] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
redis.call('PUBLISH', ARGV[4], '{"id":"' .. id .. '",' .. string.sub(ARGV[5], 2))
return id
`);

/**
 * Reads what a resume needs, atomically: nil when the stream does not exist; otherwise
 * { last-generated-id } when ARGV[1] is '' or not an entry of the stream, and
 * { last-generated-id, entries from ARGV[1] on (inclusive) } when it is.
 * KEYS[1] stream key. ARGV[1] the client's last event id, or ''.
 */
const REPLAY_SCRIPT = lua(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last = false
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] break end
end
if ARGV[1] == '' then return { last } end
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return { last } end
return { last, redis.call('XRANGE', KEYS[1], ARGV[1], '+') }
`);

const DEFAULTS = {
  keyPrefix: 'flush:',
  historySize: 1000,
  historyMaxAgeMs: false as number | false,
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 5_000,
};

/** Bound on QUIT when closing. */
const CLOSE_TIMEOUT_MS = 1_000;

/** Delay before re-subscribing again the channels whose SUBSCRIBE failed after a reconnect. */
const RESUBSCRIBE_RETRY_MS = 1_000;

/** Redis error replies that mean "not now" rather than "never". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/;

const noop = (): void => undefined;
const messageOf = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)) || String(err);
const NOT_INSTALLED = (reason: string) =>
  `RedisFlushTransport needs the optional peer dependency "ioredis" to connect with { url }: ` +
  `install it (npm install ioredis), or pass your own { publisher, subscriber } clients. (${reason})`;
const INVALID = (option: string, got: unknown, expected: string) =>
  `RedisFlushTransport option "${option}" must be ${expected}; received ${JSON.stringify(got) ?? String(got)}.`;

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
 *
 * ioredis is an optional peer dependency, loaded only when the transport creates connections:
 * at bootstrap (`init()`, awaited by FlushHub), so a missing ioredis fails the startup.
 * @example
 * FlushModule.forRoot({ transport: new RedisFlushTransport({ url: process.env.REDIS_URL }) });
 * @publicApi
 */
export class RedisFlushTransport implements FlushTransport {
  private readonly logger: Pick<LoggerService, 'log' | 'warn' | 'error'>;
  private readonly keyPrefix: string;
  private readonly trimOperator: '~' | '=';
  private readonly keyTtl: string;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private historySize: number;
  private historyMaxAgeMs: number | false;

  private opening: Promise<{ pub: Connection; sub: Connection }> | undefined;
  private Redis: RedisClientConstructor | undefined;
  private conns: { pub: Connection; sub: Connection } | undefined;
  private connectedOnce = false;
  private readonly firstConnect: {
    promise: Promise<void>;
    resolve: () => void;
    reject: (err: Error) => void;
  };
  private readonly channels = new Map<string, ChannelState>();
  private readonly gapListeners = new Set<(channel: string, state: FlushGapState) => void>();
  /** Channels whose gap was reported `open` and not `closed` yet. */
  private readonly gapsOpen = new Set<ChannelState>();
  /** Re-subscriptions running after a reconnect. */
  private resubscribing = 0;
  private resubscribeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set while a connection that was ready is down (logged once at each end). */
  private outage: { since: number; lastError?: string } | undefined;
  private closed = false;
  /** Last connection error logged before the first connection (logged once per message). */
  private lastLoggedError: string | undefined;
  private closing: Promise<void> | undefined;
  private reconnectCount = 0;
  private lastError: string | undefined;

  constructor(private readonly options: RedisFlushTransportOptions = {}) {
    validate(options);
    this.logger =
      options.logger === false
        ? { log: noop, warn: noop, error: noop }
        : (options.logger ?? new Logger('RedisFlushTransport'));
    this.keyPrefix = options.keyPrefix ?? DEFAULTS.keyPrefix;
    this.trimOperator = options.trimming === 'exact' ? '=' : '~';
    this.keyTtl = options.keyTtlMs ? String(options.keyTtlMs) : '';
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs;
    this.historySize = options.historySize ?? DEFAULTS.historySize;
    this.historyMaxAgeMs = options.historyMaxAgeMs ?? DEFAULTS.historyMaxAgeMs;

    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(noop); // rejected on close; only callers that wait care
    this.firstConnect = { promise, resolve, reject };
  }

  /** Applies the module's history options unless this transport was given its own. @internal */
  configure(options: { historySize: number; historyMaxAgeMs: number | false }): void {
    this.historySize = this.options.historySize ?? options.historySize;
    this.historyMaxAgeMs = this.options.historyMaxAgeMs ?? options.historyMaxAgeMs;
  }

  /**
   * Loads ioredis when the transport creates its own connections (no `publisher`/`subscriber`
   * given), without connecting. FlushHub awaits it at bootstrap, so a missing ioredis fails the
   * application's startup with a message saying what to do, not its first publish.
   */
  async init(): Promise<void> {
    if (this.options.publisher || this.options.subscriber) return;
    this.Redis ??= await loadIoredis();
  }

  /**
   * Connects now instead of on first use (loads ioredis if needed) and waits, at most
   * `connectTimeoutMs`, for both connections to be ready.
   */
  async connect(): Promise<void> {
    await this.connection('connect');
  }

  async publish(
    channel: string,
    message: { event?: string; data: string },
  ): Promise<FlushTransportEvent> {
    const { pub } = await this.connection('publish');
    this.assertReady(pub, `publish to channel "${channel}"`);
    const key = this.key(channel);
    const entry = JSON.stringify(
      message.event === undefined
        ? { data: message.data }
        : { event: message.event, data: message.data },
    );
    const maxAge = this.historyMaxAgeMs === false ? '' : String(this.historyMaxAgeMs);
    let id: unknown;
    try {
      id = await this.run(pub.client, PUBLISH_SCRIPT, key, [
        this.trimOperator,
        this.historySize,
        maxAge,
        key,
        entry,
        this.keyTtl,
      ]);
    } catch (err) {
      throw this.failure(`Publishing to channel "${channel}" failed`, err);
    }
    if (typeof id !== 'string') {
      throw new RedisFlushTransportError(
        `Publishing to channel "${channel}": unexpected reply from Redis.`,
        { unavailable: false },
      );
    }
    return message.event === undefined
      ? { id, data: message.data }
      : { id, event: message.event, data: message.data };
  }

  async subscribe(channel: string, listener: Listener): Promise<() => Promise<void>> {
    const { sub } = await this.connection('subscribe');
    this.assertReady(sub, `subscribe to channel "${channel}"`);
    const key = this.key(channel);
    let state = this.channels.get(key);
    if (!state) {
      state = {
        channel,
        key,
        listeners: new Set(),
        subscribed: false,
        queue: Promise.resolve(),
        pending: 0,
      };
      this.channels.set(key, state);
    }
    const st = state;
    // A wrapper gives each subscription its own identity, also for the same function twice.
    const entry: Listener = event => listener(event);
    st.listeners.add(entry);
    try {
      await this.reconcile(st);
    } catch (err) {
      st.listeners.delete(entry);
      this.reconcile(st).catch(noop);
      throw this.failure(`Subscribing to channel "${channel}" failed`, err);
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      st.listeners.delete(entry);
      // Local delivery has stopped already; a failed UNSUBSCRIBE only leaves an idle
      // subscription behind (messages for it are ignored), so it is logged, not thrown.
      await this.reconcile(st).catch((err: unknown) =>
        this.logger.warn(`Unsubscribing from channel "${channel}" failed: ${messageOf(err)}`),
      );
    };
  }

  async replay(channel: string, lastEventId: string): Promise<FlushReplayResult> {
    const { pub } = await this.connection('replay');
    this.assertReady(pub, `read the history of channel "${channel}"`);
    const valid = isEventId(lastEventId);
    let reply: unknown;
    try {
      reply = await this.run(pub.client, REPLAY_SCRIPT, this.key(channel), [
        valid ? lastEventId : '',
      ]);
    } catch (err) {
      throw this.failure(`Reading the history of channel "${channel}" failed`, err);
    }
    if (!Array.isArray(reply)) return { status: 'resync' }; // no stream: nothing published, or expired
    const lastId = typeof reply[0] === 'string' ? reply[0] : undefined;
    const resync: FlushReplayResult =
      lastId === undefined ? { status: 'resync' } : { status: 'resync', lastId };
    if (!valid) return resync;
    const entries: unknown = reply[1];
    if (Array.isArray(entries)) {
      // entries[0] is lastEventId itself: the client's position is retained, so every later
      // event is too (trimming only removes from the head).
      return { status: 'ok', events: this.parseEntries(channel, entries.slice(1)) };
    }
    // Not in the stream: fine only when it is the newest id (its entry may have been trimmed).
    if (lastId !== undefined && compareEventIds(lastEventId, lastId) === 0)
      return { status: 'ok', events: [] };
    return resync; // trimmed, never existed, or from the future (e.g. Redis lost its data)
  }

  onGap(listener: (channel: string, state: FlushGapState) => void): void {
    this.gapListeners.add(listener);
  }

  health(): FlushTransportHealth {
    const connected =
      !this.closed &&
      this.conns !== undefined &&
      this.conns.pub.client.status === 'ready' &&
      this.conns.sub.client.status === 'ready';
    return this.lastError === undefined
      ? { connected, reconnects: this.reconnectCount }
      : { connected, lastError: this.lastError, reconnects: this.reconnectCount };
  }

  /**
   * Quits the connections the transport created (bounded: after 1 s they are dropped) and
   * detaches from clients that were passed in, leaving them open. Never hangs.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.firstConnect.reject(new RedisFlushTransportError('RedisFlushTransport was closed.'));
    clearTimeout(this.resubscribeTimer);
    this.closing = (async () => {
      const conns = this.opening ? await this.opening.catch(() => undefined) : undefined;
      if (conns) {
        const keys = [...this.channels.values()].filter(st => st.subscribed).map(st => st.key);
        await Promise.all([this.release(conns.pub, []), this.release(conns.sub, keys)]);
      }
      this.channels.clear();
      this.gapListeners.clear();
      this.gapsOpen.clear();
    })();
    return this.closing;
  }

  // --- connections --------------------------------------------------------------------------

  /** The connections, created on first use; waits for the very first connection (bounded). */
  private async connection(operation: string): Promise<{ pub: Connection; sub: Connection }> {
    if (this.closed)
      throw new RedisFlushTransportError(`Cannot ${operation}: RedisFlushTransport is closed.`);
    const conns = await (this.opening ??= this.open());
    if (!this.connectedOnce) {
      await this.timed(
        this.firstConnect.promise,
        this.connectTimeoutMs,
        () =>
          `Cannot ${operation}: no connection to Redis within ${this.connectTimeoutMs} ms` +
          (this.lastError ? ` (${this.lastError})` : '') +
          '.',
      );
    }
    return conns;
  }

  private async open(): Promise<{ pub: Connection; sub: Connection }> {
    const { publisher, subscriber } = this.options;
    let pub: Connection;
    let sub: Connection;
    if (publisher || subscriber) {
      // validate() made sure the missing one can be duplicated.
      const p = publisher ?? subscriber!.duplicate!();
      const s = subscriber ?? publisher!.duplicate!();
      pub = this.wire('publisher', p, !publisher);
      sub = this.wire('subscriber', s, !subscriber);
    } else {
      const Redis = (this.Redis ??= await loadIoredis());
      if (this.closed)
        throw new RedisFlushTransportError('RedisFlushTransport was closed while connecting.');
      const create = (role: Role, forced: object): RedisClientLike => {
        // disconnectTimeout: ioredis keeps a (non-unref'd) timer this long when disconnect() meets
        // a socket that already failed, e.g. close() while Redis is down; keep shutdown prompt.
        const own = this.options.redisOptions as { connectionName?: unknown } | undefined;
        const name = typeof own?.connectionName === 'string' ? own.connectionName : 'nestjs-flush';
        const options = {
          disconnectTimeout: 200,
          ...this.options.redisOptions,
          ...forced,
          connectionName: `${name}:${role}`,
        };
        return this.options.url === undefined
          ? new Redis(options)
          : new Redis(this.options.url, options);
      };
      pub = this.wire(
        'publisher',
        create('publisher', {
          lazyConnect: false,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
        }),
        true,
      );
      sub = this.wire(
        'subscriber',
        create('subscriber', { lazyConnect: false, autoResubscribe: false }),
        true,
      );
    }
    this.conns = { pub, sub };
    for (const conn of [pub, sub]) {
      if (conn.client.status === 'ready') this.onReady(conn);
      else if (conn.client.status === 'wait') conn.client.connect().catch(noop); // failures arrive as 'error' events
    }
    return this.conns;
  }

  private wire(role: Role, client: RedisClientLike, owned: boolean): Connection {
    const conn: Connection = {
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
    if (role === 'subscriber') {
      conn.handlers.push([
        'message',
        (key: unknown, message: unknown) => this.onMessage(key, message),
      ]);
    }
    for (const [event, handler] of conn.handlers) client.on(event, handler);
    return conn;
  }

  private onReady(conn: Connection): void {
    if (this.closed) return;
    const wasReady = conn.everReady;
    conn.everReady = true;
    conn.errorSinceReady = undefined;
    if (conn.down) {
      conn.down = false;
      this.reconnectCount++;
    }
    const conns = this.conns;
    if (!this.connectedOnce && conns?.pub.everReady && conns.sub.everReady) {
      this.connectedOnce = true;
      this.firstConnect.resolve();
      this.logger.log('Connected to Redis.');
    }
    if (conn.role === 'subscriber' && wasReady) void this.resubscribe();
    else this.settle();
  }

  private onClose(conn: Connection): void {
    if (conn.role === 'subscriber') {
      // Redis forgets the subscriptions of a closed connection.
      for (const st of this.channels.values()) st.subscribed = false;
    }
    if (this.closed || !conn.everReady || conn.down) return;
    conn.down = true;
    // Before anything else: live events delivered from now on must not move FlushHub past the gap.
    if (conn.role === 'subscriber') this.openGaps();
    if (this.outage) return; // logged once per outage, whichever connection goes first
    this.outage = {
      since: Date.now(),
      ...(conn.errorSinceReady !== undefined && { lastError: conn.errorSinceReady }),
    };
    const reason = conn.errorSinceReady === undefined ? '' : ` (${conn.errorSinceReady})`;
    this.logger.warn(
      `Redis unavailable: lost the ${conn.role} connection${reason}; reconnecting. Until it is back, ` +
        'publish() and new streams fail with 503 (Retry-After), and live events missed meanwhile ' +
        'are refilled from the streams afterwards (or a resync is sent).',
    );
  }

  private onEnd(conn: Connection): void {
    if (this.closed) return;
    this.logger.error(
      `The Redis ${conn.role} connection ended and will not reconnect (the client's retryStrategy gave up). ` +
        'Create a new transport or restart the application.',
    );
  }

  private onError(conn: Connection, err: unknown): void {
    const message = messageOf(err);
    this.lastError = `${conn.role}: ${message}`;
    conn.errorSinceReady = message;
    if (this.outage) this.outage.lastError = message;
    if (this.closed || conn.everReady) return; // after the first connection: the outage lines say it
    // Before the first connection: once per message, not per retry.
    if (this.lastLoggedError === message) return;
    this.lastLoggedError = message;
    this.logger.warn(`Cannot connect to Redis (${conn.role}): ${message}; retrying.`);
  }

  /** Reports a gap `open` for every channel with listeners (the subscription is lost). */
  private openGaps(): void {
    for (const st of this.channels.values()) {
      if (st.listeners.size === 0 || this.gapsOpen.has(st)) continue;
      this.gapsOpen.add(st);
      this.reportGap(st, 'open');
    }
  }

  /** After the subscriber reconnected: subscribe again, then close the gaps (see settle()). */
  private async resubscribe(): Promise<void> {
    clearTimeout(this.resubscribeTimer);
    this.resubscribing++;
    const states = [...this.channels.values()];
    const results = await Promise.allSettled(states.map(st => this.reconcile(st)));
    this.resubscribing--;
    if (this.closed) return;
    const failed = results.filter(r => r.status === 'rejected').length;
    if (failed > 0) {
      this.logger.warn(
        `Re-subscribing ${failed} channel(s) after a reconnect failed; retrying in ${RESUBSCRIBE_RETRY_MS} ms.`,
      );
      // Their gaps stay open (FlushHub keeps holding) until the retry succeeds.
      this.resubscribeTimer = setTimeout(() => {
        if (this.conns?.sub.client.status === 'ready') void this.resubscribe();
      }, RESUBSCRIBE_RETRY_MS);
      this.resubscribeTimer.unref?.();
    }
    this.settle();
  }

  /**
   * Once both connections are ready and re-subscribed: ends the outage (logged once) and closes
   * the gaps of the channels subscribed again. The refill reads the streams through the
   * publisher connection, which may come back before or after the subscriber.
   */
  private settle(): void {
    const conns = this.conns;
    if (this.closed || !conns || this.resubscribing > 0) return;
    if (conns.pub.client.status !== 'ready' || conns.sub.client.status !== 'ready') return;
    const due = [...this.gapsOpen].filter(st => st.subscribed || st.listeners.size === 0);
    for (const st of due) this.gapsOpen.delete(st);
    const closing = due.filter(st => st.listeners.size > 0);
    if (this.outage) {
      const { since, lastError } = this.outage;
      this.outage = undefined;
      this.logger.log(
        `Redis available again after ${Date.now() - since} ms` +
          (lastError === undefined ? '' : ` (last error: ${lastError})`) +
          (closing.length > 0 ? `; refilling what ${closing.length} channel(s) missed.` : '.'),
      );
    }
    for (const st of closing) this.reportGap(st, 'closed');
  }

  private reportGap(st: ChannelState, state: FlushGapState): void {
    for (const listener of this.gapListeners) {
      try {
        listener(st.channel, state);
      } catch (err) {
        this.logger.error(`A gap listener failed for channel "${st.channel}": ${messageOf(err)}`);
      }
    }
  }

  /**
   * Brings the Redis subscription of a channel in line with its listeners (subscribed iff it
   * has any). Runs after the channel's previous SUBSCRIBE/UNSUBSCRIBE.
   */
  private reconcile(st: ChannelState): Promise<void> {
    st.pending++;
    const run = async (): Promise<void> => {
      try {
        const sub = this.conns!.sub.client;
        const wanted = st.listeners.size > 0 && !this.closed;
        if (wanted && !st.subscribed) {
          if (sub.status !== 'ready')
            throw new RedisFlushTransportError(this.unavailable('subscribe'));
          await this.timed(
            sub.subscribe(st.key),
            this.commandTimeoutMs,
            () => `SUBSCRIBE timed out`,
          );
          st.subscribed = true;
        } else if (!wanted && st.subscribed) {
          st.subscribed = false;
          if (sub.status === 'ready') {
            await this.timed(
              sub.unsubscribe(st.key),
              this.commandTimeoutMs,
              () => `UNSUBSCRIBE timed out`,
            );
          }
        }
      } finally {
        st.pending--;
        if (
          st.pending === 0 &&
          st.listeners.size === 0 &&
          !st.subscribed &&
          this.channels.get(st.key) === st
        ) {
          this.channels.delete(st.key);
        }
      }
    };
    const done = st.queue.then(run);
    st.queue = done.catch(noop);
    return done;
  }

  private onMessage(key: unknown, message: unknown): void {
    if (typeof key !== 'string') return;
    const st = this.channels.get(key);
    if (!st || st.listeners.size === 0) return; // not ours, or being unsubscribed
    const event = parseEvent(String(message));
    if (!event) {
      this.logger.warn(`Ignored a malformed message on the Redis channel "${key}".`);
      return;
    }
    for (const listener of [...st.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error(`A listener of channel "${st.channel}" failed: ${messageOf(err)}`);
      }
    }
  }

  private async release(conn: Connection, subscribedKeys: string[]): Promise<void> {
    const { client } = conn;
    if (conn.owned) {
      if (client.status === 'ready') {
        await this.timed(client.quit(), CLOSE_TIMEOUT_MS, () => 'QUIT timed out').catch(noop);
      }
      // Stops reconnect timers in every other state. (Not after a completed QUIT: ioredis would
      // arm its disconnectTimeout timer for a socket that has already closed.)
      if (client.status !== 'end') client.disconnect();
      for (const [event, handler] of conn.handlers) client.removeListener(event, handler);
      client.on('error', noop); // a late socket error must not become an unhandled 'error' event
      return;
    }
    if (subscribedKeys.length > 0 && client.status === 'ready') {
      await this.timed(
        client.unsubscribe(...subscribedKeys),
        CLOSE_TIMEOUT_MS,
        () => 'UNSUBSCRIBE timed out',
      ).catch(noop);
    }
    for (const [event, handler] of conn.handlers) client.removeListener(event, handler);
  }

  // --- helpers ------------------------------------------------------------------------------

  private key(channel: string): string {
    return this.keyPrefix + channel;
  }

  private assertReady(conn: Connection, operation: string): void {
    if (this.closed)
      throw new RedisFlushTransportError(`Cannot ${operation}: RedisFlushTransport is closed.`);
    if (conn.client.status !== 'ready')
      throw new RedisFlushTransportError(this.unavailable(operation));
  }

  private unavailable(operation: string): string {
    return (
      `Cannot ${operation}: Redis is not connected (reconnecting)` +
      (this.lastError ? `; last error: ${this.lastError}` : '') +
      '.'
    );
  }

  private failure(prefix: string, err: unknown): RedisFlushTransportError {
    if (err instanceof RedisFlushTransportError) return err;
    const message = messageOf(err);
    // An error reply is Redis's answer (a bug or a misconfiguration), unless it means "not now".
    const answered = (err as { name?: unknown }).name === 'ReplyError';
    return new RedisFlushTransportError(`${prefix}: ${message}`, {
      cause: err,
      unavailable: !answered || TRANSIENT_REPLY.test(message),
    });
  }

  /** EVALSHA, falling back to EVAL when Redis does not have the script (e.g. after a restart). */
  private async run(
    client: RedisClientLike,
    script: LuaScript,
    key: string,
    args: (string | number)[],
  ): Promise<unknown> {
    const call = async (): Promise<unknown> => {
      try {
        return await client.evalsha(script.sha, 1, key, ...args);
      } catch (err) {
        if (!messageOf(err).includes('NOSCRIPT')) throw err;
        return await client.eval(script.text, 1, key, ...args);
      }
    };
    return this.timed(
      call(),
      this.commandTimeoutMs,
      () => `no reply from Redis within ${this.commandTimeoutMs} ms`,
    );
  }

  /** `promise`, or a RedisFlushTransportError after `ms`. The timer never outlives it. */
  private timed<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisFlushTransportError(message())), ms);
      timer.unref?.();
    });
    promise.catch(noop); // if the timeout wins, a later rejection is expected and ignored
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private parseEntries(channel: string, entries: unknown[]): FlushTransportEvent[] {
    const events: FlushTransportEvent[] = [];
    for (const entry of entries) {
      const event = parseEntry(entry);
      if (event) events.push(event);
      else this.logger.warn(`Skipped a malformed entry in the stream of channel "${channel}".`);
    }
    return events;
  }
}

/** An XRANGE entry `[id, [field, value, ...]]` whose field `m` is `{"event"?,"data"}`. */
const parseEntry = (entry: unknown): FlushTransportEvent | undefined => {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1]))
    return undefined;
  const fields = entry[1] as unknown[];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (String(fields[i]) === 'm') {
      const body = parseBody(String(fields[i + 1]));
      return body && toEvent(entry[0], body);
    }
  }
  return undefined;
};

/** A Pub/Sub message `{"id","event"?,"data"}`. */
const parseEvent = (message: string): FlushTransportEvent | undefined => {
  const body = parseBody(message);
  return body && typeof body.id === 'string' ? toEvent(body.id, body) : undefined;
};

const parseBody = (json: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

const toEvent = (id: string, body: Record<string, unknown>): FlushTransportEvent | undefined => {
  if (typeof body.data !== 'string') return undefined;
  if (body.event === undefined) return { id, data: body.data };
  return typeof body.event === 'string' ? { id, event: body.event, data: body.data } : undefined;
};

const loadIoredis = async (): Promise<RedisClientConstructor> => {
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

const isPositive = (value: unknown): boolean =>
  typeof value === 'number' && Number.isFinite(value) && value > 0;

/** Throws a FlushConfigurationError for options that cannot work, at construction (bootstrap). */
const validate = (options: RedisFlushTransportOptions): void => {
  const fail = (option: string, got: unknown, expected: string): never => {
    throw new FlushConfigurationError(INVALID(option, got, expected));
  };
  if (typeof options !== 'object' || options === null) fail('options', options, 'an object');
  const { url, publisher, subscriber, keyPrefix, historySize, historyMaxAgeMs } = options;
  if (url !== undefined && typeof url !== 'string')
    fail('url', url, 'a redis:// or rediss:// URL string');
  if (keyPrefix !== undefined && typeof keyPrefix !== 'string')
    fail('keyPrefix', keyPrefix, 'a string');
  if (historySize !== undefined && !(Number.isInteger(historySize) && historySize >= 0)) {
    fail('historySize', historySize, 'an integer >= 0');
  }
  if (historyMaxAgeMs !== undefined && historyMaxAgeMs !== false && !isPositive(historyMaxAgeMs)) {
    fail('historyMaxAgeMs', historyMaxAgeMs, 'a number of milliseconds > 0, or false');
  }
  if (
    options.trimming !== undefined &&
    options.trimming !== 'approximate' &&
    options.trimming !== 'exact'
  ) {
    fail('trimming', options.trimming, "'approximate' or 'exact'");
  }
  if (
    options.keyTtlMs !== undefined &&
    options.keyTtlMs !== false &&
    !isPositive(options.keyTtlMs)
  ) {
    fail('keyTtlMs', options.keyTtlMs, 'a number of milliseconds > 0, or false');
  }
  for (const name of ['connectTimeoutMs', 'commandTimeoutMs'] as const) {
    if (options[name] !== undefined && !isPositive(options[name]))
      fail(name, options[name], 'a number of milliseconds > 0');
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
    const given = publisher ?? subscriber!;
    if ((!publisher || !subscriber) && typeof given.duplicate !== 'function') {
      throw new FlushConfigurationError(
        `RedisFlushTransport: the ${publisher ? 'publisher' : 'subscriber'} client has no duplicate() ` +
          'to create the other connection; pass both { publisher, subscriber }.',
      );
    }
  }
};
