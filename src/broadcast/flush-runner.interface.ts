import type { MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';

/**
 * What a run's producer returns: its items become the run's events (strings as they are,
 * anything else as JSON). The producer's `signal` aborts when the run is cancelled, expires, or
 * its instance shuts down; the source is stopped then too.
 * @publicApi
 */
export type FlushRunProducer = (
  signal: AbortSignal,
) => AsyncIterable<unknown> | Observable<unknown> | ReadableStream;

/** Options of `FlushHub.run()`. @publicApi */
export interface FlushRunOptions {
  /**
   * How long the run's replay is kept after its end, in milliseconds (1 ms to 24 h).
   * @default the module's `runTtlMs` (600000)
   */
  ttlMs?: number;
}

/** Options of `FlushHub.attach()`. @publicApi */
export interface FlushAttachOptions {
  /** The client's Last-Event-ID: only the run's events after it, then live, then the end. */
  lastEventId?: string;
}

/** What the runner uses of FlushHub: a one-channel hub stream from a position. @internal */
export interface FlushRunHost {
  /** The channel's events after `lastEventId` (`'0-0'`: from its first), then live ones. */
  stream(channel: string, lastEventId: string): Observable<MessageEvent>;
}

/**
 * What FlushHub delegates `run()`, `attach()` and `cancel()` to (implemented by `FlushRuns` in
 * `runs/`, which depends on the hub's contracts, never the other way).
 * @internal
 */
export interface FlushRunner {
  run(
    host: FlushRunHost,
    key: string,
    producer: FlushRunProducer,
    options: FlushRunOptions,
  ): Observable<MessageEvent>;
  attach(host: FlushRunHost, key: string, options: FlushAttachOptions): Observable<MessageEvent>;
  cancel(key: string): Promise<void>;
}

/** Injection token of the runner FlushHub delegates runs to. @internal */
export const FLUSH_RUNNER = Symbol('FLUSH:RUNNER');
