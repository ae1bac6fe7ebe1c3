import type { Logger } from '@nestjs/common';
import { STREAM_FAILED } from './flush.messages.js';

/** What a client may see of an error once the stream has started. @internal */
export interface PublicError {
  statusCode: number;
  message: string;
}

/**
 * The client-safe form of an error: an HttpException's status and message, anything else a
 * plain 500 "Internal server error" (never a stack or an internal message).
 * @internal
 */
export const toPublicError = (err: unknown): PublicError => {
  const e = err as { getStatus?: () => number; getResponse?: () => unknown; message?: string };
  if (e && typeof e.getStatus === 'function' && typeof e.getResponse === 'function') {
    const status = e.getStatus();
    if (status < 500) {
      const body = e.getResponse();
      const message =
        typeof body === 'string'
          ? body
          : body && typeof body === 'object' && 'message' in body
            ? String(body.message)
            : String(e.message ?? 'Error');
      return { statusCode: status, message };
    }
    return { statusCode: status, message: 'Internal server error' };
  }
  return { statusCode: 500, message: 'Internal server error' };
};

/**
 * Logs a stream failure (server errors only: a 4xx is the client's) and returns what the client
 * may see of it.
 * @internal
 */
export const reportStreamError = (logger: Logger, route: string, err: unknown): PublicError => {
  const publicError = toPublicError(err);
  if (publicError.statusCode >= 500)
    logger.error(STREAM_FAILED(route), (err as Error)?.stack ?? String(err));
  return publicError;
};
