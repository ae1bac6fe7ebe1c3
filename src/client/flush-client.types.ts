// The types of the browser client: its options, states and events, and how a typed hub
// channel's event map reaches `client.on()`. Types only: nothing here exists at runtime.

/** What the client's connection is doing. @publicApi */
export type FlushClientState = 'connecting' | 'open' | 'retrying' | 'closed';

/**
 * Why the state changed. `reason` is one of: `open`, `connecting`, `status` (an HTTP answer:
 * see `status`), `content-type` (a 200 that is not `text/event-stream`), `ended` (the server
 * ended the stream), `expired`, `revoked`, `network` (fetch failed), `credentials` (`headers()`
 * or `ticket()` threw), `gave-up` (too many failed attempts in a row: see `cause`), `close`
 * (`client.close()`), `error` (a bug of the client).
 * @publicApi
 */
export interface FlushStateDetail {
  reason: string;
  /** The HTTP status that caused the change, when there was one. */
  status?: number;
  /** With `retrying`: how long the client waits before the next attempt, in milliseconds. */
  delayMs?: number;
  /** The error message of a `network` or `credentials` failure. */
  error?: string;
  /** With `gave-up`: the reason of the last failed attempt (`status`, `content-type`, `ended`…). */
  cause?: string;
  /** With a 429 or 503: the server's message (its JSON body's `message`), to show to the user. */
  message?: string;
}

/** What a handler learns about an event besides its data. @publicApi */
export interface FlushEventMeta {
  /** The event's own `id:` field, when it had one. */
  id?: string;
  /** The event type (`message` for events without `event:`). */
  event: string;
  /**
   * The event's data as sent (the lines of its `data:` fields), before the JSON parse: for a
   * text payload that happens to parse as JSON (a token `" 42"` arrives as the number 42).
   */
  raw?: string;
}

/** The data of the hub's `resync` event: events may have been missed, refetch your state. @publicApi */
export interface FlushResyncInfo {
  channel: string;
  lastEventId?: string;
  reason: 'history' | 'gap' | 'cursor';
}

/**
 * The events the server sends by itself, on every stream, with their data: the hub's `resync`,
 * the stream controls' `expired` and `revoked`, and the `error` event of a stream that failed
 * after its headers (its public message).
 * @publicApi
 */
export interface FlushControlEvents {
  resync: FlushResyncInfo;
  expired: { reason: string };
  revoked: { reason: string };
  error: string;
}

/**
 * The events a `FlushClient<Events>` listens to, with their data: the map's own events, and the
 * server's control events (a map that names one of them types it its own way). With the default
 * map (`Record<string, unknown>`) any name is accepted, its data `unknown`.
 * @publicApi
 */
export type FlushClientEvents<Events extends object> = string extends keyof Events
  ? FlushControlEvents & Events
  : Omit<FlushControlEvents, keyof Events> & Events;

/**
 * The event map of a typed hub channel: `FlushEventsOf<typeof channel>` is `Events` for
 * `hub.channel<Events>(name)`, to type the client of that channel from the server's own types
 * (a type-only import: the client loads nothing of the server).
 * @example
 * // news.channel.ts (server): export const newsChannel = (hub: FlushHub) => hub.channel<NewsEvents>('news');
 * import type { newsChannel } from '../server/news.channel.js';
 * const client = new FlushClient<FlushEventsOf<ReturnType<typeof newsChannel>>>('/news');
 * @publicApi
 */
export type FlushEventsOf<Channel extends { readonly '~events'?: object }> = NonNullable<
  Channel['~events']
>;

/**
 * When the client tries again after a failed attempt: `initialDelayMs` (or the server's `retry:`
 * field, once it sent one) doubling per failed attempt up to `maxDelayMs`, each delay jittered
 * to 50-100 %; after `maxAttempts` failed attempts in a row the client stops (state `closed`,
 * reason `gave-up`). 429 and 503 wait their `Retry-After` instead, network errors back off
 * without counting, as long as it takes.
 * @publicApi
 */
export interface FlushRetryOptions {
  /**
   * The delay after the first failed attempt, in milliseconds.
   * @default 1000
   */
  initialDelayMs?: number;
  /**
   * The longest delay between two attempts, in milliseconds.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * Failed attempts in a row (other than 429, 503 and network errors) before the client gives up.
   * @default 10
   */
  maxAttempts?: number;
}

/** Options of {@link FlushClient}. @publicApi */
export interface FlushClientOptions {
  /** Headers of every connect (e.g. `Authorization`), asked for again before each one. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** A fresh stream ticket before every connect, sent as `?ticket=`. */
  ticket?: () => Promise<string>;
  /**
   * One connection per URL per browser, shared by every tab (Web Locks elect the tab that
   * connects, a BroadcastChannel fans its events out). Not used in Node.
   * @default true
   */
  shareAcrossTabs?: boolean;
  /** The backoff after failed attempts. @default { initialDelayMs: 1000, maxDelayMs: 30000, maxAttempts: 10 } */
  retry?: FlushRetryOptions;
}
