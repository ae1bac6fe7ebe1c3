import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Logger,
  type CallHandler,
  type ExecutionContext,
  type MessageEvent,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { StreamSafe } from '../decorators/stream-safe.decorator.js';
import { reportStreamError } from '../flush.errors-mapping.js';
import { FlushConnections } from '../shutdown/flush-connections.service.js';
import { toRawRequest, toRawResponse } from '../writer/raw-response.util.js';

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
 * the stream ends with a jittered `retry:` hint. Stateless: one instance serves every application.
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
      if (heartbeatMs !== false) {
        timer = setTimeout(function beat() {
          subscriber.next(HEARTBEAT);
          timer?.refresh();
        }, heartbeatMs);
        timer.unref();
      }
      const untrack = connections?.track({
        response: res,
        shutdown: retryMs => {
          // An explicit id keeps Nest from numbering this frame (and the client's position intact).
          if (retryMs !== undefined)
            subscriber.next({ id: lastId ?? '', retry: retryMs, comment: 'shutdown' });
          subscriber.complete();
        },
      });
      const inner = next.handle().subscribe({
        next: value => {
          const event = normalize(value);
          if (event.id !== undefined && event.id !== null) lastId = String(event.id);
          timer?.refresh();
          subscriber.next(event);
        },
        error: (err: unknown) => {
          // Before the headers, exception filters still answer with a real status.
          if (!res.headersSent) return subscriber.error(err);
          const publicError = reportStreamError(
            this.logger,
            `${context.getClass().name}.${context.getHandler().name}()`,
            err,
          );
          subscriber.next({
            type: 'error',
            data: publicError.message,
            ...(lastId !== undefined && { id: lastId }),
          });
          subscriber.complete();
        },
        complete: () => subscriber.complete(),
      });
      return () => {
        if (timer) clearTimeout(timer);
        untrack?.();
        inner.unsubscribe();
      };
    });
  }
}

/** The one instance FlushModule attaches to `@Sse()` routes. @internal */
export const FLUSH_SSE_INTERCEPTOR = new FlushSseInterceptor();
