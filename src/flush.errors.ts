/** Brand of every nestjs-flush error (`Symbol.for`, so it holds across two copies of the library). */
const FLUSH_ERROR = Symbol.for('nestjs-flush.error');

/**
 * Base of every nestjs-flush error: `err instanceof FlushError` is true for all of them,
 * including `FlushValidationError` (400) and `FlushUnavailableError` (503), which extend Nest's
 * `HttpException` classes so that HTTP routes answer them with the right status. Pure: this
 * file imports nothing from NestJS (the stream writer uses it).
 * @publicApi
 */
export class FlushError extends Error {
  /** Branded, not prototype-based, for FlushError itself; subclasses test as usual. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== FlushError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { [FLUSH_ERROR]?: unknown })[FLUSH_ERROR] === true
    );
  }

  override name = this.constructor.name;
}

/**
 * Makes instances of `errorClass` test as `instanceof FlushError`, for error classes that must
 * extend another base (Nest's `HttpException`, in the Nest shell). @internal
 */
export const markAsFlushError = (errorClass: abstract new (...args: never[]) => Error): void => {
  Object.defineProperty(errorClass.prototype, FLUSH_ERROR, { value: true });
};
markAsFlushError(FlushError);

/**
 * Thrown at bootstrap when `FlushModule` options are invalid. The message names the option,
 * the value received and what to do.
 * @publicApi
 */
export class FlushConfigurationError extends FlushError {}

/**
 * Thrown when writing to a stream whose client has gone or that was closed.
 * @internal
 */
export class StreamClosedError extends FlushError {
  constructor(message = 'The stream is closed: the client disconnected or the stream ended.') {
    super(message);
  }
}
