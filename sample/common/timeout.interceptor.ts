import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { timeout, type Observable } from 'rxjs';

/** Requests taking longer than this fail with a 500 (the usual global timeout interceptor). */
export const REQUEST_TIMEOUT_MS = 5000;

/**
 * A global request timeout, also naive on purpose: without nestjs-flush, `timeout(5000)` would
 * kill every stream that stays quiet for 5 s (the chat) or runs longer (the LLM answer).
 */
@Injectable()
export class TimeoutInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(timeout(REQUEST_TIMEOUT_MS));
  }
}
