import { BadRequestException, ServiceUnavailableException } from '@nestjs/common';
import { FlushUnavailableError } from './broadcast/flush-unavailable.error.js';
import { FlushConfigurationError, FlushError, StreamClosedError } from './flush.errors.js';
import { FlushValidationError } from './flush-validation.error.js';
import { RedisFlushTransportError } from './redis/redis-transport.error.js';

describe('one error hierarchy rooted at FlushError', () => {
  it.each([
    ['FlushConfigurationError', new FlushConfigurationError('x')],
    ['StreamClosedError', new StreamClosedError()],
    ['FlushValidationError', new FlushValidationError('x')],
    ['FlushUnavailableError', new FlushUnavailableError()],
    ['RedisFlushTransportError', new RedisFlushTransportError('x')],
  ])('%s is a FlushError with its own name', (name, error) => {
    expect(error).toBeInstanceOf(FlushError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
  });

  it('keeps the HTTP status of the errors that are answers', () => {
    expect(new FlushValidationError('x')).toBeInstanceOf(BadRequestException);
    expect(new FlushUnavailableError().getStatus()).toBe(503);
    expect(new FlushUnavailableError()).toBeInstanceOf(ServiceUnavailableException);
  });

  it('is not fooled by other errors, and subclasses test as usual', () => {
    expect(new Error('x')).not.toBeInstanceOf(FlushError);
    expect(new BadRequestException('x')).not.toBeInstanceOf(FlushError);
    expect(null).not.toBeInstanceOf(FlushError);
    expect(new FlushValidationError('x')).not.toBeInstanceOf(FlushConfigurationError);
    expect(new FlushConfigurationError('x')).not.toBeInstanceOf(StreamClosedError);
  });
});
