/**
 * One Server-Sent Event. Field names follow NestJS's `MessageEvent` (`type` is the event
 * name) so a value can come from either API; `event` is accepted as an alias of `type`.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @publicApi
 */
export interface SseEvent {
  /** Payload. Strings are sent as they are; anything else is JSON-encoded. */
  data?: unknown;
  /** Event name (`event:` field). CR, LF and NUL are stripped. */
  type?: string;
  /** Alias of `type`. */
  event?: string;
  /** Event id (`id:` field). CR, LF and NUL are stripped. */
  id?: string | number;
  /** Reconnection time hint in milliseconds (`retry:` field). */
  retry?: number;
  /** Comment line(s), ignored by clients. */
  comment?: string;
}
