import { expect } from '@jest/globals';
import { FlushConfigurationError } from '../flush.errors.js';
import type { RedisClientLike } from './redis-client.interface.js';
import {
  historyKeyTtl,
  REDIS_TRANSPORT_DEFAULTS,
  resolveRedisTransportOptions,
  type RedisFlushTransportOptions,
} from './redis-transport.options.js';
import { RedisFlushTransport } from './redis.transport.js';

// No Redis needed: options are validated at construction, before any connection.

const client = (withDuplicate = false): RedisClientLike =>
  (withDuplicate ? { duplicate: () => client() } : {}) as RedisClientLike;

describe('RedisFlushTransport options', () => {
  it('fails at construction for options that cannot work', () => {
    const c = client();
    expect(() => new RedisFlushTransport({ publisher: c, subscriber: c })).toThrow(
      FlushConfigurationError,
    );
    expect(() => new RedisFlushTransport({ publisher: c })).toThrow(/duplicate\(\)/);
    expect(
      () => new RedisFlushTransport({ url: 'redis://x', publisher: c, subscriber: client() }),
    ).toThrow(/not both/);
    expect(() => new RedisFlushTransport({ historySize: -1 })).toThrow(
      /historySize.*whole number from 0 to 1000000.*-1/,
    );
    expect(() => new RedisFlushTransport({ historyMaxAgeMs: 0 })).toThrow(/historyMaxAgeMs/);
    expect(() => new RedisFlushTransport({ trimming: 'loose' as 'exact' })).toThrow(/trimming/);
    expect(() => new RedisFlushTransport({ commandTimeoutMs: Number.NaN })).toThrow(
      /commandTimeoutMs/,
    );
  });

  it.each<[string, unknown, RegExp]>([
    ['url', 6379, /"url" must be a redis:\/\/ or rediss:\/\/ URL string; received number 6379\./],
    ['keyPrefix', 1, /"keyPrefix" must be a string; received number 1\./],
    [
      'historySize',
      1.5,
      /"historySize" must be a whole number from 0 to 1000000; received number 1\.5\./,
    ],
    ['historySize', 2_000_000, /"historySize" must be .*; received number 2000000\./],
    [
      'historyMaxAgeMs',
      1.5,
      /"historyMaxAgeMs" must be a whole number .* or false; received number 1\.5\./,
    ],
    ['historyMaxAgeMs', -5, /"historyMaxAgeMs" must be .* or false; received number -5\./],
    [
      'keyTtlMs',
      0,
      /"keyTtlMs" must be a whole number of milliseconds > 0, or false; received number 0\./,
    ],
    ['connectTimeoutMs', Infinity, /"connectTimeoutMs" must be .* > 0; received number Infinity\./],
    ['commandTimeoutMs', '5s', /"commandTimeoutMs" must be .* > 0; received "5s"\./],
    ['redisOptions', null, /"redisOptions" must be an object of ioredis options; received null\./],
  ])('names the option, the value and what it must be: %s', (option, value, message) => {
    const options = { [option]: value } as RedisFlushTransportOptions;
    expect(() => resolveRedisTransportOptions(options)).toThrow(FlushConfigurationError);
    expect(() => resolveRedisTransportOptions(options)).toThrow(message);
  });

  it('rejects a missing options object', () => {
    expect(() =>
      resolveRedisTransportOptions(null as unknown as RedisFlushTransportOptions),
    ).toThrow(/"options" must be an object; received null/);
  });

  it('accepts one client that can be duplicated, or both clients', () => {
    expect(() => new RedisFlushTransport({ publisher: client(true) })).not.toThrow();
    expect(() => new RedisFlushTransport({ subscriber: client(true) })).not.toThrow();
    expect(
      () => new RedisFlushTransport({ publisher: client(), subscriber: client() }),
    ).not.toThrow();
    expect(() => new RedisFlushTransport({ subscriber: client() })).toThrow(
      /the subscriber client has no duplicate\(\)/,
    );
  });

  it('applies the defaults', () => {
    const resolved = resolveRedisTransportOptions({ logger: false });
    expect(resolved).toEqual({
      logger: {
        log: expect.any(Function),
        warn: expect.any(Function),
        error: expect.any(Function),
      },
      keyPrefix: 'flush:',
      trimOperator: '~',
      keyTtlMs: undefined,
      connectTimeoutMs: 3_000,
      commandTimeoutMs: 5_000,
      historySize: 1000,
      historyMaxAgeMs: false,
      cluster: false,
    });
    expect(REDIS_TRANSPORT_DEFAULTS.historySize).toBe(resolved.historySize);
  });

  it('keeps the given values, in the form the scripts take them', () => {
    const logger = { log: () => undefined, warn: () => undefined, error: () => undefined };
    expect(
      resolveRedisTransportOptions({
        logger,
        keyPrefix: 'app:',
        trimming: 'exact',
        keyTtlMs: 60_000,
        connectTimeoutMs: 100,
        commandTimeoutMs: 200,
        historySize: 0,
        historyMaxAgeMs: 3_600_000,
      }),
    ).toEqual({
      logger,
      keyPrefix: 'app:',
      trimOperator: '=',
      keyTtlMs: 60_000,
      connectTimeoutMs: 100,
      commandTimeoutMs: 200,
      historySize: 0,
      historyMaxAgeMs: 3_600_000,
      cluster: false,
    });
  });

  // Per-user channels must not pile up history keys forever (issue 17, item 10).
  it('expires history keys by default: the history age, else a day; false keeps them', () => {
    expect(historyKeyTtl(undefined, false)).toBe('86400000');
    expect(historyKeyTtl(undefined, 60_000)).toBe('60000');
    expect(historyKeyTtl(5_000, 60_000)).toBe('5000');
    expect(historyKeyTtl(false, 60_000)).toBe('');
  });
});
