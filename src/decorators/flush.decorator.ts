import { applyDecorators, Res, SetMetadata, UseInterceptors } from '@nestjs/common';
import { FLUSH_STREAM_METADATA, NEST_ROUTE_ARGS_METADATA } from '../flush.internal-constants.js';
import type { FlushRouteOptions } from '../flush-route-options.interface.js';
import { FlushInterceptor } from '../interceptors/flush.interceptor.js';
import type { FlushStreamMetadata } from '../interceptors/flush-metadata.accessor.js';
import { FlushResult } from '../interceptors/flush-result.js';
import { validateRouteOptions } from './flush-route-options.validator.js';
import { wrapMethod } from './method-wrapper.util.js';

/**
 * Streams the handler's result to the client as it is produced: an Observable, an async iterable
 * (async generator), a Node `Readable`, a web `ReadableStream`, a generator, or a Promise of one.
 * Each event goes out at once (no buffering, also behind compression middleware), with heartbeats,
 * backpressure, a bound for slow clients, producer cancellation on disconnect and prompt shutdown,
 * on NestJS 11 and 12, express and fastify. Global interceptors leave the route alone.
 * @example @Get('clock') @Flush() clock() { return interval(1000).pipe(map(i => ({ i }))); }
 * @example @Get('export') @Flush({ format: 'ndjson' }) async *rows() { yield* this.db.rows(); }
 * @example @Post('complete') @Flush({ format: 'text' }) complete(@Body() b, @FlushSignal() signal: AbortSignal) { ... }
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 * @publicApi
 */
export const Flush = (options: FlushRouteOptions = {}): MethodDecorator => {
  const metadata: FlushStreamMetadata = { kind: 'flush', options: { ...options } };
  const mark = applyDecorators(
    SetMetadata(FLUSH_STREAM_METADATA, metadata),
    UseInterceptors(FlushInterceptor),
  );
  return (target, key, descriptor) => {
    validateRouteOptions(`${target.constructor.name}.${String(key)}()`, options);
    // An @Res() parameter past the handler's own tells Nest the response is handled: it never
    // sends a body of its own, and its request pipeline can end once the stream is open instead
    // of staying alive as long as the stream (about 6 KB per connection). The handler receives the
    // response as one extra trailing argument, which it ignores.
    const declared = Object.values(
      (Reflect.getMetadata(NEST_ROUTE_ARGS_METADATA, target.constructor, key) ?? {}) as Record<
        string,
        { index: number }
      >,
    ).map(arg => arg.index + 1);
    Res()(
      target,
      key,
      Math.max((descriptor.value as (...a: unknown[]) => unknown).length, 0, ...declared),
    );
    // The handler's own return value (not Nest's flattening of it) reaches FlushInterceptor, which
    // then knows when the handler has settled: errors until then get a real status.
    wrapMethod(
      descriptor,
      original =>
        function (this: unknown, ...args: unknown[]) {
          return new FlushResult(original.apply(this, args));
        },
    );
    mark(target, key, descriptor);
  };
};
