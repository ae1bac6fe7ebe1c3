import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import type { FlushSkipMode } from '../flush-module-options.interface.js';
import { FlushResult } from './flush-result.js';

/**
 * What one application decides for streaming routes; FlushInterceptorExclusion implements it.
 * @internal
 */
export interface FlushAppContext {
  /** The route's interceptor rule in this application. */
  ruleFor(handler: object, controller: object): FlushSkipMode;
  /** Whether an interceptor instance is one of this application's global ones. */
  isGlobal(interceptor: object): boolean;
  /** Whether an interceptor instance is a global one of another application. */
  isForeignGlobal(interceptor: object): boolean;
  /** Whether an entry of a route's interceptor list runs inside FlushInterceptor. */
  runsInside(entry: unknown, handler: object, controller: object): boolean;
  /** Runs a streaming route (FlushInterceptor of this application). */
  intercept(context: ExecutionContext, next: CallHandler): unknown;
}

/**
 * How the handler's result reaches FlushInterceptor:
 * - `direct`: no interceptor runs inside it, so the handler hands its result over as it is (a
 *   FlushResult), and Nest's request pipeline is released once the stream is open;
 * - `chain`: interceptors run inside it (`@UseInterceptors()` on the route, `@StreamSafe()` ones,
 *   global ones with `skipInterceptors: 'none'`): the result goes through them, so they see each
 *   event of an Observable (or the stream object once), as on any Nest route.
 * @internal
 */
export type FlushStreamMode = 'direct' | 'chain';

/** Per request, from FlushInterceptor to the interceptors inside it and to the handler. @internal */
export interface FlushStreamState {
  readonly mode: FlushStreamMode;
  readonly app: FlushAppContext;
  /** Called (chain mode) once the handler's result has settled. */
  onSettled?(value: unknown): void;
}

const states = new WeakMap<object, FlushStreamState>();
const apps = new WeakMap<object, FlushAppContext>();
const allApps = new Set<FlushAppContext>();

/** Marks that FlushInterceptor runs for this response. @internal */
export const enterStream = (res: ServerResponse, state: FlushStreamState): void => {
  states.set(res, state);
};

/** The stream state of a response, once FlushInterceptor runs for it. @internal */
export const streamStateOf = (res: ServerResponse | undefined): FlushStreamState | undefined =>
  res ? states.get(res) : undefined;

/** Registers the application serving an HTTP server. @internal */
export const registerApp = (server: object, app: FlushAppContext): void => {
  apps.set(server, app);
  allApps.add(app);
};

/** Forgets an application. @internal */
export const unregisterApp = (server: object | undefined, app: FlushAppContext): void => {
  if (server && apps.get(server) === app) apps.delete(server);
  allApps.delete(app);
};

/**
 * The application that received a request: by its HTTP server, or the only one there is
 * (an HTTP/2 request's socket may not name its server).
 * @internal
 */
export const appForRequest = (req: IncomingMessage | undefined): FlushAppContext | undefined => {
  const server = (req?.socket as { server?: object } | null | undefined)?.server;
  const app = server ? apps.get(server) : undefined;
  if (app) return app;
  if (allApps.size === 1) return allApps.values().next().value;
  return undefined;
};

/**
 * Wraps a streaming route's handler: in `direct` mode its result is handed to FlushInterceptor
 * as it is (Nest neither flattens nor sends it); in `chain` mode it goes on through Nest (and
 * the interceptors inside FlushInterceptor), and FlushInterceptor learns when it settled.
 * The response is the handler's hidden trailing `@Res()` argument.
 * @internal
 */
export const streamingHandler = (
  original: (...args: unknown[]) => unknown,
  toRaw: (res: unknown) => ServerResponse | undefined,
) =>
  function (this: unknown, ...args: unknown[]): unknown {
    const state = streamStateOf(toRaw(args[args.length - 1]));
    const value = original.apply(this, args);
    if (state?.mode !== 'chain') return new FlushResult(value);
    if (value !== null && typeof (value as PromiseLike<unknown>)?.then === 'function') {
      (value as PromiseLike<unknown>).then(
        settled => state.onSettled?.(settled),
        () => undefined, // the rejection reaches FlushInterceptor through Nest's pipeline
      );
    } else {
      state.onSettled?.(value);
    }
    return value;
  };
