import type { IncomingMessage } from 'node:http';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { FlushConfigurationError } from '../flush.errors.js';
import { FLUSH_STREAM_METADATA } from '../flush.internal-constants.js';
import { FLUSH_NOT_SERVED, routeLabel } from '../flush.messages.js';
import type { StreamingRouteAdapter } from '../nest-compat/streaming-route.registry.js';
import { toRawRequest, toRawResponse } from '../writer/raw-response.util.js';
import { getFlushMetadata, type FlushStreamMetadata } from './flush-metadata.accessor.js';
import { appForRequest, streamingHandler } from './flush-stream.state.js';
import { FlushInterceptor } from './flush.interceptor.js';

/**
 * The first interceptor of every streaming route: hands the request to the FlushInterceptor of
 * the application that received it (route metadata is shared by every app of the process).
 * @internal
 */
export const FLUSH_ROUTE_INTERCEPTOR: NestInterceptor = Object.freeze({
  intercept(context: ExecutionContext, next: CallHandler) {
    const app =
      context.getType() === 'http'
        ? appForRequest(toRawRequest(context.switchToHttp().getRequest<IncomingMessage>()))
        : undefined;
    if (!app) {
      if (context.getType() !== 'http') return next.handle();
      throw new FlushConfigurationError(
        FLUSH_NOT_SERVED(routeLabel(context.getClass(), context.getHandler().name)),
      );
    }
    return app.intercept(context, next) as ReturnType<NestInterceptor['intercept']>;
  },
});

const safeRawResponse = (res: unknown) =>
  res !== null && typeof res === 'object'
    ? toRawResponse(res as Parameters<typeof toRawResponse>[0])
    : undefined;

/** Wraps a streaming handler so it hands its result to FlushInterceptor. @internal */
export const wrapStreamingHandler = (original: (...args: unknown[]) => unknown) =>
  streamingHandler(original, safeRawResponse);

/** How nestjs-flush's streaming routes are adopted (see `adoptStreamingRoutes()`). @internal */
export const STREAMING_ROUTE_ADAPTER: StreamingRouteAdapter = {
  isFlushRoute: handler =>
    getFlushMetadata(handler as (...args: never[]) => unknown)?.kind === 'flush',
  markSse: handler => {
    const metadata: FlushStreamMetadata = { kind: 'sse', options: {} };
    Reflect.defineMetadata(FLUSH_STREAM_METADATA, metadata, handler);
  },
  wrapHandler: wrapStreamingHandler,
  routeInterceptor: FLUSH_ROUTE_INTERCEPTOR,
  isOwnInterceptor: entry =>
    entry === FlushInterceptor ||
    entry === FLUSH_ROUTE_INTERCEPTOR ||
    entry instanceof FlushInterceptor,
};
