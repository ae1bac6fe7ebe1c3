import type { FlushTransportEvent } from '../broadcast/flush-transport.interface.js';

import type { FlushTransportMessage } from '../broadcast/flush-transport.interface.js';

/**
 * How events look in Redis. A stream entry has one field, `m`, holding `{"event"?,"data","to"?}`
 * as JSON; the publish script announces it on Pub/Sub as `{"id","event"?,"data","to"?}` (the id
 * spliced in front). Decoding is strict: anything else is malformed and yields `undefined`.
 */

/** What `publish()` is given: an optional event name, the data, an optional target key. @internal */
export type RedisEventMessage = FlushTransportMessage;

/** The reply of the replay script, decoded. @internal */
export interface RedisReplayReply {
  /** The stream's last generated id (absent if Redis did not report one). */
  readonly lastId: string | undefined;
  /** Entries from the client's id on (inclusive), when that id is an entry of the stream. */
  readonly entries: readonly unknown[] | undefined;
}

const isArray = (value: unknown): value is readonly unknown[] => Array.isArray(value);

/** The JSON stored in the field `m` of a stream entry: `{"event"?,"data","to"?}`. @internal */
export const encodeEntry = (message: RedisEventMessage): string =>
  JSON.stringify({ event: message.event, data: message.data, to: message.to });

/** The transport event of a published message, with the id Redis assigned. @internal */
export const toTransportEvent = (id: string, message: RedisEventMessage): FlushTransportEvent => {
  const { event, data, to } = message;
  if (to === undefined) return event === undefined ? { id, data } : { id, event, data };
  return event === undefined ? { id, data, to } : { id, event, data, to };
};

const parseBody = (json: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

const toEvent = (id: string, body: Record<string, unknown>): FlushTransportEvent | undefined => {
  const { event, data, to } = body;
  if (typeof data !== 'string') return undefined;
  if (event !== undefined && typeof event !== 'string') return undefined;
  if (to !== undefined && typeof to !== 'string') return undefined;
  return toTransportEvent(id, { event, data, to });
};

/** An XRANGE entry `[id, [field, value, ...]]` whose field `m` is `{"event"?,"data"}`. @internal */
export const decodeEntry = (entry: unknown): FlushTransportEvent | undefined => {
  if (!isArray(entry)) return undefined;
  const [id, fields] = entry;
  if (typeof id !== 'string' || !isArray(fields)) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (String(fields[i]) === 'm') {
      const body = parseBody(String(fields[i + 1]));
      return body && toEvent(id, body);
    }
  }
  return undefined;
};

/** A Pub/Sub message `{"id","event"?,"data"}`. @internal */
export const decodeMessage = (message: string): FlushTransportEvent | undefined => {
  const body = parseBody(message);
  return body && typeof body.id === 'string' ? toEvent(body.id, body) : undefined;
};

/**
 * The reply of the replay script: `undefined` when the stream does not exist (nil), otherwise
 * `[lastId]` or `[lastId, entries]`. @internal
 */
export const decodeReplayReply = (reply: unknown): RedisReplayReply | undefined => {
  if (!isArray(reply)) return undefined;
  const [lastId, entries] = reply;
  return {
    lastId: typeof lastId === 'string' ? lastId : undefined,
    entries: isArray(entries) ? entries : undefined,
  };
};
