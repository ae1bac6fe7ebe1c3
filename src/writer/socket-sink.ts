import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { chunkOf } from './shared-frame.js';
import type { Chunk } from './stream-writer.options.js';

/**
 * The socket a writer may write HTTP/1.1 chunks to directly, skipping `OutgoingMessage.write()`
 * (which costs as much as the syscall on a broadcast): only for a chunked HTTP/1.1 response that
 * is not compressed (by the writer or by `compression()`, which adds `res.flush()`), not HEAD,
 * with nothing buffered in Node. Undefined: write through the response. `res.end()` still writes
 * the last chunk either way.
 * @internal
 */
export const directSocketOf = (
  req: IncomingMessage,
  res: ServerResponse,
  compressed: boolean,
): Socket | undefined => {
  const socket = res.socket;
  const direct =
    (req.httpVersionMajor ?? 1) < 2 &&
    !compressed &&
    req.method !== 'HEAD' &&
    (res as ServerResponse & { chunkedEncoding?: boolean }).chunkedEncoding === true &&
    typeof (res as ServerResponse & { flush?: unknown }).flush !== 'function' &&
    socket &&
    !socket.destroyed &&
    res.writableLength === 0;
  return direct ? socket : undefined;
};

/** Writes `data` as one HTTP/1.1 chunk (`<hex length>\r\n<data>\r\n`) to the socket. @internal */
export const writeHttpChunk = (socket: Socket, data: Chunk): boolean =>
  typeof data === 'string'
    ? socket.write(`${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`)
    : socket.write(chunkOf(data));
