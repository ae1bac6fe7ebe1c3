import type { ServerResponse } from 'node:http';
import { routeLabel } from '../flush.messages.js';
import {
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { setErrorResponseHeaders } from '../broadcast/flush-unavailable.error.js';
import { StreamSafe } from '../decorators/stream-safe.decorator.js';
import { reportStreamError } from '../flush.errors-mapping.js';
import { toRawResponse } from '../writer/raw-response.util.js';

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

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = toRawResponse(context.switchToHttp().getResponse<ServerResponse>());
    const route = routeLabel(context.getClass(), context.getHandler().name);
    return new Observable<unknown>(subscriber =>
      next.handle().subscribe({
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
      }),
    );
  }
}
