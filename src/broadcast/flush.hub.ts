import {
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  type MessageEvent,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Observable, type Subscriber } from 'rxjs';
import { FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { FlushMetrics } from '../flush.metrics.js';
import { encodeData } from '../sse/sse.serializer.js';
import { assertChannel, assertEventName } from './flush-channel.util.js';
import { compileChannelPattern } from './flush-authorize.interface.js';
import { FlushHubEvent } from './flush-hub-event.js';
import {
  compareEventIds,
  FlushTransport,
  type FlushTransportEvent,
} from './flush-transport.interface.js';

/** Options of `FlushHub.publish()`. @publicApi */
export interface FlushPublishOptions {
  /** Event name (the SSE `event:` field). */
  event?: string;
}

/** Options of `FlushHub.stream()`. @publicApi */
export interface FlushStreamOptions {
  /** The client's Last-Event-ID: events after it are replayed before live ones. */
  lastEventId?: string;
}

type Deliver = (event: FlushHubEvent) => void;

/** The local side of one channel: one transport subscription shared by every local subscriber. */
class LocalChannel {
  readonly subscribers = new Set<Deliver>();
  unsubscribe: Promise<() => Promise<void>> | undefined;
  /** Newest id fanned out here: later deliveries must be newer (drops transport echoes). */
  lastId: string | undefined;
  /** Live events held back while a gap is refilled from history. */
  refilling: FlushTransportEvent[] | undefined;
  constructor(readonly name: string) {}
}

/**
 * Channels with broadcast, encoded once, and Last-Event-ID resume from bounded history.
 * Return `hub.stream(channel, { lastEventId })` from an `@Sse()` (or `@Flush()`) handler.
 * @example
 * @Sse('news') news(@LastEventId() lastEventId?: string) { return this.hub.stream('news', { lastEventId }); }
 * @publicApi
 */
@Injectable()
export class FlushHub implements OnApplicationShutdown {
  private readonly logger = new Logger('FlushHub');
  private readonly channels = new Map<string, LocalChannel>();
  private readonly rules: {
    pattern: RegExp;
    authorize: (c: string, r: unknown) => boolean | Promise<boolean>;
  }[];

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    @Inject(FlushTransport) private readonly transport: FlushTransport,
    private readonly metrics: FlushMetrics,
  ) {
    const authorize = options.authorize;
    this.rules =
      typeof authorize === 'function'
        ? [{ pattern: /^/, authorize }]
        : (authorize ?? []).map(rule => ({
            pattern: compileChannelPattern(rule.channel),
            authorize: rule.authorize,
          }));
    metrics.channelSizes = () => this.subscriberCounts();
    transport.onGap?.(channel => this.refill(channel));
  }

  /**
   * Publishes an event to every subscriber of `channel`, on every instance sharing the transport,
   * and keeps it in the channel's history. Resolves to the event id.
   * Rejects with a `FlushValidationError` for an invalid channel or event name, and with a
   * `TypeError` for data that cannot be JSON-encoded.
   */
  async publish(
    channel: string,
    data: unknown,
    options: FlushPublishOptions = {},
  ): Promise<string> {
    assertChannel(channel);
    const event = assertEventName(options.event);
    const encoded = encodeData(data);
    const stored = await this.transport.publish(
      channel,
      event === undefined ? { data: encoded } : { event, data: encoded },
    );
    this.metrics.published++;
    return stored.id;
  }

  /**
   * The channel's events as an Observable of `MessageEvent`: with `lastEventId`, first every
   * retained event after it (or a resync event when it is unknown or too old), then live events,
   * with no gap and no duplicate at the boundary. Without it, live events only.
   */
  stream(channel: string, options: FlushStreamOptions = {}): Observable<MessageEvent> {
    assertChannel(channel);
    return new Observable<MessageEvent>(subscriber =>
      this.attach(channel, options.lastEventId, subscriber),
    );
  }

  /**
   * Authorizes `request` for `channel` with the module's `authorize` option, then returns
   * `stream()`. Denial throws a `ForbiddenException` (403) before the stream opens.
   * @example
   * @Sse('rooms/:room') room(@Req() req, @Param('room') room: string, @LastEventId() id?: string) {
   *   return this.hub.streamFor(req, `rooms/${room}`, { lastEventId: id });
   * }
   */
  async streamFor(
    request: unknown,
    channel: string,
    options: FlushStreamOptions = {},
  ): Promise<Observable<MessageEvent>> {
    await this.authorize(channel, request);
    return this.stream(channel, options);
  }

  /**
   * Throws a `ForbiddenException` unless the module's `authorize` option allows `request` to
   * stream `channel`. Without rules every channel is allowed; with rules, a channel no rule
   * matches is denied.
   */
  async authorize(channel: string, request: unknown): Promise<void> {
    assertChannel(channel);
    if (this.rules.length === 0) return;
    const rule = this.rules.find(r => r.pattern.test(channel));
    if (!rule || !(await rule.authorize(channel, request))) {
      throw new ForbiddenException(`Not allowed to stream channel "${channel}"`);
    }
  }

  /** Local subscribers per channel on this instance. */
  subscriberCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, ch] of this.channels) out[name] = ch.subscribers.size;
    return out;
  }

  private attach(
    channel: string,
    lastEventId: string | undefined,
    subscriber: Subscriber<MessageEvent>,
  ): () => void {
    let local = this.channels.get(channel);
    if (!local) {
      local = new LocalChannel(channel);
      this.channels.set(channel, local);
    }
    const ch = local;
    // Live events that arrive while the replay is read wait here, then pass the id filter.
    let pending: FlushHubEvent[] | undefined = lastEventId === undefined ? undefined : [];
    let lastDelivered: string | undefined;
    let dedupe = false;
    const emit = (event: FlushHubEvent): void => {
      if (dedupe) {
        if (lastDelivered !== undefined && compareEventIds(event.id, lastDelivered) <= 0) return;
        dedupe = false;
      }
      this.metrics.delivered++;
      subscriber.next(event);
    };
    const deliver: Deliver = event => (pending ? pending.push(event) : emit(event));
    ch.subscribers.add(deliver);
    if (!ch.unsubscribe) {
      const subscribing = this.transport.subscribe(channel, e => this.fanOut(ch, e));
      ch.unsubscribe = subscribing;
      // A failed subscription (transport down) is retried by the next subscriber, not reused.
      subscribing.catch(() => {
        if (ch.unsubscribe === subscribing) ch.unsubscribe = undefined;
      });
    }
    const ready = ch.unsubscribe;

    let done = false;
    const start = async (): Promise<void> => {
      await ready;
      if (done || lastEventId === undefined) return;
      const result = await this.transport.replay(channel, lastEventId);
      if (done) return;
      if (result.status === 'resync') {
        this.metrics.resyncs++;
        lastDelivered = result.lastId;
        subscriber.next(
          new FlushHubEvent({
            // An empty id resets the client's Last-Event-ID when the channel has no event yet.
            id: result.lastId ?? '',
            type: this.options.resyncEventName,
            data: JSON.stringify({ channel, lastEventId, reason: 'history' }),
          }),
        );
      } else {
        this.metrics.replays++;
        for (const event of result.events) {
          lastDelivered = event.id;
          this.metrics.delivered++;
          subscriber.next(toHubEvent(event));
        }
        if (lastDelivered === undefined) lastDelivered = lastEventId;
      }
      dedupe = lastDelivered !== undefined;
      const waiting = pending ?? [];
      pending = undefined;
      for (const event of waiting) emit(event);
    };
    start().catch((err: unknown) => {
      this.logger.error(`Stream of channel "${channel}" failed: ${(err as Error).message}`);
      subscriber.error(err);
    });

    return () => {
      done = true;
      ch.subscribers.delete(deliver);
      if (ch.subscribers.size === 0 && this.channels.get(channel) === ch) {
        this.channels.delete(channel);
        const unsubscribe = ch.unsubscribe;
        ch.unsubscribe = undefined;
        unsubscribe
          ?.then(off => off())
          .catch((err: unknown) =>
            this.logger.warn(`Unsubscribing "${channel}" failed: ${(err as Error).message}`),
          );
      }
    };
  }

  private fanOut(ch: LocalChannel, event: FlushTransportEvent): void {
    if (ch.refilling) ch.refilling.push(event);
    else this.deliverNewer(ch, event);
  }

  /** Delivers an event unless an equal or newer one went out already (transport echoes, refills). */
  private deliverNewer(ch: LocalChannel, event: FlushTransportEvent): void {
    if (ch.lastId !== undefined && compareEventIds(event.id, ch.lastId) <= 0) return;
    ch.lastId = event.id;
    this.deliverAll(ch, toHubEvent(event));
  }

  private deliverAll(ch: LocalChannel, event: FlushHubEvent): void {
    // One object (and one lazily built frame) for every local subscriber.
    for (const deliver of ch.subscribers) deliver(event);
  }

  /** After a transport gap (e.g. Redis reconnected), replays what local subscribers missed. */
  private refill(channel: string): void {
    const ch = this.channels.get(channel);
    if (!ch || ch.refilling || ch.lastId === undefined) return;
    const last = ch.lastId;
    // Live events wait until what was missed has gone out, so order holds.
    ch.refilling = [];
    this.transport
      .replay(channel, last)
      .then(result => {
        if (result.status === 'ok') {
          for (const event of result.events) this.deliverNewer(ch, event);
          return;
        }
        this.metrics.resyncs++;
        if (result.lastId !== undefined) ch.lastId = result.lastId;
        this.deliverAll(
          ch,
          new FlushHubEvent({
            id: result.lastId ?? '',
            type: this.options.resyncEventName,
            data: JSON.stringify({ channel, lastEventId: last, reason: 'gap' }),
          }),
        );
      })
      .catch((err: unknown) =>
        this.logger.warn(
          `Refilling "${channel}" after a transport gap failed: ${(err as Error).message}`,
        ),
      )
      .finally(() => {
        const held = ch.refilling ?? [];
        ch.refilling = undefined;
        for (const event of held) this.deliverNewer(ch, event);
      });
  }

  async onApplicationShutdown(): Promise<void> {
    this.channels.clear();
    await this.transport.close?.();
  }
}

const toHubEvent = (event: FlushTransportEvent): FlushHubEvent =>
  new FlushHubEvent({ id: event.id, data: event.data, type: event.event });
