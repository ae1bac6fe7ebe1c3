import { FlushConfigurationError } from './flush.errors.js';
import { INVALID_OPTION, UNKNOWN_OPTION } from './flush.messages.js';
import type { FlushModuleOptions, ResolvedFlushOptions } from './flush-module-options.interface.js';

/** Defaults of every option. @publicApi */
export const DEFAULT_FLUSH_OPTIONS: Readonly<ResolvedFlushOptions> = Object.freeze({
  heartbeatIntervalMs: 15000,
  historySize: 1000,
  historyMaxAgeMs: false,
  transport: undefined,
  skipInterceptors: 'global',
  maxQueuedBytes: 4 * 1024 * 1024,
  slowClientPolicy: 'disconnect',
  shutdownRetryMs: [1000, 5000] as const,
  resyncEventName: 'resync',
  authorize: undefined,
});

const KNOWN = [...Object.keys(DEFAULT_FLUSH_OPTIONS), 'isGlobal'] as const;

const isPositiveInt = (v: unknown, min = 1): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min;

const check = (ok: boolean, option: string, got: unknown, expected: string): void => {
  if (!ok) throw new FlushConfigurationError(INVALID_OPTION(option, got, expected));
};

/** Validates one interval option shared by module and route options. @internal */
export const checkIntervalOrFalse = (option: string, v: unknown): void =>
  check(
    v === false || isPositiveInt(v, 10),
    option,
    v,
    'a whole number of milliseconds >= 10, or false to disable',
  );

/**
 * Validates the options given to `FlushModule` and applies the defaults. Throws a
 * `FlushConfigurationError` naming the option, the value and what to do.
 * @publicApi
 */
export const resolveFlushOptions = (options: FlushModuleOptions = {}): ResolvedFlushOptions => {
  if (options === null || typeof options !== 'object') {
    throw new FlushConfigurationError(
      INVALID_OPTION('(options)', options, 'an object such as { heartbeatIntervalMs: 15000 }'),
    );
  }
  for (const key of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw new FlushConfigurationError(UNKNOWN_OPTION(key, KNOWN));
    }
  }
  const o = Object.fromEntries(
    Object.entries(options).filter(([k, v]) => v !== undefined && k !== 'isGlobal'),
  ) as Partial<ResolvedFlushOptions>;
  const r: ResolvedFlushOptions = { ...DEFAULT_FLUSH_OPTIONS, ...o };

  checkIntervalOrFalse('heartbeatIntervalMs', r.heartbeatIntervalMs);
  check(
    isPositiveInt(r.historySize, 0) && r.historySize <= 1_000_000,
    'historySize',
    r.historySize,
    'a whole number from 0 to 1000000',
  );
  check(
    r.historyMaxAgeMs === false || isPositiveInt(r.historyMaxAgeMs),
    'historyMaxAgeMs',
    r.historyMaxAgeMs,
    'a whole number of milliseconds > 0, or false',
  );
  check(
    r.transport === undefined ||
      (typeof r.transport === 'object' &&
        r.transport !== null &&
        typeof r.transport.publish === 'function' &&
        typeof r.transport.subscribe === 'function' &&
        typeof r.transport.replay === 'function'),
    'transport',
    r.transport,
    'an object implementing publish(), subscribe() and replay(): new InMemoryFlushTransport() or new RedisFlushTransport({ url }) from nestjs-flush/redis',
  );
  check(
    ['global', 'all', 'none'].includes(r.skipInterceptors),
    'skipInterceptors',
    r.skipInterceptors,
    "'global', 'all' or 'none'",
  );
  check(
    isPositiveInt(r.maxQueuedBytes, 1024),
    'maxQueuedBytes',
    r.maxQueuedBytes,
    'a whole number of bytes >= 1024',
  );
  check(
    ['disconnect', 'drop-oldest', 'drop-newest'].includes(r.slowClientPolicy),
    'slowClientPolicy',
    r.slowClientPolicy,
    "'disconnect', 'drop-oldest' or 'drop-newest'",
  );
  const retry = r.shutdownRetryMs;
  check(
    retry === false ||
      (Array.isArray(retry) &&
        retry.length === 2 &&
        isPositiveInt(retry[0], 0) &&
        isPositiveInt(retry[1], 0) &&
        retry[0] <= retry[1]),
    'shutdownRetryMs',
    retry,
    'a [min, max] pair of milliseconds with min <= max, or false',
  );
  check(
    typeof r.resyncEventName === 'string' && /^[^\r\n\0]{1,100}$/.test(r.resyncEventName),
    'resyncEventName',
    r.resyncEventName,
    'an event name of 1-100 characters without CR, LF or NUL',
  );
  const auth = r.authorize;
  check(
    auth === undefined ||
      typeof auth === 'function' ||
      (Array.isArray(auth) &&
        auth.every(
          (rule: unknown) =>
            typeof rule === 'object' &&
            rule !== null &&
            (typeof (rule as { channel?: unknown }).channel === 'string' ||
              (rule as { channel?: unknown }).channel instanceof RegExp) &&
            typeof (rule as { authorize?: unknown }).authorize === 'function',
        )),
    'authorize',
    auth,
    'a function (channel, request) => boolean, or an array of { channel: string | RegExp, authorize(channel, request) }',
  );
  if (options.isGlobal !== undefined) {
    check(typeof options.isGlobal === 'boolean', 'isGlobal', options.isGlobal, 'true or false');
  }
  return r;
};
