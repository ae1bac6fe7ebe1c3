import type { MessageEvent } from '@nestjs/common';
import { FLUSH_FRAME } from '../flush.internal-constants.js';
import { serializeSseEvent } from '../sse/sse.serializer.js';
import { markSharedFrame } from '../writer/stream.writer.js';

/**
 * An event delivered by FlushHub: a Nest `MessageEvent` whose `data` is already encoded, and
 * whose SSE frame is built once, on first use, and shared by every local subscriber.
 *
 * `id` is the event's position in its channel. Only a `resync` event for a channel that has no
 * event yet has none: its frame then has no `id:` line at all, because an empty `id:` would reset
 * the client's Last-Event-ID (WHATWG). A writer tracking the client's position must keep the
 * previous one for such an event.
 * @publicApi
 */
export class FlushHubEvent implements MessageEvent {
  readonly id?: string;
  readonly data: string;
  readonly type?: string;
  readonly retry?: number;
  readonly comment?: string;
  #frame: Buffer | undefined;
  /** Not an own field: NDJSON and text routes serialize the event object as it is. */
  readonly #to: string | undefined;

  constructor(fields: {
    id?: string;
    data: string;
    type?: string;
    retry?: number;
    comment?: string;
    to?: string;
  }) {
    this.#to = fields.to;
    if (fields.id !== undefined) this.id = fields.id;
    this.data = fields.data;
    if (fields.type !== undefined) this.type = fields.type;
    if (fields.retry !== undefined) this.retry = fields.retry;
    if (fields.comment !== undefined) this.comment = fields.comment;
  }

  /**
   * The stream key this event was published to (`hub.publish(…, { to })`): only streams of
   * that key receive it. Undefined for an event to every subscriber.
   */
  get to(): string | undefined {
    return this.#to;
  }

  /** The SSE bytes of this event, encoded once. @internal */
  get [FLUSH_FRAME](): Buffer {
    return (this.#frame ??= markSharedFrame(Buffer.from(serializeSseEvent(this), 'utf8')));
  }
}
