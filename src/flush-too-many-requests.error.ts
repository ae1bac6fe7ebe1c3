import { HttpException, HttpStatus } from '@nestjs/common';
import { markAsFlushError } from './flush.errors.js';

/**
 * A request over one of the module's bounds (`maxStreamsPerKey`, `maxRuns`): answered
 * `429 Too Many Requests` before any byte, with `Retry-After` and the body
 * `{ statusCode: 429, error: 'Too Many Requests', message, retryAfter }`. The base of
 * `FlushTooManyStreamsError` and `FlushTooManyRunsError`: catch this one for both.
 * @publicApi
 */
export class FlushTooManyRequestsError extends HttpException {
  override name = 'FlushTooManyRequestsError';

  constructor(
    /** The bound that was reached. */
    readonly limit: number,
    /** Seconds the client should wait before retrying (`Retry-After`). */
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message,
        retryAfter: retryAfterSeconds,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

markAsFlushError(FlushTooManyRequestsError);
