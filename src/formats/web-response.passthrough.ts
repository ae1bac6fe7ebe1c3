import type { Chunk } from '../writer/stream-writer.options.js';

/**
 * Headers of a `Response` that describe the connection it came on, not the body: never sent on,
 * and forbidden under HTTP/2. (Content-Length goes too: the body is streamed.)
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

/** Whether a value is a web `Response` (any realm, as NestJS tells it). @internal */
export const isWebResponse = (value: unknown): value is Response =>
  Object.prototype.toString.call(value) === '[object Response]';

/**
 * The headers of a `Response` to send on: all but the hop-by-hop ones and Content-Length;
 * `Set-Cookie` as its separate values. A fetched response (`type` not 'default') has a decoded
 * body: its Content-Encoding no longer applies and is left out.
 * @internal
 */
export const webResponseHeaders = (response: Response): Record<string, string | string[]> => {
  const decoded = response.type !== 'default' && response.headers.has('content-encoding');
  const out: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || name === 'set-cookie') return;
    if (decoded && name === 'content-encoding') return;
    out[name] = value;
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length > 0) out['set-cookie'] = cookies;
  // Proxies (nginx) pass each chunk on at once, unless the Response says otherwise.
  out['x-accel-buffering'] ??= 'no';
  return out;
};

/**
 * The body of a `Response` as the source to pump, or undefined for a body-less one. Throws a
 * `TypeError` (before any byte: the exception filters answer) when it was read already.
 * @internal
 */
export const webResponseBody = (response: Response): ReadableStream<Uint8Array> | undefined => {
  if (response.bodyUsed || response.body?.locked)
    throw new TypeError(
      'The route handler returned a Response whose body has been read already, so it cannot be sent.',
    );
  return response.body ?? undefined;
};

/** Writes a body chunk as its bytes (a string as UTF-8). @internal */
export const encodeBodyChunk = (chunk: unknown): Chunk => {
  if (typeof chunk === 'string') return chunk;
  if (ArrayBuffer.isView(chunk))
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk);
  throw new TypeError('A Response body must yield bytes (Uint8Array) or strings.');
};
