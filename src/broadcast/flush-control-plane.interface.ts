/**
 * The control plane of a transport: what the stream controls need to agree on across every
 * instance that shares the transport — messages to all instances (revocation, run cancellation),
 * counted leases that expire unless renewed (stream caps), and single-use values with a time to
 * live (stream tickets). FlushHub and the controls use nothing else to coordinate instances, so
 * a transport that implements this interface gets every cross-instance control.
 *
 * `InMemoryFlushTransport` implements it inside one process, `RedisFlushTransport` on Redis. A
 * custom transport without one gets a per-instance in-memory control plane (FlushModule logs at
 * bootstrap that the controls then hold per instance only).
 *
 * Every method rejects with an error marked `unavailable: true` (see `isTransportUnavailable()`)
 * when the backend cannot answer now; callers answer 503 with `Retry-After`. Misuse (an empty key,
 * holder or id, or one longer than 1024 characters; a limit below 1; a ttl that is not whole
 * milliseconds from 1 to 86 400 000; a message over 64 KiB) rejects with a `TypeError` naming the
 * argument, in both built-in implementations.
 * @publicApi
 */
export interface FlushControlPlane {
  /**
   * Delivers `message` (an opaque string, at most 64 KiB) to every listener registered with
   * `listen()` on every instance sharing the transport, this one included, in the order sent by
   * one instance. Resolves once the backend took it (Redis: PUBLISH answered). A listener that
   * is disconnected at the time misses it (messages are not stored).
   */
  broadcast(message: string): Promise<void>;
  /**
   * Registers a listener of broadcast messages. Resolves, once the listener receives messages
   * broadcast from then on, to a function that removes it. A transport that reconnects
   * re-establishes its listeners by itself.
   */
  listen(listener: (message: string) => void): Promise<() => Promise<void>>;
  /**
   * Takes one of `limit` slots of `key` for `holder` (unique per stream, across instances), as a
   * lease that lapses `ttlMs` after it was taken or last renewed. Lapsed leases do not count.
   * Resolves to `true` when the slot was taken (or `holder` already had one), `false` when
   * `limit` live leases of other holders exist. Atomic across instances.
   */
  acquire(key: string, holder: string, limit: number, ttlMs: number): Promise<boolean>;
  /**
   * Extends the given leases to `ttlMs` from now (a living instance renews its streams' leases
   * well before they lapse). Leases that lapsed or were released meanwhile are taken again,
   * whatever the limit (their streams are open, so they count). Calls of one instance run in
   * the order made, so a `release()` made after a `renew()` that names the same lease wins.
   */
  renew(leases: readonly FlushLease[], ttlMs: number): Promise<void>;
  /** Gives the slot back. Releasing a lease that is not held does nothing. */
  release(key: string, holder: string): Promise<void>;
  /** Live leases of `key` (for metrics and tests). */
  count(key: string): Promise<number>;
  /**
   * Stores a single-use `value` under `id` for `ttlMs`. Rejects (not `unavailable`) when `id` is
   * already stored and not expired (ids are random: a clash means a bug).
   */
  put(id: string, value: string, ttlMs: number): Promise<void>;
  /**
   * Returns the value stored under `id` and deletes it, atomically: of concurrent calls on any
   * instances, one gets the value and the others `undefined`, as do calls after `ttlMs`.
   */
  take(id: string): Promise<string | undefined>;
}

/** A lease of the control plane: a slot of `key` held by `holder`. @publicApi */
export interface FlushLease {
  readonly key: string;
  readonly holder: string;
}
