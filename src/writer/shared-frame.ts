const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * Frames written to many responses (a hub event's), each with its HTTP/1.1 chunk, built on the
 * first direct write and reused by every other connection: a broadcast costs a write per
 * subscriber, not an allocation and a copy.
 */
const sharedFrames = new WeakMap<Buffer, Buffer | undefined>();

/** Marks a frame that many writers will send as it is. Returns the frame. @internal */
export const markSharedFrame = (frame: Buffer): Buffer => {
  sharedFrames.set(frame, undefined);
  return frame;
};

const toChunk = (data: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, CRLF]);

/**
 * The HTTP/1.1 chunk of `data` (`<hex length>\r\n<data>\r\n`): built once for a shared frame and
 * reused by every connection, built afresh for any other buffer.
 * @internal
 */
export const chunkOf = (data: Buffer): Buffer => {
  if (!sharedFrames.has(data)) return toChunk(data);
  let chunk = sharedFrames.get(data);
  if (!chunk) sharedFrames.set(data, (chunk = toChunk(data)));
  return chunk;
};
