import { FlushConfigurationError } from './flush.errors.js';
import { DEFAULT_FLUSH_OPTIONS, resolveFlushOptions } from './flush-options.resolver.js';

describe('resolveFlushOptions', () => {
  it('applies the defaults', () => {
    expect(resolveFlushOptions({})).toEqual(DEFAULT_FLUSH_OPTIONS);
    expect(resolveFlushOptions({ heartbeatIntervalMs: false }).heartbeatIntervalMs).toBe(false);
  });

  it.each([
    [
      { heartbeatIntervalMs: '15000' },
      /"heartbeatIntervalMs" must be a whole number of milliseconds >= 10, or false to disable; received "15000"/,
    ],
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
