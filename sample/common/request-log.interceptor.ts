import {
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { finalize, type Observable } from 'rxjs';
import { StreamSafe } from 'nestjs-flush';

/**
 * Logs every request when it ends, streams included: `@StreamSafe()` keeps it running on
 * streaming routes, where the envelope and timeout interceptors are left out.
 */
@StreamSafe()
@Injectable()
export class RequestLogInterceptor implements NestInterceptor {
  private readonly logger = new Logger('HTTP');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<{ method?: string; url?: string }>();
    const started = Date.now();
    return next
      .handle()
      .pipe(
        finalize(() =>
          this.logger.debug(`${req.method ?? '?'} ${req.url ?? '?'} ${Date.now() - started} ms`),
        ),
      );
  }
}
