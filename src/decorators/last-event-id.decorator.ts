import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { FlushValidationError } from '../flush-validation.error.js';

/**
 * Longest Last-Event-ID accepted: room for the composite cursor of a stream of 32 channels
 * (see `formatFlushCursor()`). @internal
 */
export const MAX_LAST_EVENT_ID_LENGTH = 1024;
const VALID = /^[^\r\n\0]*$/;

/**
 * Reads the client's last event id from a request: the `Last-Event-ID` header (sent by
 * EventSource when it reconnects), then a `lastEventId` query parameter (for clients that cannot
 * send headers). Returns undefined when absent or empty; throws a 400 `FlushValidationError`
 * for a value longer than 1024 characters or with CR, LF or NUL.
 * @internal
 */
export const readLastEventId = (req: {
  headers?: Record<string, unknown>;
  query?: Record<string, unknown>;
  url?: string;
}): string | undefined => {
  let value: unknown = req.headers?.['last-event-id'];
  if (value === undefined || value === '') {
    value = req.query?.lastEventId;
    if (value === undefined && typeof req.url === 'string' && req.url.includes('lastEventId=')) {
      value = new URL(req.url, 'http://x').searchParams.get('lastEventId') ?? undefined;
    }
  }
  if (Array.isArray(value)) value = value[value.length - 1];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > MAX_LAST_EVENT_ID_LENGTH || !VALID.test(value)) {
    throw new FlushValidationError(
      `Invalid Last-Event-ID: expected at most ${MAX_LAST_EVENT_ID_LENGTH} characters without CR, LF or NUL.`,
    );
  }
  return value;
};

/**
 * The client's Last-Event-ID (header, then `?lastEventId=`), for `FlushHub.stream()`.
 * A malformed value (over 1024 characters, control characters) is answered with 400; a
 * well-formed but unknown id reaches the hub, which answers with a resync event. The composite
 * cursor of a multi-channel stream (see `formatFlushCursor()`) passes through unchanged; the hub
 * answers a malformed one with 400.
 * @example @Sse('news') news(@LastEventId() lastEventId?: string) { return this.hub.stream('news', { lastEventId }); }
 * @publicApi
 */
export const LastEventId = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string | undefined =>
    readLastEventId(ctx.switchToHttp().getRequest()),
);
