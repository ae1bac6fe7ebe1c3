import { FlushValidationError } from '../flush-validation.error.js';
import { INVALID_CURSOR } from '../flush.messages.js';
import { isEventId } from './flush-transport.interface.js';

/**
 * The composite cursor of a multi-channel stream: one string naming the position in every
 * channel, used as every event's `id:` so that EventSource's Last-Event-ID resumes them all.
 *
 * Format: `c1.<hash>.<p1>.<p2>…`
 * - `c1` is the format version;
 * - `<hash>` is the FNV-1a 32-bit hash (base36) of the stream's channel names, sorted and
 *   joined with `\n`: a cursor of another channel list is recognised and not applied;
 * - one position per channel, in the sorted order: the channel's last event id `<ms>-<seq>`
 *   written in base36 as `<ms36>` (sequence 0) or `<ms36>-<seq36>`, or `_` when the client has
 *   no position in that channel (it had no event when the stream started).
 *
 * Channel names are never spelled out, so 8 channels fit in about 100 characters (at most 210
 * with ids of 16 digits each); the limit of `@LastEventId()` (1024) holds 32 channels.
 */

/** Most channels one stream may read. @publicApi */
export const FLUSH_MAX_STREAM_CHANNELS = 32;

const VERSION = 'c1';
const NO_POSITION = '_';
const POSITION = /^[0-9a-z]{1,11}(?:-[0-9a-z]{1,11})?$|^_$/;
const HASH = /^[0-9a-z]{1,7}$/;

/** FNV-1a, 32 bits, of a string of code units below 256 (channel names are ASCII). */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
};

/** The hash of a sorted channel list, as the cursor spells it. @internal */
export const channelListHash = (sorted: readonly string[]): string =>
  fnv1a(sorted.join('\n')).toString(36);

const toBase36 = (decimal: string): string =>
  decimal.length < 16 ? Number(decimal).toString(36) : BigInt(decimal).toString(36);

const fromBase36 = (digits: string): string => {
  // 36^10 < 2^53: short numbers are exact as doubles.
  if (digits.length <= 10) return String(parseInt(digits, 36));
  let value = 0n;
  for (const digit of digits) value = value * 36n + BigInt(parseInt(digit, 36));
  return value.toString();
};

/** One position as the cursor writes it. @internal */
export const compactPosition = (id: string | undefined): string => {
  if (id === undefined) return NO_POSITION;
  const dash = id.indexOf('-');
  const seq = id.slice(dash + 1);
  const ms = toBase36(id.slice(0, dash));
  return seq === '0' ? ms : `${ms}-${toBase36(seq)}`;
};

const expandPosition = (compact: string): string | undefined => {
  if (compact === NO_POSITION) return undefined;
  const dash = compact.indexOf('-');
  const id =
    dash < 0
      ? `${fromBase36(compact)}-0`
      : `${fromBase36(compact.slice(0, dash))}-${fromBase36(compact.slice(dash + 1))}`;
  return isEventId(id) ? id : NO_POSITION;
};

/** A cursor from the hash and the compact positions, in sorted channel order. @internal */
export const joinCursor = (hash: string, compact: readonly string[]): string =>
  `${VERSION}.${hash}.${compact.join('.')}`;

/** A cursor split into its hash and positions (event ids), or a FlushValidationError. @internal */
export const splitCursor = (
  cursor: string,
): { hash: string; positions: (string | undefined)[] } => {
  const parts = cursor.split('.');
  const [version, hash] = parts;
  const compact = parts.slice(2);
  if (
    version !== VERSION ||
    hash === undefined ||
    !HASH.test(hash) ||
    compact.length === 0 ||
    compact.length > FLUSH_MAX_STREAM_CHANNELS ||
    !compact.every(p => POSITION.test(p))
  ) {
    throw new FlushValidationError(INVALID_CURSOR(cursor));
  }
  const positions = compact.map(expandPosition);
  if (positions.includes(NO_POSITION)) throw new FlushValidationError(INVALID_CURSOR(cursor));
  return { hash, positions };
};

/** Sorted, without duplicates: the order of a cursor's positions. */
const sortedChannels = (channels: Iterable<string>): string[] => [...new Set(channels)].sort();

/**
 * Writes the composite cursor of a multi-channel stream from each channel's last event id
 * (`undefined`: no position in that channel). The channels are the object's keys, in any order.
 * For tools that build or inspect cursors; FlushHub writes them itself.
 * @example formatFlushCursor({ news: '1718000000000-0', 'orders/42': undefined })
 * @publicApi
 */
export const formatFlushCursor = (
  positions: Readonly<Record<string, string | undefined>>,
): string => {
  const channels = sortedChannels(Object.keys(positions));
  return joinCursor(
    channelListHash(channels),
    channels.map(channel => {
      const id = positions[channel];
      if (id !== undefined && !isEventId(id)) throw new FlushValidationError(INVALID_CURSOR(id));
      return compactPosition(id);
    }),
  );
};

/**
 * Reads a composite cursor written for `channels` (in any order, as given to `hub.stream()`):
 * each channel's last event id, `undefined` where the cursor has none. Returns `undefined` when
 * the cursor was written for another channel list; throws a `FlushValidationError` (400) when
 * it is not a cursor at all.
 * @publicApi
 */
export const parseFlushCursor = (
  cursor: string,
  channels: readonly string[],
): Record<string, string | undefined> | undefined => {
  const sorted = sortedChannels(channels);
  const { hash, positions } = splitCursor(cursor);
  if (hash !== channelListHash(sorted) || positions.length !== sorted.length) return undefined;
  const out: Record<string, string | undefined> = {};
  sorted.forEach((channel, i) => (out[channel] = positions[i]));
  return out;
};
