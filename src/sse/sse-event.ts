import type { SseEvent } from './sse-event.interface.js';
import { serializeSseEvent } from './sse.serializer.js';

/**
 * An explicit Server-Sent Event for `@Flush()` SSE routes. On those routes only instances of
 * this class (made with `sseEvent()`) and FlushHub events set `event:`, `id:`, `retry:` or
 * comment lines; every other value is data, whatever its keys, so user data can never become
 * protocol fields by its shape. (Nest's own `@Sse()` routes keep Nest's `MessageEvent` contract.)
 * @publicApi
 */
export class FlushSseEvent implements SseEvent {
  readonly data?: unknown;
  readonly type?: string;
  readonly id?: string | number;
  readonly retry?: number;
  readonly comment?: string;

  constructor(fields: SseEvent) {
    if ('data' in fields) this.data = fields.data;
    const type = fields.type ?? fields.event;
    if (type !== undefined) this.type = type;
    if (fields.id !== undefined) this.id = fields.id;
    if (fields.retry !== undefined) this.retry = fields.retry;
    if (fields.comment !== undefined) this.comment = fields.comment;
  }

  /** The wire form of this event. Throws a `TypeError` for data JSON cannot encode. */
  serialize(): string {
    return serializeSseEvent(this);
  }
}

/**
 * Makes an explicit SSE event (name, id, retry hint, comment) for a `@Flush()` route.
 * @example yield sseEvent({ event: 'progress', id: String(n), data: { n } });
 * @publicApi
 */
export const sseEvent = (fields: SseEvent): FlushSseEvent => new FlushSseEvent(fields);
