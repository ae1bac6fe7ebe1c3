import type { SseEvent } from './sse-event.interface.js';
import { serializeSseEvent } from './sse.serializer.js';

const isNil = (v: unknown): v is null | undefined => v === undefined || v === null;

/**
 * The encoder of one `@Sse()` connection, following NestJS's `MessageEvent` contract: a
 * non-object value is the data; an object is `{ data, type, id, retry, comment }`; data that is
 * not a string is JSON-encoded; an event without an id (other than a comment) is numbered per
 * connection from 1, as Nest numbers them. Stricter than Nest: CR, LF and NUL are stripped from
 * `id` and `type`. Once a connection has carried an event with a shared frame (FlushHub), events
 * without an id stay without one, so the client's Last-Event-ID keeps the hub's position.
 * Throws (BigInt, circular data, an id that cannot become a string).
 * @internal
 */
export const createMessageEventEncoder = (
  sharedFrame: (item: unknown) => Buffer | undefined,
): ((item: unknown) => string | Buffer) => {
  let counter = 0;
  let positioned = false;
  return item => {
    const frame = sharedFrame(item);
    if (frame) {
      positioned = true;
      return frame;
    }
    const message = (item !== null && typeof item === 'object' ? item : { data: item }) as SseEvent;
    const data = message.data;
    const event: SseEvent = {
      type: message.type,
      id: isNil(message.id) ? undefined : String(message.id),
      retry: message.retry,
      comment: isNil(message.comment) ? undefined : String(message.comment),
    };
    if (!isNil(data)) event.data = typeof data === 'string' ? data : JSON.stringify(data);
    const commentOnly =
      event.comment !== undefined && data === undefined && isNil(event.type) && isNil(event.retry);
    if (event.id === undefined && !commentOnly && !positioned) event.id = String(++counter);
    return serializeSseEvent(event);
  };
};
