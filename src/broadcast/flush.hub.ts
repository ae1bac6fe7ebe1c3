import {
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  Optional,
  type MessageEvent,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Observable, type Subscriber } from 'rxjs';
import { FLUSH_CONTROL_PLANE, FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import { currentStream } from '../flush-stream.context.js';
import { FlushValidationError } from '../flush-validation.error.js';
import { encodeControlMessage } from './flush-control-messages.js';
import type { FlushControlPlane } from './flush-control-plane.interface.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { FlushConfigurationError } from '../flush.errors.js';
import { STREAM_NEEDS_AUTHORIZATION } from '../flush.messages.js';
import { FlushMetrics } from '../flush.metrics.js';
import { encodeData } from '../sse/sse.serializer.js';
import { assertChannel, assertEventName } from './flush-channel.util.js';
import { compileChannelPattern } from './flush-authorize.interface.js';
import type { FlushHubEvent } from './flush-hub-event.js';
import { LocalChannel, resyncEvent, toHubEvent, type LocalDeliver } from './flush-local-channel.js';
import {
  compareEventIds,
  FlushTransport,
  isTransportUnavailable,
  type FlushTransportEvent,
} from './flush-transport.interface.js';
import { FlushUnavailableError } from './flush-unavailable.error.js';
import {
  FLUSH_TICKET_REDEEMER,
  type FlushTicketRedeemer,
} from './flush-ticket-redeemer.interface.js';

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
    @Inject(FLUSH_CONTROL_PLANE) private readonly control: FlushControlPlane,
    @Optional()
    @Inject(FLUSH_TICKET_REDEEMER)
    private readonly tickets?: FlushTicketRedeemer,
  ) {
    const authorize = options.authorize;
    this.rules =
      typeof authorize === 'function'
        ? [{ pattern: /^/, authorize }]
        : (authorize ?? []).map(rule => ({
            pattern: compileChannelPattern(rule.channel),
            authorize: rule.authorize,
          }));
    metrics.addChannelSizes(() => this.subscriberCounts());
    transport.onGap?.((channel, state) => this.channels.get(channel)?.onGap(state));
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
   * `stream()`. Denial throws a `ForbiddenException` (403) before the stream opens. A request
   * with `?ticket=` (see `FlushTickets`) is authorized by its ticket instead: 401 for a ticket
   * that is malformed, unknown, used or expired, 403 for a channel it does not cover.
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
    assertChannel(channel);
    if (!(await this.tickets?.redeemRequest(request, [channel])))
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

  /**
   * Ends the streams that match, on every instance sharing the transport, within a second: those
   * whose stream key is `key`, those reading `channel`, or, with both, those matching both. Each
   * gets `event: revoked` (its `id:` the stream's position) and ends; an `EventSource` reconnects
   * and is then subject to the app's checks again (guards, `authorize`, tickets). Works on every
   * streaming route kind. Resolves once the message is sent; rejects with a
   * `FlushValidationError` without a `key` or a `channel`, with a `FlushUnavailableError` (503)
   * while the transport cannot carry it.
   * @example await hub.disconnect({ key: user.id }); // after logout or a role change
   */
  async disconnect(target: { key?: string; channel?: string }): Promise<void> {
    const { key, channel } = target ?? {};
    if (key === undefined && channel === undefined) {
      throw new FlushValidationError(
        'hub.disconnect() needs a "key", a "channel", or both: it never ends every stream at once.',
      );
    }
    if (key !== undefined && (typeof key !== 'string' || !/^[^\r\n\0]{1,256}$/.test(key))) {
      throw new FlushValidationError(
        'hub.disconnect(): "key" must be a stream key of 1-256 characters without CR, LF or NUL.',
      );
    }
    if (channel !== undefined) assertChannel(channel);
    try {
      await this.control.broadcast(
        encodeControlMessage({
          type: 'disconnect',
          ...(key !== undefined && { key }),
          ...(channel !== undefined && { channel }),
        }),
      );
    } catch (err) {
      throw toHubError(err);
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
      local = new LocalChannel(channel, {
        transport: this.transport,
        metrics: this.metrics,
        logger: this.logger,
        resyncEventName: this.options.resyncEventName,
      });
      this.channels.set(channel, local);
    }
    const ch = local;
    // `hub.disconnect({ channel })` finds the stream by the channels it reads.
    currentStream()?.channels.add(channel);
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
    const deliver: LocalDeliver = event => (pending ? pending.push(event) : emit(event));
    ch.subscribers.add(deliver);
    if (!ch.unsubscribe) {
      const subscribing = ch
        .readBase()
        .then(() => this.transport.subscribe(channel, e => ch.fanOut(e)));
      ch.unsubscribe = subscribing;
      // A failed subscription (transport down) is retried by the next subscriber, not reused.
      subscribing.catch(() => {
        if (ch.unsubscribe === subscribing) ch.unsubscribe = undefined;
      });
    }
    const ready = ch.unsubscribe;

    let done = false;
    const start = async (): Promise<void> => {
      // While the transport is away (lost, or never reached since startup), a new stream fails
      // at once, also on a channel that other streams of this instance still hold open.
      const health = this.transport.health?.();
      if (health && !health.connected && !health.connecting) throw new FlushUnavailableError();
      await ready;
      if (done || lastEventId === undefined) return;
      const result = await this.transport.replay(channel, lastEventId);
      if (done) return;
      if (result.status === 'resync') {
        this.metrics.resyncs++;
        lastDelivered = result.lastId;
        subscriber.next(
          resyncEvent(this.options.resyncEventName, channel, result.lastId, lastEventId, 'history'),
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
    const started = start();
    // The stream's headers wait for this: an outage answers 503 before any byte.
    currentStream()?.ready.push(started.then(noop, noop));
    started.catch((err: unknown) => {
      // An outage is logged once by the transport, not per stream.
      if (!isTransportUnavailable(err) && !(err instanceof FlushUnavailableError))
        this.logger.error(`Stream of channel "${channel}" failed: ${(err as Error).message}`);
      subscriber.error(toHubError(err));
    });

    return () => {
      done = true;
      ch.subscribers.delete(deliver);
      if (ch.subscribers.size === 0 && this.channels.get(channel) === ch) {
        this.channels.delete(channel);
        ch.close();
        const unsubscribe = ch.unsubscribe;
        ch.unsubscribe = undefined;
        unsubscribe
          ?.then(
            off => off(),
            () => undefined, // never subscribed (the transport was away): nothing to undo
          )
          .catch((err: unknown) => {
            // A lost or closed connection took its subscriptions with it: nothing to undo.
            if (isTransportUnavailable(err)) return;
            this.logger.warn(`Unsubscribing "${channel}" failed: ${(err as Error).message}`);
          });
      }
    };
  }

  async onApplicationShutdown(): Promise<void> {
    for (const ch of this.channels.values()) ch.close();
    this.channels.clear();
    await this.transport.close?.();
  }
}

const noop = (): void => undefined;

/** A transport outage becomes a 503 with `retryAfter`; anything else stays as it is. */
const toHubError = (err: unknown): unknown =>
  isTransportUnavailable(err) ? new FlushUnavailableError(undefined, { cause: err }) : err;
