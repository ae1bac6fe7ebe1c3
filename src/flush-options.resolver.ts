import { FlushConfigurationError } from './flush.errors.js';
import { INVALID_OPTION, UNKNOWN_OPTION } from './flush.messages.js';
import {
  checkOptions,
  HISTORY_DEFAULTS,
  OPTION_RULES,
  type OptionRule,
} from './flush-option.rules.js';
import type { FlushModuleOptions, ResolvedFlushOptions } from './flush-module-options.interface.js';
import { clientIpStreamKey } from './controls/flush-stream-key.js';

/** Defaults of every option. @publicApi */
export const DEFAULT_FLUSH_OPTIONS: Readonly<ResolvedFlushOptions> = Object.freeze({
  heartbeatIntervalMs: 15000,
  ...HISTORY_DEFAULTS,
  transport: undefined,
  skipInterceptors: 'global',
  maxQueuedBytes: 4 * 1024 * 1024,
  slowClientPolicy: 'disconnect',
  shutdownRetryMs: [1000, 5000] as const,
  resyncEventName: 'resync',
  authorize: undefined,
  streamKey: clientIpStreamKey,
  maxStreamsPerKey: false,
  maxLifetimeMs: false,
  expiresAt: undefined,
  maxRuns: 100,
  maxRunEvents: 10_000,
  runTtlMs: 600_000,
  maxRunDurationMs: 3_600_000,
  runUnattendedStopMs: false,
});

/** Options checked by the rules shared with @Flush() and the transports. */
const SHARED_RULES: { readonly [K in keyof ResolvedFlushOptions]?: OptionRule } = {
  heartbeatIntervalMs: OPTION_RULES.heartbeatIntervalMs,
  historySize: OPTION_RULES.historySize,
  historyMaxAgeMs: OPTION_RULES.historyMaxAgeMs,
  skipInterceptors: OPTION_RULES.skipInterceptors,
  maxQueuedBytes: OPTION_RULES.maxQueuedBytes,
  slowClientPolicy: OPTION_RULES.slowClientPolicy,
  maxStreamsPerKey: OPTION_RULES.maxStreamsPerKey,
  maxLifetimeMs: OPTION_RULES.positiveMsOrFalse,
  maxRuns: OPTION_RULES.maxRuns,
  maxRunEvents: OPTION_RULES.maxRunEvents,
  runTtlMs: OPTION_RULES.runMs,
  maxRunDurationMs: OPTION_RULES.runMs,
  runUnattendedStopMs: OPTION_RULES.runMsOrFalse,
};

const KNOWN = [...Object.keys(DEFAULT_FLUSH_OPTIONS), 'isGlobal'] as const;

const isPositiveInt = (v: unknown, min = 1): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min;

/** Options that take a whole number; a string of digits is read as that number. */
const NUMERIC_OPTIONS: readonly string[] = [
  'heartbeatIntervalMs',
  'historySize',
  'historyMaxAgeMs',
  'maxQueuedBytes',
  'maxStreamsPerKey',
  'maxLifetimeMs',
  'maxRuns',
  'maxRunEvents',
  'runTtlMs',
  'maxRunDurationMs',
  'runUnattendedStopMs',
];
/** Options that take `false`; the string `'false'` is read as false. */
const FALSE_OPTIONS: readonly string[] = [
  'heartbeatIntervalMs',
  'historyMaxAgeMs',
  'shutdownRetryMs',
  'maxStreamsPerKey',
  'maxLifetimeMs',
  'maxRuns',
  'runUnattendedStopMs',
];

const DIGITS = /^\d+$/;

/**
 * Reads environment strings the way the option means them: forRootAsync factories commonly pass
 * `config.get<number>('FLUSH_HEARTBEAT_MS', 15000)`, which is the string `'20000'` when the
 * variable is set (ConfigService does not convert). Anything else is left for validation.
 */
const fromEnvString = (option: string, v: unknown): unknown => {
  if (option === 'shutdownRetryMs' && Array.isArray(v)) {
    return (v as unknown[]).map(part =>
      typeof part === 'string' && DIGITS.test(part) ? Number(part) : part,
    );
  }
  if (typeof v !== 'string') return v;
  if (v === 'false' && FALSE_OPTIONS.includes(option)) return false;
  if (DIGITS.test(v) && NUMERIC_OPTIONS.includes(option)) return Number(v);
  const pair = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(v);
  if (pair && option === 'shutdownRetryMs') return [Number(pair[1]), Number(pair[2])];
  return v;
};

/**
 * Validates the options given to `FlushModule` and applies the defaults. Throws a
 * `FlushConfigurationError` naming the option, the value and what to do.
 *
 * Environment strings are accepted where they are unambiguous: a string of digits for
 * `heartbeatIntervalMs`, `historySize`, `historyMaxAgeMs`, `maxQueuedBytes`, `maxStreamsPerKey`,
 * `maxLifetimeMs` and the run options (`maxRuns`, `maxRunEvents`, `runTtlMs`, `maxRunDurationMs`,
 * `runUnattendedStopMs`) (and for each element of `shutdownRetryMs`, or `'min,max'`), `'false'` for
 * the options that take false, and an empty string for any option: it means "not set".
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
  // An empty string (an environment variable set to nothing) means "not set", like undefined.
  const given = Object.fromEntries(
    Object.entries(options).filter(([k, v]) => v !== undefined && v !== '' && k !== 'isGlobal'),
  ) as Record<string, unknown>;
  const o = Object.fromEntries(
    Object.entries(given).map(([k, v]) => [k, fromEnvString(k, v)]),
  ) as Partial<ResolvedFlushOptions>;
  const r: ResolvedFlushOptions = { ...DEFAULT_FLUSH_OPTIONS, ...o };
  // Errors show the value as given (the string from the environment, not its reading).
  const fail = (option: string, read: unknown, expected: string): never => {
    const shown = option in given ? given[option] : read;
    throw new FlushConfigurationError(INVALID_OPTION(option, shown, expected));
  };
  const check = (ok: boolean, option: string, read: unknown, expected: string): void => {
    if (!ok) fail(option, read, expected);
  };

  checkOptions(r, SHARED_RULES, fail);
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
  for (const option of ['streamKey', 'expiresAt'] as const) {
    check(
      option === 'expiresAt' && r[option] === undefined ? true : typeof r[option] === 'function',
      option,
      r[option],
      option === 'streamKey'
        ? 'a function (request) => string | undefined, e.g. request => request.user?.id'
        : 'a function (request) => epoch milliseconds | Date | undefined, e.g. request => request.user.exp * 1000',
    );
  }
  if (options.isGlobal !== undefined) {
    check(typeof options.isGlobal === 'boolean', 'isGlobal', options.isGlobal, 'true or false');
  }
  return r;
};
