import type { Chunk } from '../writer/stream-writer.options.js';

/**
 * How a stream ended, as a run's `end` event says it (`{"status": …}`), and as the formats with
 * an ending of their own write it.
 * @publicApi
 */
export type FlushEndStatus = 'completed' | 'cancelled' | 'failed' | 'expired';

/** What a client may see of a failure: the sanitized status and message. @publicApi */
export interface FlushFormatError {
  readonly statusCode: number;
  readonly message: string;
}

/**
 * One connection's writer of a wire format with a framing, an ending and an error shape of its
 * own (`'openai'`, `'ai-sdk'`). It keeps what the protocol needs to know about the stream so far
 * (the first chunk, an open text part, a finish the producer sent). Pure: no NestJS.
 * @publicApi
 */
export interface FlushFormatSession {
  /** The frame(s) of one produced item. Throws a `TypeError` for an item the format cannot carry. */
  encode(item: unknown): Chunk;
  /**
   * The last frames of the stream: the format's own ending for `status` (`'failed'`: its error
   * shape carrying `error`, sanitized by the caller).
   */
  end(status: FlushEndStatus, error?: FlushFormatError): Chunk;
}

/** Options a wire format takes from `@Flush()`. @internal */
export interface FlushWireFormatOptions {
  /** `'openai'`: the `model` of every chunk. */
  readonly model?: string;
}

/** A wire format with its own ending: headers, and a session per connection. @internal */
export interface FlushWireFormat {
  /** Headers the protocol asks for, besides the Content-Type (`text/event-stream`). */
  readonly headers: Readonly<Record<string, string>>;
  createSession(options: FlushWireFormatOptions): FlushFormatSession;
}

/** The SSE frame of one JSON value: `data: <json>\n\n` (JSON has no raw line break). @internal */
export const jsonFrame = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`;

/** The sentinel both protocols end with. @internal */
export const DONE_FRAME = 'data: [DONE]\n\n';

/** A TypeError naming what a format carries and what it got. @internal */
export const unsupportedItem = (format: string, carries: string, item: unknown): TypeError =>
  new TypeError(
    `@Flush({ format: '${format}' }) writes ${carries}; the producer emitted ${
      item === null ? 'null' : Array.isArray(item) ? 'an array' : typeof item
    }.`,
  );
