import { FlushValidationError } from '../flush-validation.error.js';
import { INVALID_CHANNEL, INVALID_EVENT_NAME } from '../flush.messages.js';

const CHANNEL = /^[A-Za-z0-9._\-:/@]{1,200}$/;
const EVENT_NAME = /^[^\r\n\0]{1,100}$/;

/**
 * Whether a channel name is valid: 1-200 characters from `A-Z a-z 0-9 . _ - : / @`.
 * @publicApi
 */
export const isValidChannel = (channel: unknown): channel is string =>
  typeof channel === 'string' && CHANNEL.test(channel);

/** Throws a `FlushValidationError` for an invalid channel name. @internal */
export const assertChannel = (channel: unknown): string => {
  if (!isValidChannel(channel)) throw new FlushValidationError(INVALID_CHANNEL(channel));
  return channel;
};

/** Throws a `FlushValidationError` for an invalid event name. @internal */
export const assertEventName = (event: unknown): string | undefined => {
  if (event === undefined) return undefined;
  if (typeof event !== 'string' || !EVENT_NAME.test(event)) {
    throw new FlushValidationError(INVALID_EVENT_NAME(event));
  }
  return event;
};
