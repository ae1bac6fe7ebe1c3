import { HttpException, HttpStatus } from '@nestjs/common';
import { markAsFlushError } from '../flush.errors.js';
import { TOO_MANY_STREAMS } from './flush-controls.messages.js';

/**
 * Seconds a client over `maxStreamsPerKey` is asked to wait (`Retry-After`) before it tries again.
 * @publicApi
 */
export const FLUSH_CAP_RETRY_AFTER_SECONDS = 5;

/**
 * A stream over `maxStreamsPerKey`: answered `429 Too Many Requests` before any byte, with
 * `Retry-After` and the body `{ statusCode: 429, error: 'Too Many Requests', message, retryAfter }`.
 * It is a `FlushError`.
 * @publicApi
 */
export class FlushTooManyStreamsError extends HttpException {
  override name = 'FlushTooManyStreamsError';
  /** Seconds the client should wait before retrying (`Retry-After`). */
  readonly retryAfterSeconds = FLUSH_CAP_RETRY_AFTER_SECONDS;

  constructor(readonly limit: number) {
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: TOO_MANY_STREAMS(limit, FLUSH_CAP_RETRY_AFTER_SECONDS),
        retryAfter: FLUSH_CAP_RETRY_AFTER_SECONDS,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

markAsFlushError(FlushTooManyStreamsError);
