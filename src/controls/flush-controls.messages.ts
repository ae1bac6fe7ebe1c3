import { describeValue } from '../flush.messages.js';

/** Message factories of the stream controls. @internal */
export const TOO_MANY_STREAMS = (limit: number, retryAfterSeconds: number) =>
  `Too many open streams: at most ${limit} per client. Close one (another tab or device) or retry in ${retryAfterSeconds} s.`;

export const INVALID_LIMIT = (where: string, option: string, got: unknown, expected: string) =>
  `${where}: option "${option}" must be ${expected}; received ${describeValue(got)}.`;

export const STREAM_KEY_FAILED = (route: string, option: 'streamKey' | 'expiresAt') =>
  `FlushModule option "${option}" threw on ${route}; the request was answered with 500 before the stream opened. ` +
  `Make it return ${option === 'streamKey' ? 'a string or undefined' : 'a time (epoch ms or Date) or undefined'} for every request. (Logged once per route.)`;

export const STREAM_KEY_INVALID = (route: string, got: unknown) =>
  `FlushModule option "streamKey" returned ${describeValue(got)} on ${route}: it must return a string of 1-256 characters without CR, LF or NUL, or undefined. (Logged once per route.)`;

export const EXPIRES_AT_INVALID = (route: string, got: unknown) =>
  `FlushModule option "expiresAt" returned ${describeValue(got)} on ${route}: it must return epoch milliseconds, a Date, or undefined. (Logged once per route.)`;

export const CONTROL_PLANE_LOST = (what: string, message: string) =>
  `Stream controls: ${what} failed (${message}); leases lapse on their own within their time to live.`;
