/** The wire formats a writer speaks. @publicApi */
export type FlushFormat = 'sse' | 'ndjson' | 'text' | 'openai' | 'ai-sdk';

/** Counters a writer reports to (FlushMetrics implements it). @internal */
export interface StreamWriterHooks {
  written?(bytes: number): void;
  dropped?(frames: number): void;
  heartbeat?(): void;
  slowClient?(queuedBytes: number): void;
}

/** Options of a StreamWriter. @publicApi */
export interface StreamWriterOptions {
  /** Silence after which `heartbeatChunk` is written. `false`: never. */
  heartbeatIntervalMs: number | false;
  /** What a heartbeat writes (an SSE comment, an empty NDJSON line...). */
  heartbeatChunk: string;
  /** Bound on bytes queued for a push source (ours plus Node's buffer). */
  maxQueuedBytes: number;
  /** What to do past the bound. */
  slowClientPolicy: 'disconnect' | 'drop-oldest' | 'drop-newest';
  /** Gzip the body, with a sync flush after every burst of writes. */
  compress?: boolean;
  /**
   * What tells the client that the slow-client policy dropped `count` frames (an SSE resync
   * event, an NDJSON line); it goes out before the next frames. Undefined: the format cannot
   * say it (text).
   */
  dropNotice?: (count: number) => Chunk;
}

/** What a writer sends: text, or bytes. @publicApi */
export type Chunk = string | Buffer;
