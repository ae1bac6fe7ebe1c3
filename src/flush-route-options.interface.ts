import type { FlushSkipMode, FlushSlowClientPolicy } from './flush-module-options.interface.js';
import type { FlushFormat } from './writer/stream.writer.js';

/**
 * Options of `@Flush()`. Unset values fall back to the module options.
 * @publicApi
 */
export interface FlushRouteOptions {
  /**
   * Wire format: Server-Sent Events, newline-delimited JSON, chunks of text as given, OpenAI's
   * Chat Completions stream (`'openai'`: strings become `chat.completion.chunk` deltas, objects
   * are chunks; ends with `data: [DONE]`) or the Vercel AI SDK UI message stream v1 (`'ai-sdk'`:
   * strings become text deltas inside start / text-start / text-end / finish parts, objects are
   * parts; ends with `data: [DONE]`).
   * @default 'sse'
   */
  format?: FlushFormat;
  /**
   * `format: 'openai'`: the `model` of the chunks the library builds from strings.
   * @default 'nestjs-flush'
   */
  model?: string;
  /**
   * Silence after which a heartbeat is written. SSE: the module's `heartbeatIntervalMs`;
   * NDJSON and text: off unless set here.
   */
  heartbeatIntervalMs?: number | false;
  /**
   * What a heartbeat writes. @default ':\n\n' for SSE, '\n' for NDJSON and text
   */
  heartbeatChunk?: string;
  /** Bound on bytes queued per connection for push sources. @default the module's (4 MiB) */
  maxQueuedBytes?: number;
  /** Slow-client policy for push sources. @default the module's ('disconnect') */
  slowClientPolicy?: FlushSlowClientPolicy;
  /** SSE: a `retry:` reconnection hint (ms) sent first. */
  retry?: number;
  /**
   * SSE: a padding comment sent first, for proxies that hold the first bytes (`true` = 2048
   * bytes). @default false
   */
  padding?: boolean | number;
  /**
   * Gzip the stream (when the client accepts gzip), flushing after every burst of events.
   * Off by default: streams go out uncompressed, marked `no-transform` so compression
   * middleware leaves them alone. @default false
   */
  compress?: boolean;
  /** Overrides the Content-Type (e.g. `text/html; charset=utf-8` for progressive HTML). */
  contentType?: string;
  /** Which interceptors leave this route alone. @default the module's ('global') */
  skipInterceptors?: FlushSkipMode;
}
