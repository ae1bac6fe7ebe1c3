import type { Logger } from '@nestjs/common';
import type {
  FlushAdmission,
  FlushStreamControls,
} from '../controls/flush-stream-controls.service.js';
import type { FlushMetrics } from '../flush.metrics.js';
import { SLOW_CLIENT_DISCONNECTED } from '../flush.messages.js';
import { isWebResponse } from '../formats/web-response.passthrough.js';
import type { FlushConnections } from '../shutdown/flush-connections.service.js';
import { serializeSseRetry } from '../sse/sse.serializer.js';
import { isClosed, releaseRouterContinuation } from '../writer/raw-response.util.js';
import { pumpSourceTo, releaseSource } from '../writer/stream-source.util.js';
import type { StreamWriter, StreamWriterHooks } from '../writer/stream.writer.js';
import { controlEndFrame, type RoutePlan } from './flush-route.plan.js';
import {
  controlEnding,
  createStreamWriter,
  endStream,
  failStream,
  openStream,
  webResponseRequest,
  type StreamRequest,
} from './flush-stream.response.js';

/** How a source's pumping ended: `error` set when it failed. */
type Outcome = { readonly error?: unknown };

/**
 * Opens and runs one stream whose source is known (the handler's settled result): admission by
 * the stream controls, headers once the source's start has settled, then the pumping until the
 * source or the client ends. Once the stream is open, no async function stays suspended for its
 * lifetime: what ends it is a callback on the pumping's outcome, so an idle stream holds only its
 * subscription, its writer and its request (memory per connection).
 * @internal
 */
export class FlushStreamRunner {
  private readonly routeHooks = new WeakMap<RoutePlan, StreamWriterHooks>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: FlushMetrics,
    private readonly connections: FlushConnections,
    private readonly controls: FlushStreamControls,
  ) {}

  /**
   * Settles the handler's result, opens the stream and hands the pumping to callbacks.
   * Rejects (before any byte) with what the exception filters should answer.
   */
  async start(stream: StreamRequest, value: unknown, release: () => void): Promise<void> {
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
    let handedOver = false;
    try {
      handedOver = await this.pump(stream, source, release, admission);
    } finally {
      if (!handedOver) admission.release();
    }
  }

  /**
   * Subscribes the source and opens the stream. Resolves true once the stream is open and its
   * end (and the admission's release) belongs to the pumping's outcome; false when it never
   * opened (the client left first).
   */
  private async pump(
    stream: StreamRequest,
    source: unknown,
    release: () => void,
    admission: FlushAdmission,
  ): Promise<boolean> {
    if (isClosed(stream.rawReq, stream.rawRes)) {
      release();
      releaseSource(source);
      return false;
    }
    const writer = createStreamWriter(stream, this.hooksOf(stream.plan));
    // Subscribed (an Observable) before the headers: events it emits at once are written right
    // after them, and a synchronous failure still reaches the exception filters.
    let outcome: Outcome | undefined;
    let onOutcome: ((outcome: Outcome) => void) | undefined;
    const settle = (o: Outcome): void => {
      outcome = o;
      onOutcome?.(o);
    };
    pumpSourceTo(source, writer, stream.encode, (failed, error) => settle(failed ? { error } : {}));
    // One macrotask (Nest's own SSE waits as long): a synchronous failure is known by then; hub
    // subscriptions (and their replay) first, so a transport outage is a 503, not an event.
    await new Promise<void>(resolve => setImmediate(resolve));
    await Promise.all(stream.context.ready);
    // Settled: nothing holds these promises past the start.
    stream.context.ready.length = 0;
    // A first event that fails answers through the exception filters (a real status, as Nest
    // does); once an event is out, a failure is an error event after it.
    if (outcome && 'error' in outcome && !writer.headersSent && !writer.hasPending) {
      writer.release();
      throw outcome.error;
    }
    if (!openStream(stream, writer)) return false;
    release();
    if (stream.plan.releasePipeline) releaseRouterContinuation(stream.rawReq);
    const untrack = this.trackShutdown(stream, writer);
    this.controlEnds(stream, writer, admission);
    const finish = (ended: Outcome): void => {
      onOutcome = undefined;
      try {
        if ('error' in ended) failStream(this.logger, ended.error, stream, writer);
        else endStream(stream, writer);
      } finally {
        untrack();
        admission.release();
      }
    };
    if (outcome) finish(outcome);
    else onOutcome = finish;
    return true;
  }

  /** The metrics hooks of a route's writers, with one log line per slow client disconnected. */
  hooksOf(plan: RoutePlan): StreamWriterHooks {
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
  admit(stream: StreamRequest): Promise<FlushAdmission> {
    return this.controls.admit(stream.context, stream.req, stream.plan.limits, stream.plan.name);
  }

  /** Lets the controls end the open stream: `expired`, `revoked`, with the stream's position. */
  controlEnds(stream: StreamRequest, writer: StreamWriter, admission: FlushAdmission): void {
    admission.opened((event, data, retryMs) =>
      writer.end(
        stream.session
          ? controlEnding(stream.session, event)
          : controlEndFrame(stream.plan.format, event, data, stream.context.position, retryMs),
      ),
    );
  }

  /** Ends the stream on application shutdown (SSE: after a jittered `retry:` hint). */
  trackShutdown(stream: StreamRequest, writer: StreamWriter): () => void {
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
}
