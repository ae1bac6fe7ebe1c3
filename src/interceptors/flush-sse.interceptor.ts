import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Logger,
  type CallHandler,
  type ExecutionContext,
  type MessageEvent,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { hasSharedFrame } from '../broadcast/flush-hub-event.js';
import { StreamSafe } from '../decorators/stream-safe.decorator.js';
import { reportStreamError } from '../flush.errors-mapping.js';
import { FLUSH_FRAME } from '../flush.internal-constants.js';
import { FlushConnections } from '../shutdown/flush-connections.service.js';
import { serializeSseEvent, serializeSseRetry } from '../sse/sse.serializer.js';
import { toRawRequest, toRawResponse } from '../writer/raw-response.util.js';
import { StreamWriter } from '../writer/stream.writer.js';

type SseMessage = MessageEvent & { comment?: string };

const HEARTBEAT: SseMessage = Object.freeze({ comment: '' });

/** Normalises an event for every Nest version (11.2.10 crashes on numeric data, 11.1 drops 0 and ''). */
const normalize = (value: unknown): SseMessage => {
  if (value === null || typeof value !== 'object')
    return { data: value === undefined ? '' : String(value) };
  const event = value as SseMessage;
  const data: unknown = event.data;
  if (
    data === null ||
    (data !== undefined && typeof data !== 'object' && typeof data !== 'string')
  ) {
    return { ...event, data: String(data) };
  }
  return event;
};

/**
 * Added by FlushModule to every Nest `@Sse()` route (as the innermost interceptor, so no other
 * route pays for it): comment heartbeats after `heartbeatIntervalMs` of silence; an error becomes
 * a sanitized `event: error` and a clean close (never an internal message, on any Nest version,
 * and never an exception filter writing JSON into a stream); events are normalised; on shutdown
 * the stream ends with a jittered `retry:` hint.
 *
 * A stream whose first event comes from FlushHub is written by a StreamWriter attached to the
 * response, as on `@Flush()` routes: each event's frame, encoded once per publish, goes to the
 * socket in one write per tick, under the slow-client bound; Nest still sends the headers and
 * ends the response. Stateless: one instance serves every application.
 * @internal
 */
@StreamSafe()
export class FlushSseInterceptor implements NestInterceptor {
  private readonly logger = new Logger('FlushSse');

  intercept(context: ExecutionContext, next: CallHandler): Observable<SseMessage> {
    const http = context.switchToHttp();
    const req = toRawRequest(http.getRequest<IncomingMessage>());
    const res = toRawResponse(http.getResponse<ServerResponse>());
    const connections = FlushConnections.forRequest(req);
    const heartbeatMs = connections?.options.heartbeatIntervalMs ?? false;
    const header = req.headers['last-event-id'];
    let lastId: string | undefined =
      typeof header === 'string' && header.length <= 256 ? header : undefined;

    return new Observable<SseMessage>(subscriber => {
      let timer: NodeJS.Timeout | undefined;
      const stopBeating = () => {
        if (timer) clearTimeout(timer);
        timer = undefined;
      };
      if (heartbeatMs !== false) {
        timer = setTimeout(function beat() {
          subscriber.next(HEARTBEAT);
          timer?.refresh();
        }, heartbeatMs);
        timer.unref();
      }
      /** Set once the stream writes its events itself (see the class comment). */
      let writer: StreamWriter | undefined;
      /** Hands the response back to Nest once our bytes are out, then completes. */
      /** Set once the stream is ending: later events are not written. */
      let ending = false;
      const finish = (last?: string) => {
        ending = true;
        if (!writer) return subscriber.complete();
        void writer.detach(last).then(() => subscriber.complete());
      };
      const untrack = connections?.track({
        response: res,
        shutdown: retryMs => {
          if (writer) return finish(retryMs === undefined ? undefined : serializeSseRetry(retryMs));
          // An explicit id keeps Nest from numbering this frame (and the client's position intact).
          if (retryMs !== undefined)
            subscriber.next({ id: lastId ?? '', retry: retryMs, comment: 'shutdown' });
          subscriber.complete();
        },
      });
      const fail = (err: unknown): void => {
        // Before the headers, exception filters still answer with a real status.
        if (!res.headersSent) {
          writer?.release();
          return subscriber.error(err);
        }
        const publicError = reportStreamError(
          this.logger,
          `${context.getClass().name}.${context.getHandler().name}()`,
          err,
        );
        const errorEvent: SseMessage = {
          type: 'error',
          data: publicError.message,
          ...(lastId !== undefined && { id: lastId }),
        };
        if (writer) return finish(serializeSseEvent(errorEvent));
        subscriber.next(errorEvent);
        subscriber.complete();
      };
      const inner = next.handle().subscribe({
        next: value => {
          if (ending) return;
          if (!writer && connections && hasSharedFrame(value) && req.method !== 'HEAD') {
            stopBeating();
            writer = new StreamWriter(
              req,
              res,
              connections.sseWriterOptions,
              connections.metrics.writerHooks,
            );
            writer.attach();
          }
          if (writer) {
            if (hasSharedFrame(value)) {
              lastId = value.id;
              writer.push(value[FLUSH_FRAME]);
            } else {
              const event = normalize(value);
              let frame: string;
              try {
                frame = serializeSseEvent(event); // throws for a BigInt or a circular object
              } catch (err) {
                return fail(err);
              }
              if (event.id !== undefined && event.id !== null) lastId = String(event.id);
              writer.push(frame);
            }
            return;
          }
          const event = normalize(value);
          if (event.id !== undefined && event.id !== null) lastId = String(event.id);
          timer?.refresh();
          subscriber.next(event);
        },
        error: fail,
        complete: () => finish(),
      });
      return () => {
        stopBeating();
        writer?.release();
        untrack?.();
        inner.unsubscribe();
      };
    });
  }
}

/** The one instance FlushModule attaches to `@Sse()` routes. @internal */
export const FLUSH_SSE_INTERCEPTOR = new FlushSseInterceptor();
