import { FlushConfigurationError } from '../flush.errors.js';
import { INVALID_ROUTE_OPTION } from '../flush.messages.js';
import type { FlushRouteOptions } from '../flush-route-options.interface.js';

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
  const int = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
  if (o.format !== undefined && !['sse', 'ndjson', 'text'].includes(o.format))
    fail('format', "'sse', 'ndjson' or 'text'");
  if (
    o.heartbeatIntervalMs !== undefined &&
    o.heartbeatIntervalMs !== false &&
    !int(o.heartbeatIntervalMs, 10)
  )
    fail('heartbeatIntervalMs', 'a whole number of milliseconds >= 10, or false');
  if (
    o.heartbeatChunk !== undefined &&
    (typeof o.heartbeatChunk !== 'string' || o.heartbeatChunk === '')
  )
    fail('heartbeatChunk', 'a non-empty string');
  if (o.maxQueuedBytes !== undefined && !int(o.maxQueuedBytes, 1024))
    fail('maxQueuedBytes', 'a whole number of bytes >= 1024');
  if (
    o.slowClientPolicy !== undefined &&
    !['disconnect', 'drop-oldest', 'drop-newest'].includes(o.slowClientPolicy)
  )
    fail('slowClientPolicy', "'disconnect', 'drop-oldest' or 'drop-newest'");
  if (o.retry !== undefined && !int(o.retry, 0))
    fail('retry', 'a whole number of milliseconds >= 0');
  if (
    o.padding !== undefined &&
    typeof o.padding !== 'boolean' &&
    !(int(o.padding, 1) && o.padding <= 65536)
  )
    fail('padding', 'true, false or a number of bytes from 1 to 65536');
  if (o.compress !== undefined && typeof o.compress !== 'boolean')
    fail('compress', 'true or false');
  if (
    o.contentType !== undefined &&
    (typeof o.contentType !== 'string' || /[\r\n]/.test(o.contentType))
  )
    fail('contentType', 'a Content-Type header value');
  if (o.skipInterceptors !== undefined && !['global', 'all', 'none'].includes(o.skipInterceptors))
    fail('skipInterceptors', "'global', 'all' or 'none'");
  if (o.format && o.format !== 'sse' && (o.retry !== undefined || o.padding))
    fail(o.retry !== undefined ? 'retry' : 'padding', "unset: it only applies to format 'sse'");
};
