import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeLabel } from '../flush.messages.js';
import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable, type Subscriber, type Subscription } from 'rxjs';
import { getRouteLimits } from '../controls/flush-limits.decorator.js';
import { FlushStreamControls } from '../controls/flush-stream-controls.service.js';
import { FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { bindStreamToRequest, runInStream } from '../flush-stream.context.js';
import { setErrorResponseHeaders } from '../broadcast/flush-unavailable.error.js';
import { StreamSafe } from '../decorators/stream-safe.decorator.js';
import { reportStreamError } from '../flush.errors-mapping.js';
import { toRawRequest, toRawResponse } from '../writer/raw-response.util.js';

/**
 * Runs `@StreamingRoute()` routes (handlers that write the response themselves): once the handler
 * has sent headers, what it returns is not sent again by Nest and its errors do not reach
 * exception filters (which could only fail with `ERR_HTTP_HEADERS_SENT`); they are logged and the
 * response is ended. Before that, the route behaves as any other.
 * @publicApi
 */
@StreamSafe()
@Injectable()
export class FlushRawStreamInterceptor implements NestInterceptor {
  private readonly logger = new Logger('FlushRawStreamInterceptor');

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    private readonly controls: FlushStreamControls,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<object>();
    const res = toRawResponse(http.getResponse<ServerResponse>());
    const rawReq = toRawRequest(req as IncomingMessage);
    const handler = context.getHandler();
    const route = routeLabel(context.getClass(), handler.name);
    // The stream controls hold here too: a key, a slot (429 before the handler writes), and an
    // end at the lifetime or on revocation (the response just ends: the route owns its format).
    const streamContext = this.controls.createContext(req, route);
    bindStreamToRequest(rawReq, streamContext);
    if (req !== rawReq) bindStreamToRequest(req, streamContext);
    const limits = getRouteLimits(handler, context.getClass(), this.options);
    return new Observable<unknown>(subscriber => {
      let inner: Subscription | undefined;
      let closed = false;
      this.controls.admit(streamContext, req, limits, route).then(
        admission => {
          if (closed || res.destroyed || res.writableEnded) return admission.release();
          res.once('close', () => admission.release());
          admission.opened(() => {
            if (!res.writableEnded) res.end();
          });
          inner = runInStream(streamContext, () => this.handle(next, res, route, subscriber));
        },
        (err: unknown) => {
          setErrorResponseHeaders(res, err); // Retry-After of a 429 or a 503
          subscriber.error(err);
        },
      );
      return () => {
        closed = true;
        inner?.unsubscribe();
      };
    });
  }

  private handle(
    next: CallHandler,
    res: ServerResponse,
    route: string,
    subscriber: Subscriber<unknown>,
  ): Subscription {
    return next.handle().subscribe({
      next: value => {
        if (!res.headersSent) subscriber.next(value);
      },
      error: (err: unknown) => {
        if (!res.headersSent) {
          setErrorResponseHeaders(res, err); // Retry-After of a 503 (transport away)
          return subscriber.error(err);
        }
        reportStreamError(this.logger, route, err);
        if (!res.writableEnded) res.destroy();
      },
      complete: () => {
        // Completing without a value would make Nest fail with EmptyError: once the handler has
        // taken the response over, the Observable just stays open (nothing holds it).
        if (!res.headersSent) subscriber.complete();
      },
    });
  }
}
