/**
 * Base class of nestjs-flush's errors. Pure: this file imports nothing from NestJS (the stream
 * writer uses it); errors that are also HTTP answers (`FlushValidationError`, 400;
 * `FlushUnavailableError`, 503) extend Nest's `HttpException` classes instead.
 * @publicApi
 */
export class FlushError extends Error {
  override name = this.constructor.name;
}

/**
 * Thrown at bootstrap when `FlushModule` options are invalid. The message names the option,
 * the value received and what to do.
 * @publicApi
 */
export class FlushConfigurationError extends FlushError {}

/**
 * Thrown when writing to a stream whose client has gone or that was closed.
 * @publicApi
 */
export class StreamClosedError extends FlushError {
  constructor(message = 'The stream is closed: the client disconnected or the stream ended.') {
    super(message);
  }
}
