import { FlushValidationError } from '../flush-validation.error.js';
import {
  INVALID_CHANNEL,
  INVALID_CHANNEL_LIST,
  INVALID_EVENT_NAME,
  INVALID_TARGET,
} from '../flush.messages.js';
import { FLUSH_MAX_STREAM_CHANNELS } from './flush-cursor.js';

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

const STREAM_KEY = /^[^\r\n\0]{1,256}$/;

/**
 * Whether a value can be a stream key (`streamKey()`, a publish's `to`, `hub.disconnect({ key })`):
 * 1-256 characters without CR, LF or NUL. @internal
 */
export const isValidStreamKey = (key: unknown): key is string =>
  typeof key === 'string' && STREAM_KEY.test(key);

/** Throws a `FlushValidationError` for an invalid `to` (stream key) of a publish. @internal */
export const assertTarget = (to: unknown): string | undefined => {
  if (to === undefined) return undefined;
  if (!isValidStreamKey(to)) throw new FlushValidationError(INVALID_TARGET(to));
  return to;
};

/**
 * The channels of a stream, validated, without duplicates, sorted (the order of the composite
 * cursor): a FlushValidationError for an empty list, more than 32 names, or an invalid name.
 * @internal
 */
export const assertChannels = (channels: unknown): string[] => {
  if (typeof channels === 'string') return [assertChannel(channels)];
  if (
    !Array.isArray(channels) ||
    channels.length === 0 ||
    channels.length > FLUSH_MAX_STREAM_CHANNELS
  ) {
    throw new FlushValidationError(INVALID_CHANNEL_LIST(channels, FLUSH_MAX_STREAM_CHANNELS));
  }
  return [...new Set(channels.map(assertChannel))].sort();
};
