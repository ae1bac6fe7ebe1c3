import { FlushConfigurationError } from './flush.errors.js';
import { DEFAULT_FLUSH_OPTIONS, resolveFlushOptions } from './flush-options.resolver.js';

describe('resolveFlushOptions', () => {
  it('applies the defaults', () => {
    expect(resolveFlushOptions({})).toEqual(DEFAULT_FLUSH_OPTIONS);
    expect(resolveFlushOptions({ heartbeatIntervalMs: false }).heartbeatIntervalMs).toBe(false);
  });

  // forRootAsync factories read the environment, whose values are strings (ConfigService.get<number>
  // does not convert): digit strings are taken as numbers, 'false' as false where false is allowed.
  it('accepts environment strings for numeric options and false', () => {
    expect(
      resolveFlushOptions({
        heartbeatIntervalMs: '20000',
        historySize: '0',
        historyMaxAgeMs: '60000',
        maxQueuedBytes: '1048576',
        shutdownRetryMs: ['100', '200'],
      } as never),
    ).toEqual({
      ...DEFAULT_FLUSH_OPTIONS,
      heartbeatIntervalMs: 20000,
      historySize: 0,
      historyMaxAgeMs: 60000,
      maxQueuedBytes: 1048576,
      shutdownRetryMs: [100, 200],
    });
    expect(
      resolveFlushOptions({
        heartbeatIntervalMs: 'false',
        historyMaxAgeMs: 'false',
        shutdownRetryMs: 'false',
      } as never),
    ).toMatchObject({ heartbeatIntervalMs: false, historyMaxAgeMs: false, shutdownRetryMs: false });
    expect(resolveFlushOptions({ shutdownRetryMs: '500, 2500' } as never).shutdownRetryMs).toEqual([
      500, 2500,
    ]);
  });

  it('leaves the given options object untouched', () => {
    const given = { heartbeatIntervalMs: '20000' };
    resolveFlushOptions(given as never);
    expect(given).toEqual({ heartbeatIntervalMs: '20000' });
  });

  it.each([
    [
      { heartbeatIntervalMs: '15s' },
      /"heartbeatIntervalMs" must be a whole number of milliseconds >= 10, or false to disable; received "15s"/,
    ],
    [{ heartbeatIntervalMs: '' }, /"heartbeatIntervalMs".*received ""/],
    [
      { historySize: '-1' },
      /"historySize" must be a whole number from 0 to 1000000; received "-1"/,
    ],
    [{ historySize: '1.5' }, /"historySize".*received "1.5"/],
    [{ historySize: 'false' }, /"historySize".*received "false"/],
    [{ maxQueuedBytes: '0x400' }, /"maxQueuedBytes".*received "0x400"/],
    [{ shutdownRetryMs: '5000,1000' }, /"shutdownRetryMs".*received "5000,1000"/],
    [{ shutdownRetryMs: 'true' }, /"shutdownRetryMs".*received "true"/],
    [{ heartbeatIntervalMs: 0 }, /heartbeatIntervalMs/],
    [
      { historySize: -1 },
      /"historySize" must be a whole number from 0 to 1000000; received number -1/,
    ],
    [
      { transport: {} },
      /"transport" must be an object implementing publish\(\), subscribe\(\) and replay\(\).*RedisFlushTransport/,
    ],
    [{ slowClientPolicy: 'drop' }, /'disconnect', 'drop-oldest' or 'drop-newest'; received "drop"/],
    [{ shutdownRetryMs: [5, 1] }, /shutdownRetryMs/],
    [{ heartbeat: 1 }, /FlushModule has no option "heartbeat"/],
  ])(
    'rejects %j with a message that names the option, the value and what to do',
    (options, message) => {
      expect(() => resolveFlushOptions(options as never)).toThrow(FlushConfigurationError);
      expect(() => resolveFlushOptions(options as never)).toThrow(message);
    },
  );
});
