import { isObservable, type Observable, type Subscription } from 'rxjs';
import { StreamClosedError } from '../flush.errors.js';
import type { StreamWriter } from './stream.writer.js';

/**
 * What `pumpSource` writes into: the stream writer, or any sink with the same contract (a run
 * publishes its producer's items through one). @internal
 */
export type PumpSink = Pick<StreamWriter, 'write' | 'push' | 'onClose' | 'closed'>;

/**
 * What a `@Flush()` handler returns: a stream of items of type `T`, or a Promise of one. (A
 * handler that returns a single non-stream value gets it written as one item.)
 * @example @Get('rows') @Flush({ format: 'ndjson' }) rows(): FlushSource<Row> { return this.db.cursor(); }
 * @publicApi
 */
export type FlushSource<T = unknown> = FlushStream<T> | Promise<FlushStream<T>>;

/** The stream kinds `@Flush()` reads: Observable, async iterable, iterator (generator), Node Readable, web ReadableStream. @publicApi */
export type FlushStream<T = unknown> =
  Observable<T> | AsyncIterable<T> | Iterator<T> | NodeJS.ReadableStream | ReadableStream<T>;

/** Turns one item into the bytes of the wire format. May throw (BigInt, circular). @internal */
export type FrameEncoder = (item: unknown) => string | Buffer;

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> =>
  v !== null &&
  typeof v === 'object' &&
  typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';

/** A sync iterator object (a generator), not a value that merely is iterable (array, string). */
const isIteratorObject = (v: unknown): v is Iterator<unknown> & Iterable<unknown> =>
  v !== null &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  typeof (v as Iterator<unknown>).next === 'function' &&
  typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function';

/** Whether a value is a stream source rather than a single item. @internal */
export const isStreamSource = (v: unknown): boolean =>
  isObservable(v) || isAsyncIterable(v) || isIteratorObject(v);

/** Releases a source that will never be read (HEAD, a client gone before the start). @internal */
export const releaseSource = (source: unknown): void => {
  try {
    if (isAsyncIterable(source)) {
      const destroy = (source as { destroy?: () => void }).destroy;
      if (typeof destroy === 'function') destroy.call(source);
      else if (typeof (source as unknown as ReadableStream).cancel === 'function')
        void (source as unknown as ReadableStream).cancel().catch(() => undefined);
      else
        void source[Symbol.asyncIterator]()
          .return?.()
          ?.catch(() => undefined);
    } else if (isIteratorObject(source)) {
      source.return?.();
    }
  } catch {
    // Releasing is best effort; the source is dropped either way.
  }
};

/**
 * Reads `source` into `writer` until it ends, the client leaves or the stream is closed.
 * Observables are push sources (bounded by the writer's slow-client policy); async iterables,
 * Node Readables, web ReadableStreams and generators are pulled only as fast as the socket drains.
 * The producer is always stopped: unsubscribed, `return()`ed (a generator's `finally` runs) or
 * destroyed. Resolves when done; rejects with the source's (or the encoder's) error.
 * @internal
 */
export const pumpSource = async (
  source: unknown,
  writer: PumpSink,
  encode: FrameEncoder,
): Promise<void> => {
  if (isObservable(source)) return pumpObservable(source, writer, encode);
  if (isAsyncIterable(source)) return pumpAsyncIterable(source, writer, encode);
  if (isIteratorObject(source)) return pumpIterator(source, writer, encode);
  if (source !== undefined) await writer.write(encode(source));
};

const pumpObservable = (
  source: Observable<unknown>,
  writer: PumpSink,
  encode: FrameEncoder,
): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    let settled = false;
    // Declared before subscribe(): a synchronous source settles while subscribe() is still running.
    // eslint-disable-next-line prefer-const
    let subscription: Subscription | undefined;
    // Also read by settle() while onClose() runs (a response closed already calls back at once).
    // eslint-disable-next-line prefer-const
    let cancelOnClose: (() => void) | undefined;
    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      cancelOnClose?.();
      subscription?.unsubscribe();
      if (err === undefined) resolve();
      else reject(err);
    };
    cancelOnClose = writer.onClose(() => settle());
    if (settled) return;
    subscription = source.subscribe({
      next: item => {
        if (settled) return;
        let frame: string | Buffer;
        try {
          frame = encode(item);
        } catch (err) {
          settle(err);
          return;
        }
        if (!writer.push(frame) && writer.closed) settle();
      },
      error: (err: unknown) => settle(err ?? new Error('Observable errored')),
      complete: () => settle(),
    });
    // Settled synchronously (a sync source): release now.
    if (settled) subscription.unsubscribe();
  });

/**
 * The iterator a source is read through. A web ReadableStream is read through its reader: its
 * async iterator's `return()` waits for the read in progress, which an upstream gone quiet never
 * settles, while `reader.cancel()` ends that read at once and cancels the stream.
 */
const openAsyncSource = (source: AsyncIterable<unknown>): AsyncIterator<unknown> => {
  const getReader = (source as Partial<ReadableStream<unknown>>).getReader;
  if (typeof getReader !== 'function') return source[Symbol.asyncIterator]();
  const reader = getReader.call(source) as ReadableStreamDefaultReader<unknown>;
  return {
    next: () => reader.read() as Promise<IteratorResult<unknown>>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
};

const pumpAsyncIterable = async (
  source: AsyncIterable<unknown>,
  writer: PumpSink,
  encode: FrameEncoder,
): Promise<void> => {
  const iterator = openAsyncSource(source);
  let finished = false;
  // Stops the producer as soon as the client leaves, also while next() is pending: a Readable is
  // destroyed, a ReadableStream cancelled; a generator runs its finally at its next yield.
  const stop = (): void => {
    if (finished) return;
    finished = true;
    try {
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
    } catch {
      // A return() that throws synchronously leaves nothing to release.
    }
  };
  const cancelOnClose = writer.onClose(stop);
  if (finished) return;
  let reading = false;
  try {
    for (;;) {
      reading = true;
      const step = await iterator.next();
      reading = false;
      if (finished) return;
      if (step.done) {
        finished = true;
        return;
      }
      const wait = writer.write(encode(step.value));
      if (wait) await wait;
    }
  } catch (err) {
    if (err instanceof StreamClosedError) return stop();
    if (finished) return; // an error after the client left (e.g. a destroyed stream) is no failure
    // A throwing iterator is finished already; one whose item the encoder refused is stopped.
    if (reading) finished = true;
    else stop();
    throw err;
  } finally {
    cancelOnClose();
    if (!finished) stop();
  }
};

const pumpIterator = async (
  source: Iterator<unknown>,
  writer: PumpSink,
  encode: FrameEncoder,
): Promise<void> => {
  let done = false;
  try {
    for (;;) {
      if (writer.closed) return;
      const step = source.next();
      if (step.done) {
        done = true;
        return;
      }
      try {
        const wait = writer.write(encode(step.value));
        if (wait) await wait;
      } catch (err) {
        if (err instanceof StreamClosedError) return;
        throw err;
      }
    }
  } catch (err) {
    done = true;
    throw err;
  } finally {
    if (!done) source.return?.();
  }
};

/**
 * The stream source in what an interceptor made of a handler's result: the value itself, or
 * the source inside a plain object it was wrapped in (`{ code, data: stream }`), as Nest does.
 * @internal
 */
export const unwrapStreamSource = (value: unknown): unknown => {
  if (isStreamSource(value)) return value;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const inner of Object.values(value)) if (isStreamSource(inner)) return inner;
  }
  return value;
};
