import { InMemoryFlushTransport } from './broadcast/transports/in-memory.transport.js';
import { validateRouteOptions } from './decorators/flush-route-options.validator.js';
import { FlushConfigurationError } from './flush.errors.js';
import { OPTION_RULES } from './flush-option.rules.js';
import { resolveFlushOptions } from './flush-options.resolver.js';
import { resolveRedisTransportOptions } from './redis/redis-transport.options.js';

// One set of rules: wherever an option can be given, the same values pass and fail, with the
// same "must be …" text. (They used to disagree: historyMaxAgeMs 1.5 passed for Redis only,
// historySize 2000000 passed everywhere but FlushModule.)

type Check = (options: Record<string, unknown>) => unknown;

const module: [string, Check] = ['FlushModule', o => resolveFlushOptions(o)];
const route: [string, Check] = ['@Flush()', o => validateRouteOptions('GET /t', o)];
const inMemory: [string, Check] = ['InMemoryFlushTransport', o => new InMemoryFlushTransport(o)];
const redis: [string, Check] = [
  'RedisFlushTransport',
  o => resolveRedisTransportOptions({ ...o, logger: false }),
];

const cases: [keyof typeof OPTION_RULES, [string, Check][], unknown[], unknown[]][] = [
  ['historySize', [module, inMemory, redis], [0, 1, 1_000_000], [-1, 1.5, 2_000_000, 'many']],
  ['historyMaxAgeMs', [module, inMemory, redis], [false, 1, 60_000], [0, -5, 1.5, true]],
  ['heartbeatIntervalMs', [module, route], [false, 10, 15_000], [0, 9, 1.5, true]],
  ['maxQueuedBytes', [module, route], [1024, 4 << 20], [0, 1023, 2048.5]],
  ['slowClientPolicy', [module, route], ['disconnect', 'drop-oldest', 'drop-newest'], ['drop']],
  ['skipInterceptors', [module, route], ['global', 'all', 'none'], ['some', true]],
];

describe('option rules shared by FlushModule, @Flush() and the transports', () => {
  describe.each(cases)('%s', (option, checks, good, bad) => {
    it.each(checks)(
      '%s accepts the same values and rejects the same values, with one message',
      (_where, check) => {
        for (const value of good) expect(() => check({ [option]: value })).not.toThrow();
        for (const value of bad) {
          let error: unknown;
          try {
            check({ [option]: value });
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(FlushConfigurationError);
          expect((error as Error).message).toContain(
            `"${option}" must be ${OPTION_RULES[option].expected}`,
          );
        }
      },
    );
  });

  it('routes take retry as the SSE field: a whole number of milliseconds >= 0', () => {
    expect(() => validateRouteOptions('GET /t', { retry: 0 })).not.toThrow();
    expect(() => validateRouteOptions('GET /t', { retry: -1 })).toThrow(
      OPTION_RULES.retry.expected,
    );
  });
});
