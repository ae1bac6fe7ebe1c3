import { markAsFlushError } from '../flush.errors.js';
import { FlushTooManyRequestsError } from '../flush-too-many-requests.error.js';
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
export class FlushTooManyStreamsError extends FlushTooManyRequestsError {
  override name = 'FlushTooManyStreamsError';

  constructor(limit: number) {
    super(
      limit,
      FLUSH_CAP_RETRY_AFTER_SECONDS,
      TOO_MANY_STREAMS(limit, FLUSH_CAP_RETRY_AFTER_SECONDS),
    );
  }
}

markAsFlushError(FlushTooManyStreamsError);
