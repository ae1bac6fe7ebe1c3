import { FlushConfigurationError } from '../flush.errors.js';
import { INVALID_ROUTE_OPTION } from '../flush.messages.js';
import type { FlushRouteOptions } from '../flush-route-options.interface.js';
import { checkOptions, OPTION_RULES, type OptionRule } from '../flush-option.rules.js';
import { FLUSH_FORMATS } from '../formats/flush-formats.registry.js';

/** Route options checked exactly as the module's (and the SSE `retry` field). */
const SHARED_RULES: { readonly [K in keyof FlushRouteOptions]?: OptionRule } = {
  heartbeatIntervalMs: OPTION_RULES.heartbeatIntervalMs,
  maxQueuedBytes: OPTION_RULES.maxQueuedBytes,
  slowClientPolicy: OPTION_RULES.slowClientPolicy,
  retry: OPTION_RULES.retry,
  skipInterceptors: OPTION_RULES.skipInterceptors,
};

const KEYS = new Set([
  'format',
  'heartbeatIntervalMs',
  'heartbeatChunk',
  'maxQueuedBytes',
  'slowClientPolicy',
  'retry',
  'padding',
  'compress',
  'contentType',
  'skipInterceptors',
  'model',
]);

/** Validates `@Flush()` options when the decorator is applied (at import, before bootstrap). @internal */
export const validateRouteOptions = (route: string, o: FlushRouteOptions): void => {
  const fail = (option: string, expected: string): never => {
    throw new FlushConfigurationError(
      INVALID_ROUTE_OPTION(route, option, (o as Record<string, unknown>)[option], expected),
    );
  };
  if (o === null || typeof o !== 'object') {
    throw new FlushConfigurationError(
      INVALID_ROUTE_OPTION(route, '(options)', o, "an object such as { format: 'ndjson' }"),
    );
  }
  for (const key of Object.keys(o)) {
    if (!KEYS.has(key))
      fail(key, `one of the known options (${[...KEYS].join(', ')}); this option does not exist`);
  }
  if (o.format !== undefined && !FLUSH_FORMATS.includes(o.format))
    fail('format', `one of ${FLUSH_FORMATS.map(f => `'${f}'`).join(', ')}`);
  checkOptions(o, SHARED_RULES, (option, _value, expected) => fail(option, expected));
  if (
    o.heartbeatChunk !== undefined &&
    (typeof o.heartbeatChunk !== 'string' || o.heartbeatChunk === '')
  )
    fail('heartbeatChunk', 'a non-empty string');
  if (
    o.padding !== undefined &&
    typeof o.padding !== 'boolean' &&
    !(Number.isInteger(o.padding) && o.padding >= 1 && o.padding <= 65536)
  )
    fail('padding', 'true, false or a number of bytes from 1 to 65536');
  if (o.compress !== undefined && typeof o.compress !== 'boolean')
    fail('compress', 'true or false');
  if (
    o.contentType !== undefined &&
    (typeof o.contentType !== 'string' || /[\r\n]/.test(o.contentType))
  )
    fail('contentType', 'a Content-Type header value');
  if (o.model !== undefined && o.format !== 'openai')
    fail('model', "unset: it only applies to format 'openai'");
  if (o.model !== undefined && (typeof o.model !== 'string' || !/^[^\r\n]{1,200}$/.test(o.model)))
    fail('model', 'a model name of 1 to 200 characters without line breaks');
  if (o.format && o.format !== 'sse' && (o.retry !== undefined || o.padding))
    fail(o.retry !== undefined ? 'retry' : 'padding', "unset: it only applies to format 'sse'");
};
