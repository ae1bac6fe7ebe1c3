import type { ExecutionContext, Type } from '@nestjs/common';
import type { FlushSkipMode } from '../flush-module-options.interface.js';
import type { FlushRouteOptions } from '../flush-route-options.interface.js';
import {
  FLUSH_SKIP_INTERCEPTORS_METADATA,
  FLUSH_STREAM_METADATA,
  FLUSH_STREAM_SAFE_METADATA,
} from '../flush.internal-constants.js';
import { isNestSseHandler } from '../nest-compat/nest-metadata.compat.js';

/** How a route streams: Nest's `@Sse()`, `@Flush()`, or `@StreamingRoute()` (writes itself). @publicApi */
export type FlushStreamKind = 'sse' | 'flush' | 'raw';

/** Metadata `@Flush()` / `@StreamingRoute()` store on a handler. @internal */
export interface FlushStreamMetadata {
  /** `sse`: a Nest `@Sse()` route nestjs-flush serves (set at bootstrap). */
  kind: 'sse' | 'flush' | 'raw';
  options: FlushRouteOptions;
}

type AnyFn = (...args: never[]) => unknown;

const getOwn = <T>(key: string, target: object): T | undefined =>
  Reflect.getMetadata(key, target) as T | undefined;

/** The stream metadata of a handler, if it is a `@Flush()` or `@StreamingRoute()` route. @internal */
export const getFlushMetadata = (handler: AnyFn): FlushStreamMetadata | undefined =>
  getOwn<FlushStreamMetadata>(FLUSH_STREAM_METADATA, handler);

/** How a handler streams, or undefined for an ordinary route. @publicApi */
export const getStreamKind = (handler: AnyFn | undefined): FlushStreamKind | undefined => {
  if (!handler) return undefined;
  const kind = getFlushMetadata(handler)?.kind;
  if (kind) return kind;
  return isNestSseHandler(handler) ? 'sse' : undefined;
};

/**
 * Whether the route of an execution context streams (`@Sse()`, `@Flush()` or
 * `@StreamingRoute()`). For interceptor authors who want to leave streams alone themselves.
 * @example if (isStreamingRoute(context)) return next.handle();
 * @publicApi
 */
export const isStreamingRoute = (context: ExecutionContext): boolean =>
  context.getType() === 'http' && getStreamKind(context.getHandler() as AnyFn) !== undefined;

/** Whether an interceptor class is marked `@StreamSafe()`. @internal */
export const isStreamSafe = (interceptor: object | undefined): boolean =>
  !!interceptor && getOwn(FLUSH_STREAM_SAFE_METADATA, interceptor) === true;

/**
 * The route's interceptor skipping rule: `@FlushSkipInterceptors()` on the method, then on the
 * class, then the route's `@Flush({ skipInterceptors })`, then the module default.
 * @internal
 */
export const getSkipRule = (
  handler: AnyFn,
  controller: Type | undefined,
  moduleDefault: FlushSkipMode,
): FlushSkipMode =>
  getOwn<FlushSkipMode>(FLUSH_SKIP_INTERCEPTORS_METADATA, handler) ??
  (controller ? getOwn<FlushSkipMode>(FLUSH_SKIP_INTERCEPTORS_METADATA, controller) : undefined) ??
  getFlushMetadata(handler)?.options.skipInterceptors ??
  moduleDefault;
