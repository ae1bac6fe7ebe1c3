/**
 * Headers every streamed response gets: no caching, no transformation (so `compression()`
 * and `@fastify/compress` pass the stream through), no proxy buffering (nginx).
 * @internal
 */
export const STREAM_COMMON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-cache, no-store, no-transform',
  'x-accel-buffering': 'no',
});

/** Content types per format. @internal */
export const STREAM_CONTENT_TYPES = Object.freeze({
  sse: 'text/event-stream; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  text: 'text/plain; charset=utf-8',
} as const);
