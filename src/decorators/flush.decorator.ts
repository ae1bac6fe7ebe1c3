import { SetMetadata, UseInterceptors } from '@nestjs/common';
import { routeLabel } from '../flush.messages.js';
import { FLUSH_STREAM_METADATA } from '../flush.internal-constants.js';
import type { FlushRouteOptions } from '../flush-route-options.interface.js';
import type { FlushStreamMetadata } from '../interceptors/flush-metadata.accessor.js';
import {
  FLUSH_ROUTE_INTERCEPTOR,
  wrapStreamingHandler,
} from '../interceptors/streaming-route.adapter.js';
import { addHiddenResponseParam } from '../nest-compat/nest-metadata.compat.js';
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
  return (target, key, descriptor) => {
    validateRouteOptions(routeLabel(target.constructor, key), options);
    // A hidden @Res() tells Nest the response is handled: it never sends a body of its own, and
    // its request pipeline can end once the stream is open (see addHiddenResponseParam()).
    addHiddenResponseParam(target, key, descriptor.value as (...args: never[]) => unknown);
    // The handler hands its own return value (not Nest's flattening of it) to FlushInterceptor,
    // which then knows when the handler has settled: errors until then get a real status.
    // FlushModule makes FlushInterceptor the route's first interceptor at bootstrap.
    wrapMethod(descriptor, wrapStreamingHandler);
    SetMetadata(FLUSH_STREAM_METADATA, metadata)(target, key, descriptor);
    // FlushInterceptor's entry point; moved first (and the app's interceptors repeated after it)
    // when FlushModule adopts the route at bootstrap.
    UseInterceptors(FLUSH_ROUTE_INTERCEPTOR)(target, key, descriptor);
  };
};
