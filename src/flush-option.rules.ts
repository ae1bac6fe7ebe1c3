/**
 * The one set of option checks and defaults, shared by `FlushModule` options, `@Flush()` route
 * options and the transports' own options (in-memory and Redis). Each caller frames the message
 * (which option of what, where to fix it); the rule says what is accepted. Pure: no NestJS.
 * @internal
 */

/** What an option accepts, and how its message says it. */
export interface OptionRule {
  readonly accepts: (value: unknown) => boolean;
  /** Completes "must be …". */
  readonly expected: string;
}

const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (v: unknown) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

const oneOf =
  <T extends string>(...values: readonly T[]) =>
  (v: unknown): boolean =>
    typeof v === 'string' && (values as readonly string[]).includes(v);

const orFalse = (accepts: (v: unknown) => boolean) => (v: unknown) => v === false || accepts(v);

/** Largest `historySize`: a ring of a million events per channel is already more than a cache. */
export const MAX_HISTORY_SIZE = 1_000_000;

/** Checks of every option that appears in more than one place, or that a transport takes. */
export const OPTION_RULES = {
  heartbeatIntervalMs: {
    accepts: orFalse(wholeNumber(10)),
    expected: 'a whole number of milliseconds >= 10, or false to disable',
  },
  historySize: {
    accepts: wholeNumber(0, MAX_HISTORY_SIZE),
    expected: `a whole number from 0 to ${MAX_HISTORY_SIZE}`,
  },
  historyMaxAgeMs: {
    accepts: orFalse(wholeNumber(1)),
    expected: 'a whole number of milliseconds > 0, or false',
  },
  maxQueuedBytes: { accepts: wholeNumber(1024), expected: 'a whole number of bytes >= 1024' },
  slowClientPolicy: {
    accepts: oneOf('disconnect', 'drop-oldest', 'drop-newest'),
    expected: "'disconnect', 'drop-oldest' or 'drop-newest'",
  },
  skipInterceptors: {
    accepts: oneOf('global', 'all', 'none'),
    expected: "'global', 'all' or 'none'",
  },
  maxStreamsPerKey: {
    accepts: orFalse(wholeNumber(1, 1_000_000)),
    expected: 'a whole number from 1 to 1000000, or false',
  },
  maxRuns: {
    accepts: orFalse(wholeNumber(1, 1_000_000)),
    expected: 'a whole number from 1 to 1000000, or false',
  },
  maxRunEvents: {
    accepts: wholeNumber(1, MAX_HISTORY_SIZE - 1),
    expected: `a whole number from 1 to ${MAX_HISTORY_SIZE - 1}`,
  },
  /** Run times: at most a day (a lease or key TTL of the control plane). */
  runMs: {
    accepts: wholeNumber(1, 86_400_000),
    expected: 'a whole number of milliseconds from 1 to 86400000 (24 h)',
  },
  runMsOrFalse: {
    accepts: orFalse(wholeNumber(1, 86_400_000)),
    expected: 'a whole number of milliseconds from 1 to 86400000 (24 h), or false',
  },
  retry: { accepts: wholeNumber(0), expected: 'a whole number of milliseconds >= 0' },
  /** Timeouts and TTLs of transports. */
  positiveMs: { accepts: wholeNumber(1), expected: 'a whole number of milliseconds > 0' },
  positiveMsOrFalse: {
    accepts: orFalse(wholeNumber(1)),
    expected: 'a whole number of milliseconds > 0, or false',
  },
} as const satisfies Record<string, OptionRule>;

/**
 * History a transport keeps per channel. Part of the `FlushTransport` contract: `FlushModule`
 * passes its resolved `historySize` / `historyMaxAgeMs` to `useHistoryDefaults()`.
 * @publicApi
 */
export interface FlushHistoryOptions {
  /** Events kept per channel. */
  readonly historySize: number;
  /** Maximum age of kept events in milliseconds; `false`: no age limit. */
  readonly historyMaxAgeMs: number | false;
}

/** Defaults of the history options, for the module and for transports built on their own. */
export const HISTORY_DEFAULTS: FlushHistoryOptions = Object.freeze({
  historySize: 1000,
  historyMaxAgeMs: false,
});

/**
 * Runs `rules` over the options that are set (undefined means "use the default") and calls
 * `fail(option, value, expected)` for the first one a rule rejects.
 */
export const checkOptions = <O extends object>(
  options: O,
  rules: { readonly [K in keyof O]?: OptionRule },
  fail: (option: string, value: unknown, expected: string) => never,
): void => {
  for (const option of Object.keys(rules) as (keyof O & string)[]) {
    const rule = rules[option];
    const value = options[option];
    if (rule && value !== undefined && !rule.accepts(value)) fail(option, value, rule.expected);
  }
};
