import { StreamClosedError } from '../flush.errors.js';
import type { Chunk } from '../writer/stream-writer.options.js';
import type { PumpSink } from '../writer/stream-source.util.js';
import { RUN_TOO_MANY_EVENTS } from './flush-runs.messages.js';

/** A producer that yields more than `maxRunEvents` items. @internal */
export class FlushRunTooLongError extends Error {
  override name = 'FlushRunTooLongError';
  constructor(readonly limit: number) {
    super(RUN_TOO_MANY_EVENTS(limit));
  }
}

/**
 * Where `pumpSource` writes a run's producer: each item (already encoded) is published in
 * order, one at a time; pulled sources wait for each publish, pushed ones (Observables) queue.
 * Closing it (cancel, expiry, shutdown, a failure) stops the producer through `onClose`.
 * @internal
 */
export class FlushRunSink implements PumpSink {
  private queue: Promise<void> = Promise.resolve();
  private readonly closers = new Set<() => void>();
  private count = 0;
  #closed = false;
  /** The first failure of a queued publish (or too many events). */
  error: unknown;

  constructor(
    private readonly publish: (data: string) => Promise<void>,
    private readonly maxEvents: number,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  write(chunk: Chunk): Promise<void> {
    return this.publishOne(chunk);
  }

  push(chunk: Chunk): boolean {
    if (this.#closed) return false;
    this.queue = this.queue.then(() => this.publishOne(chunk)).catch(err => this.fail(err));
    return true;
  }

  onClose(callback: () => void): () => void {
    if (this.#closed) {
      callback();
      return () => undefined;
    }
    this.closers.add(callback);
    return () => this.closers.delete(callback);
  }

  /** Resolves once every queued item is published (or dropped after a close). */
  drained(): Promise<void> {
    return this.queue;
  }

  /** Stops the producer; items not yet published are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const callback of this.closers) callback();
    this.closers.clear();
  }

  // Not async: one promise per item (the publish's own) on the hot path of every run.
  private publishOne(chunk: Chunk): Promise<void> {
    if (this.#closed) return Promise.reject(new StreamClosedError());
    if (++this.count > this.maxEvents) {
      const err = new FlushRunTooLongError(this.maxEvents);
      this.fail(err);
      return Promise.reject(err);
    }
    return this.publish(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
  }

  private fail(err: unknown): void {
    if (this.#closed) return;
    this.error = err;
    this.close();
  }
}
