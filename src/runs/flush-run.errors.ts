import { ConflictException, HttpException, HttpStatus, NotFoundException } from '@nestjs/common';
import { FlushTooManyRequestsError } from '../flush-too-many-requests.error.js';
import { markAsFlushError } from '../flush.errors.js';
import { RUN_CONFLICT, RUN_NOT_FOUND, TOO_MANY_RUNS } from './flush-runs.messages.js';

/**
 * `attach()` or `cancel()` of a run key that never started, or whose replay expired: answered
 * `404 Not Found` before any byte. It is a `FlushError`.
 * @publicApi
 */
export class FlushRunNotFoundError extends NotFoundException {
  override name = 'FlushRunNotFoundError';
  constructor(readonly key: string) {
    super(RUN_NOT_FOUND(key));
  }
}
markAsFlushError(FlushRunNotFoundError);

/**
 * `run()` of a key whose run is live (on any instance) or whose replay is still kept: answered
 * `409 Conflict` before any byte. It is a `FlushError`.
 * @publicApi
 */
export class FlushRunConflictError extends ConflictException {
  override name = 'FlushRunConflictError';
  constructor(readonly key: string) {
    super(RUN_CONFLICT(key));
  }
}
markAsFlushError(FlushRunConflictError);

/** Seconds a `run()` over `maxRuns` is asked to wait (`Retry-After`). @publicApi */
export const FLUSH_RUNS_RETRY_AFTER_SECONDS = 5;

/**
 * `run()` over the module's `maxRuns`: answered `429 Too Many Requests` with `Retry-After`
 * before the producer starts. It is a `FlushError`.
 * @publicApi
 */
export class FlushTooManyRunsError extends FlushTooManyRequestsError {
  override name = 'FlushTooManyRunsError';
  constructor(limit: number) {
    super(
      limit,
      FLUSH_RUNS_RETRY_AFTER_SECONDS,
      TOO_MANY_RUNS(limit, FLUSH_RUNS_RETRY_AFTER_SECONDS),
    );
  }
}
markAsFlushError(FlushTooManyRunsError);

/**
 * `attach()` with a Last-Event-ID that is the run's `end` event: there is nothing more to send,
 * so the answer is a bare `204 No Content` (no body), on which an EventSource stops
 * reconnecting. It is a `FlushError`.
 * @publicApi
 */
export class FlushRunEndedError extends HttpException {
  override name = 'FlushRunEndedError';
  constructor(readonly key: string) {
    super('', HttpStatus.NO_CONTENT);
  }
}
markAsFlushError(FlushRunEndedError);
