import {
  mixin,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { type Observable } from 'rxjs';
import { isStreamingRoute } from './flush-metadata.accessor.js';

const cache = new WeakMap<Type<NestInterceptor>, Type<NestInterceptor>>();

/**
 * Wraps one interceptor class explicitly so it runs only on non-streaming routes, wherever it is
 * registered (also where FlushModule's automatic exclusion does not apply, e.g. with
 * `skipInterceptors: 'none'`). Memoised: the same class always gives the same mixin.
 * @example { provide: APP_INTERCEPTOR, useClass: StreamAware(ClassSerializerInterceptor) }
 * @publicApi
 */
export const StreamAware = (Inner: Type<NestInterceptor>): Type<NestInterceptor> => {
  const known = cache.get(Inner);
  if (known) return known;
  class StreamAwareInterceptor extends (Inner as Type<NestInterceptor & object>) {
    override intercept(
      context: ExecutionContext,
      next: CallHandler,
    ): Observable<unknown> | Promise<Observable<unknown>> {
      return isStreamingRoute(context) ? next.handle() : super.intercept(context, next);
    }
  }
  const result = mixin(StreamAwareInterceptor);
  cache.set(Inner, result);
  return result;
};
