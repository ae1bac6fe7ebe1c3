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
  openai: 'text/event-stream; charset=utf-8',
  'ai-sdk': 'text/event-stream; charset=utf-8',
} as const);

/**
 * The headers NestJS's own `@Sse()` sends (its SseStream), kept as they are on `@Sse()` routes
 * nestjs-flush serves. `Connection` is dropped under HTTP/2 by the writer.
 * @internal
 */
export const NEST_SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/event-stream',
  Connection: 'keep-alive',
  'Cache-Control': 'private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
  Pragma: 'no-cache',
  Expires: '0',
  'X-Accel-Buffering': 'no',
});

/** The one SSE heartbeat: an empty comment line, ignored by clients. @internal */
export const SSE_HEARTBEAT = ':\n\n';
