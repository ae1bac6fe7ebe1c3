import * as nestCommon from '@nestjs/common';
import { Res } from '@nestjs/common';

/**
 * Every NestJS metadata key nestjs-flush reads or writes. They are Nest's private keys, read by
 * string (a deep import of `@nestjs/common/constants` breaks between majors). `checkNestInternals()`
 * proves at bootstrap that they still mean what this file assumes.
 * @internal
 */
export const NEST_METADATA = Object.freeze({
  sse: '__sse__',
  sseOptions: '__sseOptions__',
  httpCode: '__httpCode__',
  interceptors: '__interceptors__',
  routeArgs: '__routeArguments__',
  passthrough: '__responsePassthrough__',
  path: 'path',
  method: 'method',
});

type AnyFn = (...args: never[]) => unknown;

/** Whether a handler carries Nest's `@Sse()` mark. @internal */
export const isNestSseHandler = (handler: object): boolean =>
  Reflect.getOwnMetadata(NEST_METADATA.sse, handler) === true;

/** The options of `@Sse(path, options)` (NestJS >= 11.2: `maxPendingDataLength`). @internal */
export const getNestSseOptions = (handler: object): { maxPendingDataLength?: number } | undefined =>
  Reflect.getOwnMetadata(NEST_METADATA.sseOptions, handler) as
    { maxPendingDataLength?: number } | undefined;

/** The status of `@HttpCode()`, if any. @internal */
export const getHttpCode = (handler: object): number | undefined =>
  Reflect.getMetadata(NEST_METADATA.httpCode, handler) as number | undefined;

/** The interceptors `@UseInterceptors()` put on a class or a handler (own metadata only). @internal */
export const getListedInterceptors = (target: object): readonly unknown[] =>
  (Reflect.getOwnMetadata(NEST_METADATA.interceptors, target) as unknown[] | undefined) ?? [];

/** Replaces the interceptor list of a handler. @internal */
export const setListedInterceptors = (target: object, list: readonly unknown[]): void =>
  Reflect.defineMetadata(NEST_METADATA.interceptors, [...list], target);

/** Whether a method's `@Res({ passthrough: true })` lets Nest still send the result. @internal */
export const isResponsePassthrough = (controller: object, method: string): boolean =>
  !!Reflect.getMetadata(NEST_METADATA.passthrough, controller, method);

/** The route-argument table of a method (`@Body()`, `@Res()`...), keyed by Nest. @internal */
export const getRouteArgs = (controller: object, method: string | symbol): object | undefined =>
  Reflect.getMetadata(NEST_METADATA.routeArgs, controller, method) as object | undefined;

/** Restores a method's route-argument table as it was. @internal */
export const setRouteArgs = (
  controller: object,
  method: string | symbol,
  args: object | undefined,
): void => {
  if (args === undefined) Reflect.deleteMetadata(NEST_METADATA.routeArgs, controller, method);
  else Reflect.defineMetadata(NEST_METADATA.routeArgs, args, controller, method);
};

/**
 * Adds a hidden `@Res()` parameter after every declared one: Nest then treats the response as
 * handled and never sends a body of its own, and its request pipeline can end once the stream is
 * open. The handler gets the response as one extra trailing argument. Returns its index.
 * @internal
 */
export const addHiddenResponseParam = (
  prototype: object,
  method: string | symbol,
  handler: AnyFn,
): number => {
  const declared = Object.values(
    (getRouteArgs(prototype.constructor, method) ?? {}) as Record<string, { index: number }>,
  ).map(arg => arg.index + 1);
  const index = Math.max(handler.length, 0, ...declared);
  Res()(prototype, method, index);
  return index;
};

/** Copies Nest's (and everyone's) metadata from one function to another, except `omit`. @internal */
export const copyFunctionMetadata = (from: object, to: object, omit: readonly string[] = []) => {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    if (omit.includes(key as string)) continue;
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
};

/**
 * Nest's per-request AbortController key behind `@SseSignal()` (NestJS >= 11.2); undefined on
 * versions without it.
 * @internal
 */
export const NEST_SSE_ABORT_CONTROLLER: symbol | undefined = (
  nestCommon as unknown as Record<string, unknown>
).SSE_ABORT_CONTROLLER as symbol | undefined;

/**
 * Applies Nest's own decorators to a probe and checks that the keys above hold what this file
 * assumes. Returns what differs (empty when all is well).
 * @internal
 */
export const checkNestMetadata = (): string[] => {
  const problems: string[] = [];
  const marker: nestCommon.NestInterceptor = { intercept: (_context, next) => next.handle() };
  class Probe {
    handle(): void {}
  }
  const descriptor = Object.getOwnPropertyDescriptor(Probe.prototype, 'handle')!;
  try {
    nestCommon.Sse('probe')(Probe.prototype, 'handle', descriptor);
    nestCommon.HttpCode(202)(Probe.prototype, 'handle', descriptor);
    nestCommon.UseInterceptors(marker)(Probe.prototype, 'handle', descriptor);
    Res()(Probe.prototype, 'handle', 0);
  } catch (err) {
    return [`Nest decorators (${(err as Error).message})`];
  }
  const handler = descriptor.value as object;
  if (!isNestSseHandler(handler)) problems.push(`@Sse() metadata "${NEST_METADATA.sse}"`);
  if (getHttpCode(handler) !== 202)
    problems.push(`@HttpCode() metadata "${NEST_METADATA.httpCode}"`);
  if (!getListedInterceptors(handler).includes(marker))
    problems.push(`@UseInterceptors() metadata "${NEST_METADATA.interceptors}"`);
  const args = Object.values(
    (getRouteArgs(Probe, 'handle') ?? {}) as Record<string, { index?: number }>,
  );
  if (!args.some(arg => arg.index === 0))
    problems.push(`@Res() metadata "${NEST_METADATA.routeArgs}"`);
  return problems;
};

let sseSignalFactory: unknown;

/** The factory behind Nest's `@SseSignal()` (NestJS >= 11.2), as its route-argument entries hold it. */
const nestSseSignalFactory = (): unknown => {
  if (sseSignalFactory !== undefined) return sseSignalFactory;
  const SseSignal = (nestCommon as unknown as Record<string, unknown>).SseSignal;
  sseSignalFactory = null;
  if (typeof SseSignal !== 'function') return sseSignalFactory;
  class Probe {
    handle(): void {}
  }
  (SseSignal as () => ParameterDecorator)()(Probe.prototype, 'handle', 0);
  const [entry] = Object.values((getRouteArgs(Probe, 'handle') ?? {}) as Record<string, unknown>);
  sseSignalFactory = (entry as { factory?: unknown } | undefined)?.factory ?? null;
  return sseSignalFactory;
};

/** Whether a handler takes Nest's `@SseSignal()` (so its AbortController must exist). @internal */
export const usesNestSseSignal = (controller: object, method: string): boolean => {
  const factory = nestSseSignalFactory();
  if (!factory) return false;
  return Object.values((getRouteArgs(controller, method) ?? {}) as Record<string, unknown>).some(
    arg => (arg as { factory?: unknown }).factory === factory,
  );
};
