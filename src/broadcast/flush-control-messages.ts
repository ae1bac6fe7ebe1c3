/**
 * The messages FlushHub and the stream controls send each other across instances, through the
 * transport's control plane (`FlushControlPlane.broadcast`). JSON with a `type`; a message of an
 * unknown type (a newer instance during a rolling deploy) is ignored.
 * @internal
 */
export type FlushControlMessage =
  /** End the streams matching `key` and/or `channel` (both: streams matching both) with `revoked`. */
  | { readonly type: 'disconnect'; readonly key?: string; readonly channel?: string }
  /** Abort the producer of the run `key`, on the instance running it (`hub.cancel(key)`). */
  | { readonly type: 'cancel'; readonly key: string };

/** @internal */
export const encodeControlMessage = (message: FlushControlMessage): string =>
  JSON.stringify(message);

/** The message, or undefined for anything malformed or unknown. @internal */
export const decodeControlMessage = (text: string): FlushControlMessage | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  const optionalString = (v: unknown) => v === undefined || typeof v === 'string';
  if (m.type === 'disconnect' && optionalString(m.key) && optionalString(m.channel)) {
    return {
      type: 'disconnect',
      ...(typeof m.key === 'string' && { key: m.key }),
      ...(typeof m.channel === 'string' && { channel: m.channel }),
    };
  }
  if (m.type === 'cancel' && typeof m.key === 'string') return { type: 'cancel', key: m.key };
  return undefined;
};
