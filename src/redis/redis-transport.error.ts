import { FlushError } from '../flush.errors.js';

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

/** Redis error replies that mean "not now" rather than "never". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/;

/** Does nothing: for promises and events whose outcome nobody waits for. @internal */
export const noop = (): void => undefined;

/** The message of an error, or the value as a string. @internal */
export const messageOf = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)) || String(err);

/**
 * `err` as a RedisFlushTransportError whose message starts with `prefix`. An error reply is
 * Redis's answer (a bug or a misconfiguration), so not `unavailable`, unless it means "not now".
 * @internal
 */
export const toTransportError = (prefix: string, err: unknown): RedisFlushTransportError => {
  if (err instanceof RedisFlushTransportError) return err;
  const message = messageOf(err);
  const answered = (err as { name?: unknown }).name === 'ReplyError';
  return new RedisFlushTransportError(`${prefix}: ${message}`, {
    cause: err,
    unavailable: !answered || TRANSIENT_REPLY.test(message),
  });
};

/** `promise`, or a RedisFlushTransportError after `ms`. The timer never outlives it. @internal */
export const withTimeout = <T>(
  promise: Promise<T>,
  ms: number,
  message: () => string,
): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisFlushTransportError(message())), ms);
    timer.unref?.();
  });
  promise.catch(noop); // if the timeout wins, a later rejection is expected and ignored
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};
