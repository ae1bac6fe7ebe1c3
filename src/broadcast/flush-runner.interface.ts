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

/**
 * How `run()` and `attach()` meet the module's `authorize` rules: the run `key` is the channel
 * `run:<key>` for the rules (and for `?ticket=`), checked against the request of the streaming
 * route that calls them, or the one given here.
 * @publicApi
 */
export interface FlushRunAuthorization {
  /**
   * The request to authorize, for a call outside a streaming route (e.g. a POST that starts a
   * run and answers JSON). Default: the request of the `@Flush()` / `@Sse()` route whose handler
   * is running.
   */
  request?: unknown;
  /**
   * Lets a server-internal call start or follow a run without a request to authorize although
   * FlushModule has `authorize` rules (as `stream(channel, { skipAuthorization: true })`).
   * Without it, a call with no request throws while rules exist.
   * @default false
   */
  skipAuthorization?: boolean;
}

/** Options of `FlushHub.run()`. @publicApi */
export interface FlushRunOptions extends FlushRunAuthorization {
  /**
   * How long the run's replay is kept after its end, in milliseconds (1 ms to 24 h).
   * @default the module's `runTtlMs` (600000)
   */
  ttlMs?: number;
}

/** Options of `FlushHub.attach()`. @publicApi */
export interface FlushAttachOptions extends FlushRunAuthorization {
  /** The client's Last-Event-ID: only the run's events after it, then live, then the end. */
  lastEventId?: string;
}

/** Prefix of a run's hub channel: the run `key` streams through the channel `run:<key>`. @internal */
export const FLUSH_RUN_CHANNEL_PREFIX = 'run:';

/**
 * The hub's admission of one run call: resolves when the request may start or follow the run
 * channel `channel`, rejects with a 401 or 403 (`ForbiddenException`) when it may not.
 * @internal
 */
export type FlushRunAdmission = (channel: string) => Promise<void>;

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
    admit: FlushRunAdmission,
  ): Observable<MessageEvent>;
  attach(
    host: FlushRunHost,
    key: string,
    options: FlushAttachOptions,
    admit: FlushRunAdmission,
  ): Observable<MessageEvent>;
  cancel(key: string): Promise<void>;
}

/** Injection token of the runner FlushHub delegates runs to. @internal */
export const FLUSH_RUNNER = Symbol('FLUSH:RUNNER');
