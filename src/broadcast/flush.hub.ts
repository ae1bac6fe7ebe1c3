import {
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  type MessageEvent,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Observable, type Subscriber } from 'rxjs';
import { FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { FlushConfigurationError } from '../flush.errors.js';
import { STREAM_NEEDS_AUTHORIZATION } from '../flush.messages.js';
import { FlushMetrics } from '../flush.metrics.js';
import { encodeData } from '../sse/sse.serializer.js';
import { assertChannel, assertEventName } from './flush-channel.util.js';
import { compileChannelPattern } from './flush-authorize.interface.js';
import { FlushHubEvent } from './flush-hub-event.js';
import {
  compareEventIds,
  FlushTransport,
  isTransportUnavailable,
  type FlushGapState,
  type FlushTransportEvent,
} from './flush-transport.interface.js';
import { FlushUnavailableError } from './flush-unavailable.error.js';

/** Options of `FlushHub.publish()`. @publicApi */
export interface FlushPublishOptions {
  /** Event name (the SSE `event:` field). */
  event?: string;
}

/** Options of `FlushHub.stream()` and `FlushHub.streamFor()`. @publicApi */
export interface FlushStreamOptions {
  /** The client's Last-Event-ID: events after it are replayed before live ones. */
  lastEventId?: string;
  /**
   * Lets `stream()` open a channel without a request to authorize, although FlushModule has
   * `authorize` rules: for server-internal streams only (a job that listens to a channel, a
   * route that authorized the client itself). Without it, `stream()` throws while rules exist,
   * so that no route streams a protected channel to anyone by mistake; routes serving clients
   * use `streamFor(request, channel, options)`, which applies the rules. Ignored by
   * `streamFor()`, which always authorizes.
   * @default false
   */
  skipAuthorization?: boolean;
}

type Deliver = (event: FlushHubEvent) => void;

/**
 * Live events held per channel while a transport gap is open, at most. One more turns them into a
 * `resync` (as of the newest of them): the history would not reach back that far anyway.
 */
const MAX_HELD_EVENTS = 10_000;

/** The local side of one channel: one transport subscription shared by every local subscriber. */
class LocalChannel {
  readonly subscribers = new Set<Deliver>();
  unsubscribe: Promise<() => Promise<void>> | undefined;
  /** Newest id fanned out here: later deliveries must be newer (drops transport echoes). */
  lastId: string | undefined;
  /**
   * The channel's newest id just before this instance subscribed (transports with gaps only):
   * where a refill starts when no event was delivered here yet. Undefined: empty, or unknown.
   */
  base: string | undefined;
  /** Live events held back while a gap is open or refilled; undefined while live. */
  held: FlushTransportEvent[] | undefined;
  /** The transport reported the subscription lost (`open`) and not back yet (`closed`). */
  gapOpen = false;
  /** A refill is reading the history. */
  refilling = false;
  /** Another gap closed while a refill ran: refill again when it ends. */
  refillAgain = false;
  constructor(readonly name: string) {}
}

/**
 * Channels with broadcast, encoded once, and Last-Event-ID resume from bounded history.
 * Return `hub.stream(channel, { lastEventId })` from an `@Sse()` (or `@Flush()`) handler, or
 * `hub.streamFor(request, channel, { lastEventId })` when FlushModule has `authorize` rules.
 *
 * The promise to every subscriber: each event is delivered once, in order, or a `resync` event
 * says that some were not (history too short for a Last-Event-ID, or for a transport gap such as
 * a Redis reconnect). While the transport is unreachable, `publish()` and new streams fail with a
 * `FlushUnavailableError` (503, `retryAfter`).
 * @example
 * @Sse('news') news(@LastEventId() lastEventId?: string) { return this.hub.stream('news', { lastEventId }); }
 * @publicApi
 */
@Injectable()
export class FlushHub implements OnModuleInit, OnApplicationShutdown {
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
    transport.onGap?.((channel, state) => this.onGap(channel, state));
  }

  /** Lets the transport prepare (e.g. load ioredis): a missing piece fails the bootstrap. */
  async onModuleInit(): Promise<void> {
    await this.transport.init?.();
  }

  /**
   * Publishes an event to every subscriber of `channel`, on every instance sharing the transport,
   * and keeps it in the channel's history. Resolves to the event id.
   * Rejects with a `FlushValidationError` for an invalid channel or event name, with a
   * `TypeError` for data that cannot be JSON-encoded, and with a `FlushUnavailableError` (503)
   * while the transport cannot take events (e.g. Redis is reconnecting).
   */
  async publish(
    channel: string,
    data: unknown,
    options: FlushPublishOptions = {},
  ): Promise<string> {
    assertChannel(channel);
    const event = assertEventName(options.event);
    const encoded = encodeData(data);
    let stored: FlushTransportEvent;
    try {
      stored = await this.transport.publish(
        channel,
        event === undefined ? { data: encoded } : { event, data: encoded },
      );
    } catch (err) {
      throw toHubError(err);
    }
    this.metrics.published++;
    return stored.id;
  }

  /**
   * The channel's events as an Observable of `MessageEvent`: with `lastEventId`, first every
   * retained event after it (or a resync event when it is unknown or too old), then live events,
   * with no gap and no duplicate at the boundary. Without it, live events only. The Observable
   * fails with a `FlushUnavailableError` (503) while the transport cannot serve it.
   *
   * While FlushModule has `authorize` rules, `stream()` throws (a 500 that names the fix) unless
   * `skipAuthorization: true` is passed: routes that serve clients use `streamFor()`.
   */
  stream(channel: string, options: FlushStreamOptions = {}): Observable<MessageEvent> {
    assertChannel(channel);
    if (this.rules.length > 0 && options.skipAuthorization !== true) {
      throw new FlushConfigurationError(STREAM_NEEDS_AUTHORIZATION(channel));
    }
    return this.open(channel, options.lastEventId);
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
    return this.open(channel, options.lastEventId);
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

  private open(channel: string, lastEventId: string | undefined): Observable<MessageEvent> {
    return new Observable<MessageEvent>(subscriber =>
      this.attach(channel, lastEventId, subscriber),
    );
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
      // An event without id (a resync on an empty channel) has no position to compare.
      if (dedupe && event.id !== undefined) {
        if (lastDelivered !== undefined && compareEventIds(event.id, lastDelivered) <= 0) return;
        dedupe = false;
      }
      this.metrics.delivered++;
      subscriber.next(event);
    };
    const deliver: Deliver = event => (pending ? pending.push(event) : emit(event));
    ch.subscribers.add(deliver);
    if (!ch.unsubscribe) {
      const subscribing = this.readBase(ch).then(() =>
        this.transport.subscribe(channel, e => this.fanOut(ch, e)),
      );
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
        subscriber.next(this.resyncEvent(channel, result.lastId, lastEventId, 'history'));
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
      // An outage is logged once by the transport, not per stream.
      if (!isTransportUnavailable(err))
        this.logger.error(`Stream of channel "${channel}" failed: ${(err as Error).message}`);
      subscriber.error(toHubError(err));
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
    if (!ch.held) return this.deliverNewer(ch, event);
    ch.held.push(event);
    if (ch.held.length > MAX_HELD_EVENTS) {
      // Too many to hold: what was missed before them, and they, become one resync.
      const newest = ch.held[ch.held.length - 1].id;
      ch.held = [];
      this.resyncAll(ch, newest, 'gap');
    }
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

  /**
   * Remembers the channel's newest id before the first subscription, so that a gap before any
   * event was delivered here is refilled exactly too. Read before subscribing: every later event
   * is then either delivered live or refilled. Only for transports that report gaps.
   */
  private async readBase(ch: LocalChannel): Promise<void> {
    if (!this.transport.onGap) return;
    try {
      const result = await this.transport.replay(ch.name, '');
      if (result.status === 'resync') ch.base = result.lastId;
    } catch {
      // Unknown: a gap before the first delivery then ends in a resync (see refill()).
    }
  }

  /**
   * A gap in the channel's live delivery (see `FlushTransport.onGap`): from `open` on, live events
   * are held and the position stays where the last delivered event left it; on `closed` the hub
   * refills from there. A report with no state (older transports) refills at once.
   */
  private onGap(channel: string, state: FlushGapState | undefined): void {
    const ch = this.channels.get(channel);
    if (!ch) return;
    if (state === 'open') {
      ch.gapOpen = true;
      ch.held ??= [];
      return;
    }
    if (state === 'closed') {
      if (!ch.gapOpen) return;
      ch.gapOpen = false;
    } else {
      ch.held ??= [];
    }
    this.refill(ch);
  }

  /** Replays what local subscribers missed in a gap, then the held live events, in order. */
  private refill(ch: LocalChannel): void {
    if (ch.refilling) {
      ch.refillAgain = true;
      return;
    }
    ch.refilling = true;
    const from = ch.lastId ?? ch.base;
    // Without a position, a non-id asks only for the channel's newest id (see FlushTransport.replay).
    let failed = false;
    this.transport
      .replay(ch.name, from ?? '')
      .then(result => {
        if (this.channels.get(ch.name) !== ch) return;
        if (result.status === 'ok') {
          for (const event of result.events) this.deliverNewer(ch, event);
        } else if (from !== undefined || result.lastId !== undefined) {
          // Events may have been missed (history too short, or no position to replay from).
          this.resyncAll(ch, result.lastId, 'gap', from);
        }
      })
      .catch((err: unknown) => {
        failed = true;
        if (this.channels.get(ch.name) !== ch || ch.refillAgain || ch.gapOpen) return; // retried on the next `closed`
        // The transport called the gap closed, yet cannot read: say so rather than leave a hole.
        this.logger.warn(
          `Refilling "${ch.name}" after a transport gap failed (${(err as Error).message}); sent ${this.options.resyncEventName}.`,
        );
        const held = ch.held ?? [];
        const newest = held.length > 0 ? held[held.length - 1].id : undefined;
        ch.held = [];
        this.resyncAll(ch, newest, 'gap', from);
      })
      .finally(() => {
        ch.refilling = false;
        if (this.channels.get(ch.name) !== ch) return;
        if (ch.refillAgain) {
          ch.refillAgain = false;
          return this.refill(ch);
        }
        // After a failed read with a new gap open, nothing missed was delivered yet: keep holding.
        if (failed && ch.gapOpen) return;
        const held = ch.held ?? [];
        // Held events are contiguous up to a gap that opened meanwhile: they go out, and the
        // next refill starts after them.
        ch.held = ch.gapOpen ? [] : undefined;
        for (const event of held) this.deliverNewer(ch, event);
      });
  }

  /** Tells every local subscriber that events may have been missed; `newest` becomes the position. */
  private resyncAll(
    ch: LocalChannel,
    newest: string | undefined,
    reason: 'gap',
    from: string | undefined = ch.lastId,
  ): void {
    this.metrics.resyncs++;
    if (newest !== undefined && (ch.lastId === undefined || compareEventIds(newest, ch.lastId) > 0))
      ch.lastId = newest;
    this.deliverAll(ch, this.resyncEvent(ch.name, newest, from, reason));
  }

  private resyncEvent(
    channel: string,
    newest: string | undefined,
    lastEventId: string | undefined,
    reason: 'history' | 'gap',
  ): FlushHubEvent {
    return new FlushHubEvent({
      // No id at all when the channel has none: an empty `id:` resets the client's Last-Event-ID.
      ...(newest !== undefined && { id: newest }),
      type: this.options.resyncEventName,
      data: JSON.stringify({ channel, lastEventId, reason }),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.channels.clear();
    await this.transport.close?.();
  }
}

const toHubEvent = (event: FlushTransportEvent): FlushHubEvent =>
  new FlushHubEvent({ id: event.id, data: event.data, type: event.event });

/** A transport outage becomes a 503 with `retryAfter`; anything else stays as it is. */
const toHubError = (err: unknown): unknown =>
  isTransportUnavailable(err) ? new FlushUnavailableError(undefined, { cause: err }) : err;
