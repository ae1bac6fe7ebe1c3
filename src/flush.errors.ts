import { BadRequestException } from '@nestjs/common';

/**
 * Base class of every error nestjs-flush throws.
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

/**
 * Thrown for invalid client input or invalid hub arguments (channel names, event names).
 * It is a `BadRequestException`, so HTTP routes answer it with a 400.
 * @publicApi
 */
export class FlushValidationError extends BadRequestException {
  override name = 'FlushValidationError';
}
