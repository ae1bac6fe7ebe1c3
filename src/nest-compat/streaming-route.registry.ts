import type { Type } from '@nestjs/common';
import {
  addHiddenResponseParam,
  copyFunctionMetadata,
  getListedInterceptors,
  getRouteArgs,
  isNestSseHandler,
  NEST_METADATA,
  setListedInterceptors,
  setRouteArgs,
} from './nest-metadata.compat.js';

type AnyFn = (...args: unknown[]) => unknown;

/** What adopting a route needs from nestjs-flush (kept out of this folder). @internal */
export interface StreamingRouteAdapter {
  /** Whether a handler is a `@Flush()` route (already prepared by its decorator). */
  isFlushRoute(handler: object): boolean;
  /** Marks a former `@Sse()` handler as nestjs-flush's. */
  markSse(handler: object, original: object): void;
  /** Wraps a handler so it hands its result to FlushInterceptor. */
  wrapHandler(original: AnyFn): AnyFn;
  /** The object that runs first on every streaming route. */
  readonly routeInterceptor: object;
  /** Entries of the original lists that must not be repeated (FlushInterceptor itself). */
  isOwnInterceptor(entry: unknown): boolean;
}

interface AdoptedRoute {
  readonly prototype: object;
  readonly method: string;
  readonly controller: Type;
  /** The function Nest registers (the wrapper for a former `@Sse()`). */
  readonly handler: object;
  /** Its interceptor list as the user wrote it. */
  readonly listed: readonly unknown[];
  readonly restore: () => void;
  /** Applications using it: the route is restored once the last one closes. */
  readonly owners: Set<object>;
}

/** Globals per application, repeated inside FlushInterceptor on each route. */
const globalsByApp = new Map<object, readonly object[]>();
const routes = new Map<object, AdoptedRoute>();

const innerList = (route: AdoptedRoute, adapter: StreamingRouteAdapter): unknown[] => {
  const globals = new Set<object>();
  for (const [app, list] of globalsByApp)
    if (route.owners.has(app)) list.forEach(g => globals.add(g));
  const classLevel =
    (Reflect.getMetadata(NEST_METADATA.interceptors, route.controller) as unknown[] | undefined) ??
    [];
  return [
    adapter.routeInterceptor,
    ...globals,
    ...classLevel,
    ...route.listed.filter(entry => !adapter.isOwnInterceptor(entry)),
  ];
};

/**
 * Streaming routes (`@Sse()` and `@Flush()`) are served by nestjs-flush from the first byte:
 * a former `@Sse()` handler is replaced on its prototype by a wrapper without Nest's `@Sse()`
 * mark (so Nest never builds its SseStream) and with a hidden `@Res()`; on every streaming route,
 * FlushInterceptor runs first, and the application's global and class-level interceptors are
 * repeated inside it (their outer calls are bypassed), so the interceptors that run see each
 * event, in Nest's order. Done while providers are created, before `app.init()` registers the
 * routes; undone when the last application using a route closes.
 * @internal
 */
export const adoptStreamingRoutes = (
  app: object,
  controllers: Iterable<Type>,
  adapter: StreamingRouteAdapter,
): void => {
  for (const controller of controllers) {
    const seen = new Set<string>();
    for (
      let proto = controller.prototype as object | null;
      proto && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto) as object | null
    ) {
      for (const method of Object.getOwnPropertyNames(proto)) {
        if (method === 'constructor' || seen.has(method)) continue;
        seen.add(method);
        const handler = Object.getOwnPropertyDescriptor(proto, method)?.value as unknown;
        if (typeof handler !== 'function') continue;
        const known = routes.get(handler);
        if (known) {
          known.owners.add(app);
          continue;
        }
        if (adapter.isFlushRoute(handler)) adoptFlush(app, controller, proto, method, handler);
        else if (isNestSseHandler(handler))
          adoptSse(app, controller, proto, method, handler as AnyFn, adapter);
      }
    }
  }
  refresh(adapter);
};

const adoptFlush = (
  app: object,
  controller: Type,
  prototype: object,
  method: string,
  handler: object,
): void => {
  const listed = getListedInterceptors(handler);
  routes.set(handler, {
    prototype,
    method,
    controller,
    handler,
    listed,
    owners: new Set([app]),
    restore: () => setListedInterceptors(handler, listed),
  });
};

const adoptSse = (
  app: object,
  controller: Type,
  prototype: object,
  method: string,
  original: AnyFn,
  adapter: StreamingRouteAdapter,
): void => {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, method)!;
  const wrapped = adapter.wrapHandler(original);
  copyFunctionMetadata(original, wrapped, [NEST_METADATA.sse, NEST_METADATA.interceptors]);
  Object.defineProperty(wrapped, 'name', { value: original.name });
  Object.defineProperty(wrapped, 'length', { value: original.length });
  adapter.markSse(wrapped, original);
  const routeArgs = getRouteArgs(controller, method);
  const savedArgs = routeArgs === undefined ? undefined : { ...routeArgs };
  addHiddenResponseParam(prototype, method, original);
  Object.defineProperty(prototype, method, { ...descriptor, value: wrapped });
  const route: AdoptedRoute = {
    prototype,
    method,
    controller,
    handler: wrapped,
    listed: getListedInterceptors(original),
    owners: new Set([app]),
    restore: () => {
      Object.defineProperty(prototype, method, descriptor);
      setRouteArgs(controller, method, savedArgs);
    },
  };
  routes.set(original, route);
  routes.set(wrapped, route);
};

/** Records an application's global interceptors and rebuilds the routes' lists. @internal */
export const setAppGlobals = (
  app: object,
  globals: readonly object[],
  adapter: StreamingRouteAdapter,
): void => {
  globalsByApp.set(app, globals);
  refresh(adapter);
};

const refresh = (adapter: StreamingRouteAdapter): void => {
  for (const route of new Set(routes.values())) {
    setListedInterceptors(route.handler, innerList(route, adapter));
  }
};

/** The interceptors listed on an adopted route after FlushInterceptor. @internal */
export const innerInterceptors = (handler: object): readonly unknown[] =>
  getListedInterceptors(handler).slice(1);

/** Lets go of an application's routes; restores those no application uses anymore. @internal */
export const releaseStreamingRoutes = (app: object, adapter: StreamingRouteAdapter): void => {
  globalsByApp.delete(app);
  for (const route of new Set(routes.values())) {
    if (!route.owners.delete(app) || route.owners.size > 0) continue;
    for (const [key, known] of routes) if (known === route) routes.delete(key);
    route.restore();
  }
  refresh(adapter);
};
