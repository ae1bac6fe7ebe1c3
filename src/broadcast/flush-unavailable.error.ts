import { HttpException, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { markAsFlushError } from '../flush.errors.js';
import { HUB_UNAVAILABLE } from '../flush.messages.js';

/**
 * Seconds a client is asked to wait (`Retry-After`) while the broadcast transport is down.
 * @internal
 */
export const FLUSH_RETRY_AFTER_SECONDS = 2;

/**
 * Thrown by `FlushHub.publish()`, `stream()` and `streamFor()` while the broadcast transport
 * cannot serve them (e.g. Redis is unreachable or reconnecting). It is a
 * `ServiceUnavailableException`, so an HTTP route answers **503**, with a body that says when to
 * retry: `{ statusCode: 503, error: 'Service Unavailable', message, retryAfter: 2 }`
 * (`retryAfter` in seconds). Streaming routes also send it as the `Retry-After` header. Nest does
 * not log it per request; the transport logs the outage once when it starts and once when it ends.
 * The transport's own error is the `cause`. It is also a `FlushError`.
 * @publicApi
 */
export class FlushUnavailableError extends ServiceUnavailableException {
  override name = 'FlushUnavailableError';
  /** Seconds the client should wait before retrying (`Retry-After`). */
  readonly retryAfterSeconds: number;

  constructor(
    message: string = HUB_UNAVAILABLE(FLUSH_RETRY_AFTER_SECONDS),
    options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    const retryAfter = options.retryAfterSeconds ?? FLUSH_RETRY_AFTER_SECONDS;
    super(
      {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        message,
        retryAfter,
      },
      { cause: options.cause },
    );
    this.retryAfterSeconds = retryAfter;
  }
}

markAsFlushError(FlushUnavailableError);

/**
 * The response headers an error asks for, read from the error alone: `Retry-After` for a 503 or
 * 429 `HttpException` whose body carries `retryAfter` (seconds), as `FlushUnavailableError` and
 * `FlushTooManyStreamsError` do.
 * Called where the response is known, before the error reaches Nest's exception filters (which
 * set no headers). @internal
 */
export const errorResponseHeaders = (err: unknown): Record<string, string> | undefined => {
  if (!(err instanceof HttpException)) return undefined;
  const status = err.getStatus();
  if (status !== 503 && status !== 429) return undefined;
  const body = err.getResponse() as { retryAfter?: unknown } | string;
  const seconds = typeof body === 'object' && body !== null ? body.retryAfter : undefined;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0
    ? { 'Retry-After': String(Math.ceil(seconds)) }
    : undefined;
};

/**
 * Sets the headers `errorResponseHeaders()` asks for on a response whose headers are not sent
 * yet (express, fastify's `reply.raw`, or any node:http `ServerResponse`). Returns whether it set
 * any. @internal
 */
export const setErrorResponseHeaders = (
  res: { headersSent: boolean; setHeader(name: string, value: string): unknown },
  err: unknown,
): boolean => {
  const headers = errorResponseHeaders(err);
  if (!headers || res.headersSent) return false;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  return true;
};
