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
 * A push source read without an rxjs Subscriber (a hub stream returned as it is): `open` starts
 * it into `sink` and returns its teardown. Set on the Observable under `DIRECT_SOURCE`; an
 * Observable piped through operators is a new one without it, read as any Observable.
 * @internal
 */
export type DirectSourceOpen = (sink: DirectSink) => () => void;
/** Where a direct source pushes. @internal */
export interface DirectSink {
  next(item: unknown): void;
  error(err: unknown): void;
  complete(): void;
}
/** @internal */
export const DIRECT_SOURCE = Symbol('nestjs-flush.directSource');

/** Marks an Observable as readable directly through `open` (see `DirectSourceOpen`). @internal */
export const withDirectSource = <T extends object>(observable: T, open: DirectSourceOpen): T => {
  Object.defineProperty(observable, DIRECT_SOURCE, { value: open });
  return observable;
};

/** How a pumping ended: `failed` with the source's (or the encoder's) error, or not. @internal */
export type PumpDone = (failed: boolean, error?: unknown) => void;

/**
 * Reads `source` into `writer` until it ends, the client leaves or the stream is closed.
 * Observables are push sources (bounded by the writer's slow-client policy); async iterables,
 * Node Readables, web ReadableStreams and generators are pulled only as fast as the socket drains.
 * The producer is always stopped: unsubscribed, `return()`ed (a generator's `finally` runs) or
 * destroyed. Resolves when done; rejects with the source's (or the encoder's) error.
 * @internal
 */
export const pumpSource = (
  source: unknown,
  writer: PumpSink,
  encode: FrameEncoder,
): Promise<void> =>
  new Promise<void>((resolve, reject) =>
    pumpSourceTo(source, writer, encode, (failed, error) => (failed ? reject(error) : resolve())),
  );

/**
 * `pumpSource` with a callback, called once: an open stream of an Observable holds its
 * subscription and a few closures, no promise. @internal
 */
export const pumpSourceTo = (
  source: unknown,
  writer: PumpSink,
  encode: FrameEncoder,
  done: PumpDone,
): void => {
  let pumping: Promise<void>;
  try {
    if (isObservable(source)) return pumpObservable(source, writer, encode, done);
    pumping = isAsyncIterable(source)
      ? pumpAsyncIterable(source, writer, encode)
      : isIteratorObject(source)
        ? pumpIterator(source, writer, encode)
        : pumpOne(source, writer, encode);
  } catch (err) {
    return done(true, err);
  }
  pumping.then(
    () => done(false),
    (err: unknown) => done(true, err),
  );
};

/** A single value, written as one item. */
const pumpOne = async (source: unknown, writer: PumpSink, encode: FrameEncoder): Promise<void> => {
  if (source !== undefined) await writer.write(encode(source));
};

const pumpObservable = (
  source: Observable<unknown>,
  writer: PumpSink,
  encode: FrameEncoder,
  done: PumpDone,
): void => {
  let settled = false;
  // Declared before subscribing: a synchronous source settles while subscribe() is still running.
  let stop: (() => void) | undefined;
  // Also read by settle() while onClose() runs (a response closed already calls back at once).
  // eslint-disable-next-line prefer-const
  let cancelOnClose: (() => void) | undefined;
  const settle = (failed: boolean, err?: unknown): void => {
    if (settled) return;
    settled = true;
    cancelOnClose?.();
    stop?.();
    done(failed, err);
  };
  cancelOnClose = writer.onClose(() => settle(false));
  if (settled) return;
  const sink: DirectSink = {
    next: item => {
      if (settled) return;
      let frame: string | Buffer;
      try {
        frame = encode(item);
      } catch (err) {
        settle(true, err);
        return;
      }
      if (!writer.push(frame) && writer.closed) settle(false);
    },
    error: (err: unknown) => settle(true, err ?? new Error('Observable errored')),
    complete: () => settle(false),
  };
  const direct = (source as { [DIRECT_SOURCE]?: DirectSourceOpen })[DIRECT_SOURCE];
  if (direct) {
    let teardown: () => void;
    try {
      teardown = direct(sink);
    } catch (err) {
      return settle(true, err);
    }
    stop = teardown;
    // Settled while it opened: release now.
    if (settled) teardown();
    return;
  }
  const subscription: Subscription = source.subscribe(sink);
  stop = () => subscription.unsubscribe();
  // Settled synchronously (a sync source): release now.
  if (settled) subscription.unsubscribe();
};

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
