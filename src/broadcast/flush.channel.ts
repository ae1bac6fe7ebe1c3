import type { MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { FlushHub, FlushPublishOptions, FlushStreamOptions } from './flush.hub.js';

/** The event names of a channel's event map. @publicApi */
export type FlushChannelEventName<Events extends object> = Extract<keyof Events, string>;

/**
 * One hub channel with its events typed: `publish(event, data)` accepts only the event names of
 * `Events` with their payload types, checked at compile time. It is the channel of that name, as
 * the untyped hub methods see it: `hub.stream('news')` receives what `hub.channel<…>('news')`
 * publishes, and the reverse. Get one with `hub.channel<Events>(name)`.
 * @example
 * const news = hub.channel<{ headline: Headline; removed: { id: string } }>('news');
 * await news.publish('headline', { title: 'Hello' });
 * @publicApi
 */
export class FlushChannel<Events extends object = Record<string, unknown>> {
  /**
   * Type-only, never set: the channel's event map, which `FlushEventsOf<typeof channel>` of
   * `nestjs-flush/client` reads to type the browser client of this channel.
   */
  declare readonly '~events'?: Events;

  constructor(
    private readonly hub: Pick<FlushHub, 'publish' | 'stream' | 'streamFor'>,
    /** The channel's name. */
    readonly name: string,
  ) {}

  /**
   * Publishes `data` as event `event` (the SSE `event:` field) of this channel; resolves to its
   * id. Same behaviour as `hub.publish(name, data, { event, ...options })`.
   */
  publish<Event extends FlushChannelEventName<Events>>(
    event: Event,
    data: Events[Event],
    options: Omit<FlushPublishOptions, 'event'> = {},
  ): Promise<string> {
    return this.hub.publish(this.name, data, { ...options, event });
  }

  /** The channel's events: `hub.stream(name, options)`. */
  stream(options?: FlushStreamOptions): Observable<MessageEvent> {
    return this.hub.stream(this.name, options);
  }

  /** The channel's events for a client request, authorized: `hub.streamFor(request, name, options)`. */
  streamFor(request: unknown, options?: FlushStreamOptions): Promise<Observable<MessageEvent>> {
    return this.hub.streamFor(request, this.name, options);
  }
}
