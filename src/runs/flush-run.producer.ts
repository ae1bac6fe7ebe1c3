import type { Logger } from '@nestjs/common';
import type { FlushRunProducer } from '../broadcast/flush-runner.interface.js';
import type { FlushPublishStorage } from '../broadcast/flush-transport.interface.js';
import { toPublicError } from '../flush.errors-mapping.js';
import { encodeData } from '../sse/sse.serializer.js';
import { isStreamSource, pumpSource } from '../writer/stream-source.util.js';
import { FlushRunSink, FlushRunTooLongError } from './flush-run.sink.js';
import { messageOf } from './flush-run.keys.js';
import { RUN_END_LOST, RUN_FAILED, RUN_PRODUCER_INVALID } from './flush-runs.messages.js';

/** How a run ended: the data of its `end` event. @publicApi */
export interface FlushRunEnd {
  readonly status: 'completed' | 'cancelled' | 'failed' | 'expired';
  /** Why it failed (sanitized: never a stack or an internal error's message). */
  readonly message?: string;
  /** Why it expired: its `maxRunDurationMs`, or nobody attached for `runUnattendedStopMs`. */
  readonly reason?: 'duration' | 'unattended';
}

/** Name of every run's last event. @publicApi */
export const FLUSH_RUN_END_EVENT = 'end';

/** Publishes one event of a run into its channel (with the run's storage). @internal */
export type FlushRunPublish = (
  message: { event?: string; data: string },
  storage: FlushPublishStorage,
) => Promise<void>;

/** What a local run needs around it. @internal */
export interface FlushRunSettings {
  readonly maxRunEvents: number;
  readonly maxRunDurationMs: number;
  /** The replay kept after the end. */
  readonly ttlMs: number;
  readonly publish: FlushRunPublish;
  readonly logger: Logger;
}

/**
 * One run whose producer runs on this instance: its abort signal, the sink its items are
 * published through, and why it was stopped from outside, if it was.
 * @internal
 */
export class FlushLocalRun {
  readonly controller = new AbortController();
  readonly sink: FlushRunSink;
  /** Why it was stopped from outside (cancel, expiry, shutdown); undefined: it ran to its end. */
  stop: FlushRunEnd | undefined;
  /** Settles once the `end` event is out (or could not be) and the leases are released. */
  finished: Promise<void> = Promise.resolve();
  /** Since when nobody was attached (for `runUnattendedStopMs`). */
  unattendedSince: number | undefined = Date.now();

  constructor(
    readonly key: string,
    readonly holder: string,
    private readonly settings: FlushRunSettings,
  ) {
    const storage = {
      historySize: settings.maxRunEvents + 1,
      expireMs: settings.maxRunDurationMs + settings.ttlMs,
    };
    this.sink = new FlushRunSink(
      data => settings.publish({ data }, storage),
      settings.maxRunEvents,
    );
  }

  /** Stops the run from outside: its signal aborts, its producer is stopped, `end` says why. */
  stopWith(end: FlushRunEnd): void {
    if (this.stop || this.sink.closed) return;
    this.stop = end;
    this.controller.abort();
    this.sink.close();
  }

  /** Runs the producer to its end (or its stop, or `maxRunDurationMs`), then publishes `end`. */
  async produce(producer: FlushRunProducer): Promise<void> {
    const { settings, sink } = this;
    const deadline = setTimeout(
      () => this.stopWith({ status: 'expired', reason: 'duration' }),
      settings.maxRunDurationMs,
    );
    deadline.unref();
    let error: unknown;
    try {
      const source: unknown = producer(this.controller.signal);
      if (!isStreamSource(source)) throw new TypeError(RUN_PRODUCER_INVALID(source));
      await pumpSource(source, sink, encodeData);
      await sink.drained();
      error = sink.error;
    } catch (err) {
      error = sink.error ?? err;
    } finally {
      clearTimeout(deadline);
    }
    sink.close();
    const end = this.endOf(error);
    if (!this.controller.signal.aborted) this.controller.abort();
    try {
      await settings.publish(
        { event: FLUSH_RUN_END_EVENT, data: JSON.stringify(end) },
        { historySize: settings.maxRunEvents + 1, expireMs: settings.ttlMs },
      );
    } catch (err) {
      settings.logger.error(RUN_END_LOST(this.key, messageOf(err)));
    }
  }

  private endOf(error: unknown): FlushRunEnd {
    if (this.stop) return this.stop;
    if (error === undefined) return { status: 'completed' };
    if (!(error instanceof FlushRunTooLongError))
      this.settings.logger.error(RUN_FAILED(this.key), (error as Error)?.stack ?? String(error));
    return {
      status: 'failed',
      message: error instanceof FlushRunTooLongError ? error.message : toPublicError(error).message,
    };
  }
}
