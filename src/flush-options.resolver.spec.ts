import { FlushConfigurationError } from './flush.errors.js';
import { DEFAULT_FLUSH_OPTIONS, resolveFlushOptions } from './flush-options.resolver.js';
import type { FlushModuleOptions } from './flush-module-options.interface.js';

describe('resolveFlushOptions', () => {
  it('applies the defaults', () => {
    expect(resolveFlushOptions({})).toEqual(DEFAULT_FLUSH_OPTIONS);
    expect(resolveFlushOptions({ heartbeatIntervalMs: false }).heartbeatIntervalMs).toBe(false);
  });

  // forRootAsync factories read the environment, whose values are strings (ConfigService.get<number>
  // does not convert): digit strings are taken as numbers, 'false' as false where false is allowed.
  // FLUSH_HEARTBEAT_MS= (set to nothing) must mean "use the default", not fail the bootstrap.
  it('treats an empty environment string as unset', () => {
    expect(
      resolveFlushOptions({
        heartbeatIntervalMs: '',
        historySize: '',
        historyMaxAgeMs: '',
        maxQueuedBytes: '',
        slowClientPolicy: '',
        skipInterceptors: '',
        shutdownRetryMs: '',
        maxStreamsPerKey: '',
        maxLifetimeMs: '',
      }),
    ).toEqual(DEFAULT_FLUSH_OPTIONS);
  });

  // The option types take what the runtime takes: `process.env.X` (string | undefined) compiles.
  it('types accept environment variables as they are', () => {
    const env: Record<string, string | undefined> = { FLUSH_HEARTBEAT_MS: '20000' };
    const options: FlushModuleOptions = {
      heartbeatIntervalMs: env.FLUSH_HEARTBEAT_MS,
      historySize: env.FLUSH_HISTORY_SIZE,
      historyMaxAgeMs: env.FLUSH_HISTORY_MAX_AGE_MS,
      maxQueuedBytes: env.FLUSH_MAX_QUEUED_BYTES,
      maxStreamsPerKey: env.FLUSH_MAX_STREAMS,
      maxLifetimeMs: env.FLUSH_MAX_LIFETIME_MS,
    };
    expect(resolveFlushOptions(options).heartbeatIntervalMs).toBe(20000);
  });

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
      }),
    ).toMatchObject({ heartbeatIntervalMs: false, historyMaxAgeMs: false, shutdownRetryMs: false });
    expect(resolveFlushOptions({ shutdownRetryMs: '500, 2500' }).shutdownRetryMs).toEqual([
      500, 2500,
    ]);
  });

  it('leaves the given options object untouched', () => {
    const given = { heartbeatIntervalMs: '20000' };
    resolveFlushOptions(given);
    expect(given).toEqual({ heartbeatIntervalMs: '20000' });
  });

  it.each([
    [
      { heartbeatIntervalMs: '15s' },
      /"heartbeatIntervalMs" must be a whole number of milliseconds >= 10, or false to disable; received "15s"/,
    ],
    [{ heartbeatIntervalMs: ' ' }, /"heartbeatIntervalMs".*received " "/],
    [
      { maxStreamsPerKey: 0 },
      /"maxStreamsPerKey" must be a whole number from 1 to 1000000, or false/,
    ],
    [{ maxLifetimeMs: '1.5' }, /"maxLifetimeMs".*received "1.5"/],
    [{ streamKey: 'ip' }, /"streamKey" must be a function/],
    [{ expiresAt: 1 }, /"expiresAt" must be a function/],
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
