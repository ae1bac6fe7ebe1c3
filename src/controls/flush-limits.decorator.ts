import { SetMetadata } from '@nestjs/common';
import { FlushConfigurationError } from '../flush.errors.js';
import { routeLabel } from '../flush.messages.js';
import { OPTION_RULES } from '../flush-option.rules.js';
import { INVALID_LIMIT } from './flush-controls.messages.js';

/** Metadata key of `@FlushLimits()`. @internal */
export const FLUSH_LIMITS_METADATA = 'FLUSH:LIMITS';

/**
 * Limits of the streams of a controller or a route, over the module's `maxStreamsPerKey` and
 * `maxLifetimeMs`. `false` switches a module-wide limit off for the route.
 * @publicApi
 */
export interface FlushLimitsOptions {
  /** Open streams per stream key on this route's limit, across instances. `false`: none. */
  maxStreamsPerKey?: number | false;
  /** Longest life of one stream in milliseconds; then `event: expired`. `false`: none. */
  maxLifetimeMs?: number | false;
}

/** What `maxStreamsPerKey` and `maxLifetimeMs` accept, wherever they are given. @internal */
export const LIMIT_RULES = {
  maxStreamsPerKey: OPTION_RULES.maxStreamsPerKey,
  maxLifetimeMs: OPTION_RULES.positiveMsOrFalse,
} as const;

/**
 * Stream limits for every streaming route of a controller, or for one route (`@Sse()` or
 * `@Flush()`); a route's limits win over its controller's, which win over the module's.
 * Over `maxStreamsPerKey` a new stream is answered `429 Too Many Requests` with `Retry-After`,
 * before any byte; at `maxLifetimeMs` a stream gets `event: expired` with a `retry:` hint and ends.
 * @example @FlushLimits({ maxStreamsPerKey: 3 }) @Controller('feed') class FeedController {}
 * @example @Sse('ticker') @FlushLimits({ maxLifetimeMs: 600_000 }) ticker() { … }
 * @publicApi
 */
export const FlushLimits = (limits: FlushLimitsOptions): ClassDecorator & MethodDecorator => {
  const decorator = SetMetadata(FLUSH_LIMITS_METADATA, { ...limits });
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const where =
      key === undefined
        ? `@FlushLimits() on ${(target as { name?: string }).name ?? '(anonymous)'}`
        : `@FlushLimits() on ${routeLabel(target.constructor, key)}`;
    validateLimits(where, limits);
    if (key === undefined) return (decorator as ClassDecorator)(target as never);
    (decorator as MethodDecorator)(target, key, descriptor!);
  };
};

const validateLimits = (where: string, limits: unknown): void => {
  if (typeof limits !== 'object' || limits === null)
    throw new FlushConfigurationError(
      INVALID_LIMIT(where, '(options)', limits, 'an object such as { maxStreamsPerKey: 3 }'),
    );
  for (const key of Object.keys(limits)) {
    if (!(key in LIMIT_RULES))
      throw new FlushConfigurationError(
        `${where}: unknown option "${key}". Known options: ${Object.keys(LIMIT_RULES).join(', ')}.`,
      );
    const rule = LIMIT_RULES[key as keyof typeof LIMIT_RULES];
    const value = (limits as Record<string, unknown>)[key];
    if (value !== undefined && !rule.accepts(value))
      throw new FlushConfigurationError(INVALID_LIMIT(where, key, value, rule.expected));
  }
};

/**
 * The limits of a route: `@FlushLimits()` on the method, then on the class, then the module's
 * options. `capScope` names where the `maxStreamsPerKey` in force was declared (`module`, the
 * class, or `Class.method`): each declared limit counts the streams it governs, the same on
 * every instance. @internal
 */
export const getRouteLimits = (
  handler: { name: string },
  controller: { name: string } | undefined,
  defaults: { readonly maxStreamsPerKey: number | false; readonly maxLifetimeMs: number | false },
): {
  readonly maxStreamsPerKey: number | false;
  readonly maxLifetimeMs: number | false;
  readonly capScope: string;
} => {
  const own = Reflect.getMetadata(FLUSH_LIMITS_METADATA, handler) as FlushLimitsOptions | undefined;
  const inherited = controller
    ? (Reflect.getMetadata(FLUSH_LIMITS_METADATA, controller) as FlushLimitsOptions | undefined)
    : undefined;
  const className = controller?.name ?? '(anonymous)';
  const [maxStreamsPerKey, capScope] =
    own?.maxStreamsPerKey !== undefined
      ? [own.maxStreamsPerKey, `${className}.${handler.name}`]
      : inherited?.maxStreamsPerKey !== undefined
        ? [inherited.maxStreamsPerKey, className]
        : [defaults.maxStreamsPerKey, 'module'];
  return {
    maxStreamsPerKey,
    maxLifetimeMs: own?.maxLifetimeMs ?? inherited?.maxLifetimeMs ?? defaults.maxLifetimeMs,
    capScope,
  };
};
