import { FlushConfigurationError } from '../flush.errors.js';
import type { FlushRouteOptions } from '../flush-route-options.interface.js';
import { validateRouteOptions } from './flush-route-options.validator.js';

const check = (options: unknown) =>
  validateRouteOptions('ChatController.complete()', options as FlushRouteOptions);

describe("@Flush() options of the 'openai' and 'ai-sdk' formats", () => {
  it('accepts every format, and model on openai', () => {
    for (const format of ['sse', 'ndjson', 'text', 'openai', 'ai-sdk'] as const)
      expect(() => check({ format })).not.toThrow();
    expect(() => check({ format: 'openai', model: 'gpt-local-1' })).not.toThrow();
  });

  it('names the formats it knows', () => {
    expect(() => check({ format: 'vercel' })).toThrow(
      "@Flush() on ChatController.complete(): option \"format\" must be one of 'sse', 'ndjson', 'text', 'openai', 'ai-sdk'; received \"vercel\".",
    );
  });

  it('takes model only on openai, as a one-line name', () => {
    expect(() => check({ format: 'ai-sdk', model: 'm' })).toThrow(
      `option "model" must be unset: it only applies to format 'openai'`,
    );
    expect(() => check({ model: 'm' })).toThrow(FlushConfigurationError);
    expect(() => check({ format: 'openai', model: '' })).toThrow(
      'option "model" must be a model name of 1 to 200 characters without line breaks; received "".',
    );
    expect(() => check({ format: 'openai', model: 'a\nb' })).toThrow(FlushConfigurationError);
    expect(() => check({ format: 'openai', model: 4 })).toThrow(FlushConfigurationError);
  });

  it('refuses the SSE-only retry and padding: the clients of these formats do not reconnect', () => {
    expect(() => check({ format: 'openai', retry: 1000 })).toThrow(
      `option "retry" must be unset: it only applies to format 'sse'`,
    );
    expect(() => check({ format: 'ai-sdk', padding: true })).toThrow(FlushConfigurationError);
  });
});
