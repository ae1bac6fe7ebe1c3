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
import { FLUSH_NOT_SERVED } from '../flush.messages.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { FlushMetrics } from '../flush.metrics.js';
import { NEST_SSE_ABORT_CONTROLLER } from '../nest-compat/nest-metadata.compat.js';
import { innerInterceptors } from '../nest-compat/streaming-route.registry.js';
import { FlushConnections } from '../shutdown/flush-connections.service.js';
import {
  isClosed,
  requestAbortController,
  toRawRequest,
  toRawResponse,
} from '../writer/raw-response.util.js';
import { unwrapStreamSource } from '../writer/stream-source.util.js';
import type { StreamWriter } from '../writer/stream.writer.js';
import { FlushResult } from './flush-result.js';
import { runAwareSession, runErrorForFormat } from './run-format.adapter.js';
import { planRoute, type FrameEncoder, type RoutePlan } from './flush-route.plan.js';
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
  createStreamWriter,
  endStream,
  failStream,
  openStream,
  statusOf,
  type StreamRequest,
} from './flush-stream.response.js';
import {
  appForRequest,
  enterStream,
  type FlushAppContext,
  type FlushStreamMode,
} from './flush-stream.state.js';
import { FlushStreamRunner } from './flush-stream.runner.js';

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
  private readonly modes = new WeakMap<object, { app: FlushAppContext; mode: FlushStreamMode }>();

  private readonly runner: FlushStreamRunner;

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    metrics: FlushMetrics,
    connections: FlushConnections,
    private readonly controls: FlushStreamControls,
  ) {
    this.runner = new FlushStreamRunner(this.logger, metrics, connections, controls);
  }

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
        this.runner.start(stream, result ? result.value : emitted, release).catch(reject);
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
        events = createStreamWriter(stream, this.runner.hooksOf(stream.plan));
        if (isClosed(stream.rawReq, stream.rawRes)) return finish();
        events.onClose(() => finish());
        // Caps first (a 429 before any byte); Nest subscribes to the Observable through the
        // interceptors meanwhile: events emitted at once, or an error, still come before the
        // headers (an exception filter can answer).
        this.runner.admit(stream).then(
          admitted => {
            if (done) return admitted.release();
            admission = admitted;
            setImmediate(() => {
              Promise.all(stream.context.ready).then(() => {
                if (done || !events) return;
                opened = true;
                if (!openStream(stream, events)) return finish();
                stopShutdown = this.runner.trackShutdown(stream, events);
                this.runner.controlEnds(stream, events, admitted);
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
        this.runner
          .start(stream, unwrapStreamSource(value), () => undefined)
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
