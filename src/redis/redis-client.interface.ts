/**
 * The part of an ioredis client (`Redis` instance) that `RedisFlushTransport` uses, described
 * structurally so that nestjs-flush never imports ioredis: ioredis stays an optional peer
 * dependency, and the published type declarations do not reference it.
 *
 * An ioredis `Redis` instance satisfies it as it is. Other clients can be adapted, as long as
 * they emit the ioredis connection events (`ready`, `close`, `end`, `error`) and the `message`
 * event of Pub/Sub.
 * @publicApi
 */
export interface RedisClientLike {
  /**
   * Connection state, as ioredis reports it: `wait`, `connecting`, `connect`, `ready`, `close`,
   * `reconnecting`, `end`. Only `ready` means commands are sent at once.
   */
  readonly status: string;
  /** Opens the connection of a client created with `lazyConnect` (status `wait`). */
  connect(): Promise<unknown>;
  /** Runs a cached Lua script by its SHA1 digest (`EVALSHA`). */
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs a Lua script (`EVAL`). */
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** `SUBSCRIBE`: resolves once Redis confirmed the subscription. */
  subscribe(...channels: string[]): Promise<unknown>;
  /** `UNSUBSCRIBE`. */
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** Adds an event listener (`ready`, `close`, `end`, `error`, `message`, ...). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener arguments vary per event
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes a listener added with `on()`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener arguments vary per event
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  /** Closes the connection after pending replies (`QUIT`). */
  quit(): Promise<unknown>;
  /** Closes the connection at once and stops reconnecting. */
  disconnect(): void;
  /** A new client with the same options (ioredis `duplicate()`). */
  duplicate?(): RedisClientLike;
  /** `SSUBSCRIBE` (sharded Pub/Sub, Redis >= 7): needed on a Redis Cluster. */
  ssubscribe?(...channels: string[]): Promise<unknown>;
  /** `SUNSUBSCRIBE`. */
  sunsubscribe?(...channels: string[]): Promise<unknown>;
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
}

/**
 * The ioredis `Redis` constructor, as `RedisFlushTransport` calls it when it creates its own
 * connections. @internal
 */
export interface RedisClientConstructor {
  new (url: string, options: object): RedisClientLike;
  new (options: object): RedisClientLike;
}
