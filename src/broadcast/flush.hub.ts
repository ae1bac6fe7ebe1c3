import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type MessageEvent,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { FLUSH_CONTROL_PLANE, FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import { FlushValidationError } from '../flush-validation.error.js';
import { encodeControlMessage } from './flush-control-messages.js';
import type { FlushControlPlane } from './flush-control-plane.interface.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { FlushConfigurationError } from '../flush.errors.js';
import { RUN_NEEDS_AUTHORIZATION, STREAM_NEEDS_AUTHORIZATION } from '../flush.messages.js';
import { FlushMetrics } from '../flush.metrics.js';
import {
  currentStream,
  streamOfRequest,
  type FlushStreamContext,
} from '../flush-stream.context.js';
import { encodeData } from '../sse/sse.serializer.js';
import {
  assertChannel,
  assertChannels,
  assertEventName,
  assertTarget,
  isValidStreamKey,
} from './flush-channel.util.js';
import { HubAuthorizeRules } from './flush-hub.rules.js';
import { LocalChannels } from './flush-hub.channels.js';
import { FlushChannel } from './flush.channel.js';
import { splitCursor } from './flush-cursor.js';
import { withDirectSource } from '../writer/stream-source.util.js';
import { openHubStream, type HubStreamHost, type HubStreamRequest } from './flush-hub-stream.js';
import type { FlushPublishOptions, FlushStreamOptions } from './flush-hub.options.js';
import {
  FlushTransport,
  isTransportUnavailable,
  type FlushTransportEvent,
} from './flush-transport.interface.js';
import { FlushUnavailableError } from './flush-unavailable.error.js';
import {
  FLUSH_RUNNER,
  type FlushAttachOptions,
  type FlushRunAdmission,
  type FlushRunAuthorization,
  type FlushRunHost,
  type FlushRunner,
  type FlushRunOptions,
  type FlushRunProducer,
} from './flush-runner.interface.js';
import {
  FLUSH_TICKET_REDEEMER,
  type FlushTicketRedeemer,
} from './flush-ticket-redeemer.interface.js';

export type { FlushPublishOptions, FlushStreamOptions } from './flush-hub.options.js';

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
  /** This instance's subscribers, per channel. */
  private readonly local: LocalChannels;
  private readonly rules: HubAuthorizeRules;
  /** What every hub stream uses of this hub. */
  private readonly host: HubStreamHost;
  /** What the runner uses of this hub. */
  private readonly runHost: FlushRunHost = {
    stream: (channel, lastEventId) => this.open([channel], { lastEventId }, undefined),
  };

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    @Inject(FlushTransport) private readonly transport: FlushTransport,
    private readonly metrics: FlushMetrics,
    @Inject(FLUSH_CONTROL_PLANE) private readonly control: FlushControlPlane,
    @Optional()
    @Inject(FLUSH_TICKET_REDEEMER)
    private readonly tickets?: FlushTicketRedeemer,
    @Optional()
    @Inject(FLUSH_RUNNER)
    private readonly runner?: FlushRunner,
  ) {
    this.rules = new HubAuthorizeRules(options.authorize);
    this.local = new LocalChannels({
      transport,
      metrics,
      logger: this.logger,
      resyncEventName: options.resyncEventName,
    });
    this.host = {
      transport,
      metrics,
      logger: this.logger,
      resyncEventName: options.resyncEventName,
      join: (channel, deliver) => this.local.join(channel, deliver),
      leave: (channel, deliver) => this.local.leave(channel, deliver),
      failure: (channels, err) => {
        // An outage is logged once by the transport, not per stream.
        if (!isTransportUnavailable(err) && !(err instanceof FlushUnavailableError))
          this.logger.error(
            `Stream of channel(s) ${channels.map(c => `"${c}"`).join(', ')} failed: ${(err as Error).message}`,
          );
        return toHubError(err);
      },
    };
    metrics.addChannelSizes(() => this.subscriberCounts());
    transport.onGap?.((channel, state) => this.local.onGap(channel, state));
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
    const to = assertTarget(options.to);
    const encoded = encodeData(data);
    let stored: FlushTransportEvent;
    try {
      stored = await this.transport.publish(channel, {
        ...(event !== undefined && { event }),
        data: encoded,
        ...(to !== undefined && { to }),
      });
    } catch (err) {
      throw toHubError(err);
    }
    this.metrics.countPublished(channel);
    return stored.id;
  }

  /**
   * The channel `name` with its events typed: `publish(event, data)` checks event names and
   * payloads against `Events` at compile time. The same channel as the untyped name (its
   * publishes reach `hub.stream(name)` and the reverse). Throws a `FlushValidationError` for an
   * invalid channel name.
   * @example
   * const news = this.hub.channel<{ headline: Headline; removed: { id: string } }>('news');
   * await news.publish('removed', { id: '42' });
   */
  channel<Events extends object = Record<string, unknown>>(name: string): FlushChannel<Events> {
    assertChannel(name);
    return new FlushChannel<Events>(this, name);
  }

  /**
   * The channel's events as an Observable of `MessageEvent`: with `lastEventId`, first every
   * retained event after it (or a resync event when it is unknown or too old), then live events,
   * with no gap and no duplicate at the boundary. Without it, live events only. The Observable
   * fails with a `FlushUnavailableError` (503) while the transport cannot serve it.
   *
   * Several channels (an array of up to 32 names; duplicates are folded, a list of one name is
   * that channel's plain stream) make one stream: every event keeps its `event:` and `data:`,
   * and its `id:` is a composite cursor (see `formatFlushCursor()`) that resumes every channel.
   * A malformed cursor throws a `FlushValidationError` (400); a cursor of another channel list
   * resumes nothing: each channel starts at its newest event with a `resync` event.
   *
   * While FlushModule has `authorize` rules, `stream()` throws (a 500 that names the fix) unless
   * `skipAuthorization: true` is passed: routes that serve clients use `streamFor()`.
   * @example hub.stream(['news', 'orders/42'], { lastEventId })
   */
  stream(
    channels: string | readonly string[],
    options: FlushStreamOptions = {},
  ): Observable<MessageEvent> {
    const list = assertChannels(channels);
    if (this.rules.active && options.skipAuthorization !== true) {
      throw new FlushConfigurationError(STREAM_NEEDS_AUTHORIZATION(list.join(',')));
    }
    return this.open(list, options, undefined);
  }

  /**
   * Authorizes `request` for every channel with the module's `authorize` option, then returns
   * `stream()`. Denial of any channel throws a `ForbiddenException` (403) before the stream
   * opens. A request with `?ticket=` (see `FlushTickets`) is authorized by its ticket instead:
   * 401 for a ticket that is malformed, unknown, used or expired, 403 for a channel it does not
   * cover; the ticket's subject becomes the stream's key. The stream's key (for targeted
   * events) is that of the request's stream.
   * @example
   * @Sse('rooms/:room') room(@Req() req, @Param('room') room: string, @LastEventId() id?: string) {
   *   return this.hub.streamFor(req, `rooms/${room}`, { lastEventId: id });
   * }
   */
  async streamFor(
    request: unknown,
    channels: string | readonly string[],
    options: FlushStreamOptions = {},
  ): Promise<Observable<MessageEvent>> {
    const list = assertChannels(channels);
    if (!(await this.tickets?.redeemRequest(request, list)))
      for (const channel of list) await this.authorize(channel, request);
    return this.open(list, options, streamOfRequest(request));
  }

  /**
   * Throws a `ForbiddenException` unless the module's `authorize` option allows `request` to
   * stream `channel`. Without rules every channel is allowed; with rules, a channel no rule
   * matches is denied.
   */
  async authorize(channel: string, request: unknown): Promise<void> {
    assertChannel(channel);
    await this.rules.apply(channel, request);
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
    if (key !== undefined && !isValidStreamKey(key)) {
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

  /**
   * Starts a run: calls `producer` once, here, and publishes its items as the events of the run
   * `key` (the channel `run:<key>`), then `event: end` with `{"status":"completed"|"cancelled"|
   * "failed"|"expired"}`. Returns the run's events from its first, then live, then the end. The
   * producer runs on when this client leaves; any client on any instance sharing the transport
   * follows it with `attach()`, until `ttlMs` after its end. A key of 1-200 characters from
   * `A-Z a-z 0-9 . _ - : / @`, else a `FlushValidationError` (400). The returned Observable fails
   * before any byte with a 409 (`FlushRunConflictError`) while a run of `key` lives or its replay
   * is kept, a 429 (`FlushTooManyRunsError`) over `maxRuns`, a 503 while the transport is away.
   *
   * The module's `authorize` rules (and `?ticket=`) apply as to the channel `run:<key>`, for the
   * request of the streaming route whose handler calls `run()` (or `options.request`): a refused
   * request gets a 403 (401 for a bad ticket) before any byte, and the producer is not called.
   * Outside a streaming route, without `request`, `run()` throws while rules exist unless
   * `skipAuthorization: true` is passed.
   * @example
   * @Sse('answers/:id') answer(@Param('id') id: string, @Query('q') q: string) {
   *   return this.hub.run(id, signal => this.llm.tokens(q, { signal }));
   * }
   */
  run(
    key: string,
    producer: FlushRunProducer,
    options: FlushRunOptions = {},
  ): Observable<MessageEvent> {
    const admit = this.runAdmission('run', key, options);
    return this.runs().run(this.runHost, key, producer, options, admit);
  }

  /**
   * The events of the run `key`, on any instance: without `lastEventId` the whole run from its
   * first event, with one only what came after it; then live; then the `end` event, after which
   * the Observable completes. Fails before any byte with a 404 (`FlushRunNotFoundError`) for a
   * run that never existed or whose replay expired, a 204 (`FlushRunEndedError`, no body: an
   * EventSource stops reconnecting) when `lastEventId` is the run's `end` event, a 400 for a
   * malformed key or Last-Event-ID (one that is no event of the run). The `authorize` rules
   * apply as for `run()`, before the key is looked up (a refused client learns nothing of it).
   */
  attach(key: string, options: FlushAttachOptions = {}): Observable<MessageEvent> {
    const admit = this.runAdmission('attach', key, options);
    return this.runs().attach(this.runHost, key, options, admit);
  }

  /**
   * Cancels the run `key` from any instance: its producer's signal aborts on the instance
   * running it, and the run ends with `end {"status":"cancelled"}`. Resolves once the message
   * is sent; rejects with a 404 for a key without a live or kept run, a 503 while the transport
   * cannot carry it. A run that already ended is left as it is.
   */
  cancel(key: string): Promise<void> {
    return this.runs().cancel(key);
  }

  /**
   * How a run call is authorized: what `streamFor()` applies (a ticket, else the rules) to the
   * run's channel, for the request given or that of the streaming route running now. Throws
   * (synchronously, a 500 that names the fix) for a call without a request while rules exist.
   */
  private runAdmission(
    method: 'run' | 'attach',
    key: string,
    options: FlushRunAuthorization,
  ): FlushRunAdmission {
    if (options?.skipAuthorization === true) return allowed;
    const request = options?.request ?? currentStream()?.request;
    if (request === undefined) {
      if (this.rules.active)
        throw new FlushConfigurationError(RUN_NEEDS_AUTHORIZATION(method, String(key)));
      return allowed;
    }
    return async channel => {
      if (!(await this.tickets?.redeemRequest(request, [channel])))
        await this.rules.apply(channel, request);
    };
  }

  private runs(): FlushRunner {
    if (!this.runner)
      throw new FlushConfigurationError(
        'FlushHub runs need FlushModule (its FlushRuns provider): import FlushModule.forRoot().',
      );
    return this.runner;
  }

  /** Local subscribers per channel on this instance. */
  subscriberCounts(): Record<string, number> {
    return this.local.counts();
  }

  private open(
    channels: readonly string[],
    options: FlushStreamOptions,
    opened: FlushStreamContext | undefined,
  ): Observable<MessageEvent> {
    const request: HubStreamRequest = {
      channels,
      lastEventId: options.lastEventId,
      snapshot: options.snapshot,
    };
    if (channels.length > 1 && options.lastEventId !== undefined) {
      splitCursor(options.lastEventId); // a malformed cursor: 400 before the stream opens
    }
    // Read directly (no rxjs Subscriber) when the route returns it as it is.
    return withDirectSource(
      new Observable<MessageEvent>(subscriber =>
        openHubStream(this.host, request, subscriber, currentStream() ?? opened),
      ),
      sink => openHubStream(this.host, request, sink, currentStream() ?? opened),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.local.closeAll();
    await this.transport.close?.();
  }
}

/** The admission of a run call nothing restricts. */
const allowed: FlushRunAdmission = () => Promise.resolve();

/** A transport outage becomes a 503 with `retryAfter`; anything else stays as it is. */
const toHubError = (err: unknown): unknown =>
  isTransportUnavailable(err) ? new FlushUnavailableError(undefined, { cause: err }) : err;
