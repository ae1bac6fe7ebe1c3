import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { isObservable, Observable, type Subscriber, type Subscription } from 'rxjs';
import { setErrorResponseHeaders } from '../broadcast/flush-unavailable.error.js';
import { StreamSafe } from '../decorators/stream-safe.decorator.js';
import { FlushConfigurationError } from '../flush.errors.js';
import { FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import { FLUSH_NOT_SERVED, SLOW_CLIENT_DISCONNECTED } from '../flush.messages.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { FlushMetrics } from '../flush.metrics.js';
import { NEST_SSE_ABORT_CONTROLLER } from '../nest-compat/nest-metadata.compat.js';
import { innerInterceptors } from '../nest-compat/streaming-route.registry.js';
import { FlushConnections } from '../shutdown/flush-connections.service.js';
import { serializeSseRetry } from '../sse/sse.serializer.js';
import {
  isClosed,
  requestAbortController,
  toRawRequest,
  toRawResponse,
} from '../writer/raw-response.util.js';
import { pumpSource, releaseSource, unwrapStreamSource } from '../writer/stream-source.util.js';
import type { StreamWriter, StreamWriterHooks } from '../writer/stream.writer.js';
import { FlushResult } from './flush-result.js';
import { runAwareSession, runErrorForFormat } from './run-format.adapter.js';
import {
  controlEndFrame,
  planRoute,
  type FrameEncoder,
  type RoutePlan,
} from './flush-route.plan.js';
import {
  FlushStreamControls,
  type FlushAdmission,
} from '../controls/flush-stream-controls.service.js';
import {
  bindStreamToRequest,
  runInStream,
  type FlushStreamContext,
} from '../flush-stream.context.js';
import {
  controlEnding,
  createStreamWriter,
  endStream,
  failStream,
  openStream,
  statusOf,
  webResponseRequest,
  type StreamRequest,
} from './flush-stream.response.js';
import { isWebResponse } from '../formats/web-response.passthrough.js';
import {
  appForRequest,
  enterStream,
  type FlushAppContext,
  type FlushStreamMode,
} from './flush-stream.state.js';

/**
 * The stream's position is the id of the last event it wrote (a hub event id, a composite
 * cursor, a `MessageEvent` id the app set), never a number the connection made up: the control
 * events that end a stream (`expired`, `revoked`) carry it, so the reconnect resumes there.
 */
const trackPosition =
  (encode: FrameEncoder, context: FlushStreamContext): FrameEncoder =>
  item => {
    const frame = encode(item);
    const id = (item as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && id !== '') context.position = id;
    return frame;
  };

/**
 * Hands an error to Nest's exception filters (nothing was sent yet), with the headers it asks
 * for (`Retry-After` of a 503 while the broadcast transport is away).
 */
const toExceptionFilters =
  (stream: StreamRequest, subscriber: Subscriber<unknown>) =>
  (err: unknown): void => {
    const answer = runErrorForFormat(stream.plan.format, err);
    setErrorResponseHeaders(stream.rawRes, answer);
    subscriber.error(answer);
  };

/**
 * Runs every streaming route (`@Flush()` and Nest's own `@Sse()`): writes what the handler
 * returns to the raw response as it is produced, with one writer for every format. Nothing is
 * sent before the handler has settled, so guards, pipes and an async handler's errors get a real
 * status from the exception filters; an Observable whose first events fail synchronously does too.
 * After the headers, SSE gets a sanitized `event: error`, NDJSON an error line and an aborted
 * body, text an aborted body. Nest never sends a body of its own for these routes.
 * @publicApi
 */
@StreamSafe()
@Injectable()
export class FlushInterceptor implements NestInterceptor {
  private readonly logger = new Logger('FlushInterceptor');
  private readonly plans = new WeakMap<object, RoutePlan>();
  private readonly routeHooks = new WeakMap<RoutePlan, StreamWriterHooks>();
  private readonly modes = new WeakMap<object, { app: FlushAppContext; mode: FlushStreamMode }>();

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    private readonly metrics: FlushMetrics,
    private readonly connections: FlushConnections,
    private readonly controls: FlushStreamControls,
  ) {}

  intercept(
    context: ExecutionContext,
    next: CallHandler,
    app?: FlushAppContext,
  ): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const handler = context.getHandler();
    let plan = this.plans.get(handler);
    if (!plan) this.plans.set(handler, (plan = planRoute(context, this.options, this.logger)));
    const http = context.switchToHttp();
    const req = http.getRequest<object>();
    const res = http.getResponse<object>();
    const rawReq = toRawRequest(req as IncomingMessage);
    const rawRes = toRawResponse(res as ServerResponse);
    app ??= appForRequest(rawReq);
    if (!app) throw new FlushConfigurationError(FLUSH_NOT_SERVED(plan.name));
    const mode = this.modeOf(context, app);
    if (plan.nestSseSignal && NEST_SSE_ABORT_CONTROLLER) {
      // Nest's @SseSignal() reads its AbortController from the request.
      (req as Record<symbol, unknown>)[NEST_SSE_ABORT_CONTROLLER] ??= requestAbortController(
        rawReq,
        rawRes,
      );
    }
    // Whose stream it is, before the handler runs (a `streamKey` that throws answers 500 here).
    const streamContext = this.controls.createContext(req, plan.name);
    bindStreamToRequest(rawReq, streamContext);
    if (req !== rawReq) bindStreamToRequest(req, streamContext);
    const made = plan.session?.();
    const session = made && runAwareSession(made);
    const stream: StreamRequest = {
      plan,
      res,
      req,
      rawReq,
      rawRes,
      initialStatus: statusOf(res),
      encode: trackPosition(session?.encode ?? plan.encoder(), streamContext),
      context: streamContext,
      session,
    };
    // The handler, its producer and the hub subscriptions run in the stream's context.
    return new Observable<unknown>(subscriber =>
      runInStream(streamContext, () =>
        mode === 'direct'
          ? this.runDirect(stream, app, next, subscriber)
          : this.runChain(stream, app, next, subscriber),
      ),
    );
  }

  /** No interceptor runs inside: the handler hands its result over as it is. */
  private runDirect(
    stream: StreamRequest,
    app: FlushAppContext,
    next: CallHandler,
    subscriber: Subscriber<unknown>,
  ): () => void {
    enterStream(stream.rawRes, { mode: 'direct', app });
    // Once the stream is open Nest's pipeline may end (the response is "handled"), which frees
    // what it holds per request; with @Res({ passthrough: true }) it must never end, or Nest
    // would send a body of its own.
    const release = () => {
      if (!stream.plan.releasePipeline) return;
      subscriber.next(undefined);
      subscriber.complete();
    };
    const reject = toExceptionFilters(stream, subscriber);
    const inner = next.handle().subscribe({
      next: emitted => {
        const result = FlushResult.find(emitted);
        this.start(stream, result ? result.value : emitted, release).catch(reject);
      },
      error: reject,
    });
    return () => inner.unsubscribe();
  }

  /**
   * Interceptors run inside: the handler's Observable flows through them event by event (its
   * stream object, for other sources, once), as on any Nest route; the request pipeline lives
   * as long as the stream.
   */
  private runChain(
    stream: StreamRequest,
    app: FlushAppContext,
    next: CallHandler,
    subscriber: Subscriber<unknown>,
  ): () => void {
    const reject = toExceptionFilters(stream, subscriber);
    let events: StreamWriter | undefined;
    let opened = false;
    let done = false;
    // Read by finish(), which a synchronous source may reach while subscribe() still runs.
    // eslint-disable-next-line prefer-const
    let inner: Subscription | undefined;
    let stopShutdown: (() => void) | undefined;
    let admission: FlushAdmission | undefined;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      stopShutdown?.();
      admission?.release();
      inner?.unsubscribe();
      if (err !== undefined && events && !opened) {
        events.release();
        return reject(err);
      }
      if (err !== undefined && events) failStream(this.logger, err, stream, events);
      else if (err !== undefined) return reject(err);
      else if (events) {
        // Completed before the headers went out: they go first.
        if (!opened && !openStream(stream, events)) return;
        endStream(stream, events);
      }
      subscriber.next(undefined);
      subscriber.complete();
    };
    enterStream(stream.rawRes, {
      mode: 'chain',
      app,
      onSettled: value => {
        if (!isObservable(value) || done) return;
        events = createStreamWriter(stream, this.hooksOf(stream.plan));
        if (isClosed(stream.rawReq, stream.rawRes)) return finish();
        events.onClose(() => finish());
        // Caps first (a 429 before any byte); Nest subscribes to the Observable through the
        // interceptors meanwhile: events emitted at once, or an error, still come before the
        // headers (an exception filter can answer).
        this.admit(stream).then(
          admitted => {
            if (done) return admitted.release();
            admission = admitted;
            setImmediate(() => {
              Promise.all(stream.context.ready).then(() => {
                if (done || !events) return;
                opened = true;
                if (!openStream(stream, events)) return finish();
                stopShutdown = this.trackShutdown(stream, events);
                this.controlEnds(stream, events, admitted);
              }, finish);
            });
          },
          (err: unknown) => finish(err),
        );
      },
    });
    inner = next.handle().subscribe({
      next: value => {
        if (done) return;
        if (events) {
          let frame;
          try {
            frame = stream.encode(value);
          } catch (err) {
            return finish(err);
          }
          if (!events.push(frame) && events.closed) finish();
          return;
        }
        // Not an Observable: the stream object, possibly inside what an interceptor made of it.
        done = true;
        this.start(stream, unwrapStreamSource(value), () => undefined)
          .then(() => undefined, reject)
          .finally(() => {
            if (!subscriber.closed) {
              subscriber.next(undefined);
              subscriber.complete();
            }
          });
      },
      error: (err: unknown) => finish(err),
      complete: () => {
        if (events) finish();
      },
    });
    return () => {
      done = true;
      stopShutdown?.();
      inner?.unsubscribe();
    };
  }

  /** Settles the handler's result, opens the stream and pumps the source until it ends. */
  private async start(stream: StreamRequest, value: unknown, release: () => void): Promise<void> {
    // An async handler's errors still get a real status: nothing is sent before it settles.
    let source: unknown = await value;
    // A web Response: its status, headers and body pass through.
    if (isWebResponse(source)) ({ stream, body: source } = webResponseRequest(stream, source));
    if (isClosed(stream.rawReq, stream.rawRes)) {
      release();
      return releaseSource(source);
    }
    if (stream.rawReq.method === 'HEAD') {
      const writer = createStreamWriter(stream, this.hooksOf(stream.plan));
      releaseSource(source);
      openStream(stream, writer);
      release();
      writer.end();
      return;
    }
    // Caps before anything is subscribed or sent: a 429 (or a 503) reaches the exception filters.
    let admission: FlushAdmission;
    try {
      admission = await this.admit(stream);
    } catch (err) {
      releaseSource(source);
      throw err;
    }
    try {
      await this.pump(stream, source, release, admission);
    } finally {
      admission.release();
    }
  }

  /** Subscribes the source, opens the stream and writes until the source or the client ends. */
  private async pump(
    stream: StreamRequest,
    source: unknown,
    release: () => void,
    admission: FlushAdmission,
  ): Promise<void> {
    if (isClosed(stream.rawReq, stream.rawRes)) {
      release();
      return releaseSource(source);
    }
    const writer = createStreamWriter(stream, this.hooksOf(stream.plan));
    // Subscribed (an Observable) before the headers: events it emits at once are written right
    // after them, and a synchronous failure still reaches the exception filters.
    let early: { error: unknown } | undefined;
    const pumping = pumpSource(source, writer, stream.encode);
    pumping.catch((error: unknown) => (early ??= { error }));
    // One macrotask (Nest's own SSE waits as long): a synchronous failure lands in `early`;
    // hub subscriptions (and their replay) first, so a transport outage is a 503, not an event.
    await new Promise<void>(resolve => setImmediate(resolve));
    await Promise.all(stream.context.ready);
    // A first event that fails answers through the exception filters (a real status, as Nest
    // does); once an event is out, a failure is an error event after it.
    if (early && !writer.headersSent && !writer.hasPending) {
      writer.release();
      throw early.error;
    }
    if (!openStream(stream, writer)) return;
    release();
    const untrack = this.trackShutdown(stream, writer);
    this.controlEnds(stream, writer, admission);
    try {
      await pumping;
      endStream(stream, writer);
    } catch (err) {
      failStream(this.logger, err, stream, writer);
    } finally {
      untrack();
    }
  }

  /** The metrics hooks of a route's writers, with one log line per slow client disconnected. */
  private hooksOf(plan: RoutePlan): StreamWriterHooks {
    let hooks = this.routeHooks.get(plan);
    if (!hooks) {
      const shared = this.metrics.writerHooks;
      hooks = {
        ...shared,
        slowClient: bytes => {
          shared.slowClient?.(bytes);
          this.logger.warn(
            SLOW_CLIENT_DISCONNECTED(plan.name, bytes, plan.plainOptions.maxQueuedBytes),
          );
        },
      };
      this.routeHooks.set(plan, hooks);
    }
    return hooks;
  }

  /** The stream controls' admission of a stream (caps, deadline), before any byte. */
  private admit(stream: StreamRequest): Promise<FlushAdmission> {
    return this.controls.admit(stream.context, stream.req, stream.plan.limits, stream.plan.name);
  }

  /** Lets the controls end the open stream: `expired`, `revoked`, with the stream's position. */
  private controlEnds(
    stream: StreamRequest,
    writer: StreamWriter,
    admission: FlushAdmission,
  ): void {
    admission.opened((event, data, retryMs) =>
      writer.end(
        stream.session
          ? controlEnding(stream.session, event)
          : controlEndFrame(stream.plan.format, event, data, stream.context.position, retryMs),
      ),
    );
  }

  /** Ends the stream on application shutdown (SSE: after a jittered `retry:` hint). */
  private trackShutdown(stream: StreamRequest, writer: StreamWriter): () => void {
    return this.connections.track({
      response: stream.rawRes,
      format: stream.plan.format,
      shutdown: retryMs =>
        writer.end(
          stream.plan.format === 'sse' && retryMs !== undefined
            ? serializeSseRetry(retryMs)
            : undefined,
        ),
    });
  }

  /** Whether any interceptor runs inside this one on the route (computed once per route). */
  private modeOf(context: ExecutionContext, app: FlushAppContext): FlushStreamMode {
    const handler = context.getHandler();
    const known = this.modes.get(handler);
    if (known && known.app === app) return known.mode;
    const controller = context.getClass();
    const mode = innerInterceptors(handler).some(entry =>
      app.runsInside(entry, handler, controller),
    )
      ? 'chain'
      : 'direct';
    this.modes.set(handler, { app, mode });
    return mode;
  }
}
