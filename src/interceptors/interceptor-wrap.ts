import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { FLUSH_WRAPPED } from '../flush.internal-constants.js';
import { toRawRequest, toRawResponse } from '../writer/raw-response.util.js';
import { getStreamKind, type FlushStreamKind } from './flush-metadata.accessor.js';
import { appForRequest, streamStateOf, type FlushAppContext } from './flush-stream.state.js';

/**
 * The wrapper FlushModule puts around an interceptor's `intercept`: on a streaming route it calls
 * `next.handle()` directly unless the application's rule lets the interceptor run there (and on
 * `@Sse()` / `@Flush()` routes, only from its copy inside FlushInterceptor).
 */

/** @internal */
export type Intercept = NestInterceptor['intercept'];
type AnyFn = (...args: never[]) => unknown;

/** Per wrapped interceptor (instance or class): the applications it is global in. */
export interface WrapState {
  readonly globalIn: Set<FlushAppContext>;
  readonly streamSafe: boolean;
}

/** Whether an interceptor with `state` runs on a streaming route of `app` (`kind` 'sse'/'flush': inside FlushInterceptor). */
export const runsOn = (
  state: WrapState,
  app: FlushAppContext,
  handler: object,
  controller: object,
): boolean => {
  const global = state.globalIn.has(app);
  if (!global && state.globalIn.size > 0) return false; // another application's global one
  if (state.streamSafe) return true;
  const rule = app.ruleFor(handler, controller);
  return global ? rule === 'none' : rule !== 'all';
};

/**
 * Stream kind per handler function, read once: the wrapper runs on every request of every route
 * for every wrapped interceptor, and a route's metadata is fixed once the app has started
 * (adoption gives `@Sse()` routes a new handler function, so it gets its own entry).
 */
const streamKinds = new WeakMap<object, FlushStreamKind | null>();
const streamKindOf = (handler: AnyFn): FlushStreamKind | undefined => {
  let kind = streamKinds.get(handler);
  if (kind === undefined) {
    kind = getStreamKind(handler) ?? null;
    streamKinds.set(handler, kind);
  }
  return kind ?? undefined;
};

export const wrapIntercept = (original: Intercept, state: WrapState): Intercept => {
  const wrapped = function (this: NestInterceptor, ctx: ExecutionContext, next: CallHandler) {
    if (ctx.getType() === 'http') {
      const handler = ctx.getHandler();
      const kind = streamKindOf(handler as AnyFn);
      if (kind !== undefined) {
        const http = ctx.switchToHttp();
        if (kind === 'raw') {
          const app = appForRequest(toRawRequest(http.getRequest<IncomingMessage>()));
          if (app && !runsOn(state, app, handler, ctx.getClass())) return next.handle();
        } else {
          // Outside FlushInterceptor (global and class-level positions): always bypassed; the
          // interceptor runs, if its rule says so, from its copy inside FlushInterceptor.
          const stream = streamStateOf(toRawResponse(http.getResponse<ServerResponse>()));
          if (!stream || !runsOn(state, stream.app, handler, ctx.getClass())) {
            return next.handle();
          }
        }
      }
    }
    return original.call(this, ctx, next);
  };
  Object.defineProperty(wrapped, FLUSH_WRAPPED, { value: state });
  return wrapped;
};

export const stateOf = (fn: unknown): WrapState | undefined =>
  typeof fn === 'function'
    ? ((fn as unknown as Record<symbol, WrapState | undefined>)[FLUSH_WRAPPED] ?? undefined)
    : undefined;
