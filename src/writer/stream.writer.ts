import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { StreamClosedError } from '../flush.errors.js';
import { queueFlush } from './flush.queue.js';
import {
  joinHeartbeat,
  leaveHeartbeat,
  TICKS_PER_INTERVAL,
  type HeartbeatGroup,
} from './heartbeat.registry.js';
import { PendingBatch } from './pending-batch.js';
import { isClosed } from './raw-response.util.js';
import { directSocketOf, writeHttpChunk } from './socket-sink.js';
import type { Chunk, StreamWriterHooks, StreamWriterOptions } from './stream-writer.options.js';

export type {
  Chunk,
  FlushFormat,
  StreamWriterHooks,
  StreamWriterOptions,
} from './stream-writer.options.js';
export { markSharedFrame } from './shared-frame.js';

const noop = (): void => undefined;
/** Headers HTTP/2 does not allow (RFC 9113 §8.2.2). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** Bytes gathered in one tick before a pull source waits for them to be written. */
const BATCH_BYTES = 64 * 1024;

/**
 * Writes a streamed response to a raw `node:http` (or HTTP/2 compat) response. Everything written
 * in one tick is gathered and sent as one chunk, then flushed at once (also through
 * `compression()`'s `res.flush()` and an optional gzip with `Z_SYNC_FLUSH`): one syscall and one
 * chunk header per burst instead of per event. `write()` makes pull sources wait while a batch or
 * the socket is full; `push()` bounds what a push source can queue; a heartbeat is written after
 * silence; the client leaving runs the `onClose()` callbacks. Pure: it imports nothing from
 * `@nestjs/*`.
 * @publicApi
 */
export class StreamWriter {
  private readonly out: Writable;
  /** The socket batches go straight to, as hand-framed chunks (see `directSocketOf()`). */
  private direct: Socket | undefined;
  private readonly gzip: Gzip | undefined;
  /** Chunks gathered since the last flush (also those held while the socket drains). */
  private readonly pending: PendingBatch;
  private flushScheduled = false;
  private waitingDrain = false;
  /** Pull writers waiting for the batch to go out. */
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** The macrotask that lets a pull source on after a full batch went out (see `flushBatch()`). */
  private yielding: NodeJS.Immediate | undefined;
  /** The heartbeat group this writer takes part in. */
  private heartbeat: HeartbeatGroup | undefined;
  /** The heartbeat tick of the last write. */
  private lastWriteTick = 0;
  /** Whether the response closed (the client left, or it is over). */
  private gone = false;
  private closeCallbacks: (() => void)[] | undefined;
  private drainListener: (() => void) | undefined;
  private ended = false;
  private opened = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly options: StreamWriterOptions,
    private readonly hooks: StreamWriterHooks = {},
  ) {
    this.pending = new PendingBatch(options.dropNotice);
    if (options.compress) {
      this.gzip = createGzip({ flush: zlibConstants.Z_NO_FLUSH });
      this.gzip.on('error', () => this.abort());
      this.out = this.gzip;
    } else {
      this.out = res;
    }
    if (isClosed(req, res)) this.gone = true;
    else res.once('close', this.onResponseClose);
  }

  /**
   * Runs `callback` once, when the response closes (the client left, or the response is over);
   * at once if it is closed already. Returns the function that cancels it.
   */
  onClose(callback: () => void): () => void {
    if (this.gone) {
      callback();
      return noop;
    }
    const callbacks = (this.closeCallbacks ??= []);
    callbacks.push(callback);
    return () => {
      const at = callbacks.indexOf(callback);
      if (at >= 0) callbacks.splice(at, 1);
    };
  }

  /** Whether the status line and headers are on their way to the client. */
  get headersSent(): boolean {
    return this.opened || this.res.headersSent;
  }

  /** Whether chunks wait to be written (before the headers: whether anything was produced). */
  get hasPending(): boolean {
    return !this.pending.isEmpty;
  }

  /** Whether nothing more can be written (ended, or the client left). */
  get closed(): boolean {
    return this.ended || this.gone;
  }

  /** Bytes this writer holds for a slow client (its own batch plus Node's buffer). */
  get pendingBytes(): number {
    return this.pending.size + ((this.direct ?? this.out).writableLength ?? 0);
  }

  /**
   * Sends the status line and headers right away (`flushHeaders()`), then `preamble` (an SSE
   * `retry:` hint, a padding comment) and starts the heartbeat.
   */
  open(
    statusCode: number,
    headers: Readonly<Record<string, string | readonly string[]>>,
    preamble?: string,
  ): void {
    if (this.opened || this.closed) return;
    this.opened = true;
    const res = this.res;
    const http1 = (this.req.httpVersionMajor ?? 1) < 2;
    for (const [name, value] of Object.entries(headers)) {
      // HTTP/2 forbids hop-by-hop headers: Node drops them with a process warning per response.
      if (!http1 && HOP_BY_HOP.has(name.toLowerCase())) continue;
      res.setHeader(name, value);
    }
    // A streamed body has no length; hop-by-hop headers set before us go too on HTTP/2.
    res.removeHeader('content-length');
    if (!http1) {
      res.removeHeader('connection');
      res.removeHeader('transfer-encoding');
    }
    if (this.gzip) {
      res.setHeader('content-encoding', 'gzip');
      res.setHeader('vary', 'accept-encoding');
      this.gzip.pipe(res);
    }
    res.statusCode = statusCode;
    res.flushHeaders();
    this.start(preamble);
  }

  /** Drops what is queued and stops, leaving the response to its owner. */
  release(): void {
    this.ended = true;
    this.stopHeartbeat();
    if (this.drainListener) (this.direct ?? this.out).removeListener('drain', this.drainListener);
    this.drainListener = undefined;
    this.pending.clear();
    this.releaseWaiters();
  }

  /** From the moment the headers are out: picks the write path, starts the heartbeat. */
  private start(preamble?: string): void {
    if (this.closed) return;
    this.opened = true;
    this.direct = directSocketOf(this.req, this.res, this.gzip !== undefined);
    if ((this.req.httpVersionMajor ?? 1) < 2) {
      this.req.socket?.setNoDelay?.(true);
      this.req.socket?.setTimeout?.(0);
    }
    if (preamble) {
      // Before what a source produced while the headers were held back.
      this.pending.addFirst(preamble);
    }
    if (!this.pending.isEmpty) this.schedule();
    this.armHeartbeat();
  }

  /**
   * Writes a chunk for a pull source. Returns undefined when the next chunk may follow at once,
   * or a Promise that settles once it may (the batch went out and the socket is not full);
   * it rejects with `StreamClosedError` if the stream closes meanwhile.
   */
  write(chunk: Chunk): Promise<void> | undefined {
    if (this.closed) return Promise.reject(new StreamClosedError());
    this.enqueue(chunk);
    if (this.pending.size < BATCH_BYTES && !this.waitingDrain) return undefined;
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Queues a chunk without waiting, for push sources. Past `maxQueuedBytes` the slow-client
   * policy applies. Returns false when the chunk was dropped or the stream is closed.
   */
  push(chunk: Chunk): boolean {
    if (this.closed) return false;
    this.enqueue(chunk);
    if (this.pendingBytes <= this.options.maxQueuedBytes) return true;
    switch (this.options.slowClientPolicy) {
      case 'drop-newest':
        this.pending.dropNewest();
        this.hooks.dropped?.(1);
        return false;
      case 'drop-oldest':
        this.hooks.dropped?.(
          this.pending.dropOldest(() => this.pendingBytes > this.options.maxQueuedBytes),
        );
        return true;
      default:
        this.hooks.slowClient?.(this.pendingBytes);
        this.abort();
        return false;
    }
  }

  /** Ends the response after what is queued, with `last` as the final chunk. Never throws. */
  end(last?: Chunk): void {
    if (this.ended) return;
    this.ended = true;
    this.stopHeartbeat();
    if (this.gone) return;
    try {
      if (last !== undefined) this.enqueue(last);
      const data = this.takePending();
      if (data === undefined) this.out.end();
      else this.out.end(data);
    } catch {
      this.abort();
    }
    this.releaseWaiters();
  }

  /**
   * Ends the connection without a clean end of the body (no terminating chunk), so an HTTP client
   * sees a failure rather than a complete response. `last` is written first.
   */
  abort(last?: Chunk): void {
    const wasEnded = this.ended;
    this.ended = true;
    this.stopHeartbeat();
    this.releaseWaiters();
    if (this.gone || this.res.destroyed) return;
    if (last !== undefined && !wasEnded) {
      this.enqueue(last);
      const data = this.takePending()!;
      this.out.write(data, () => this.res.destroy());
      this.flushDownstream();
      // A client that reads nothing would hold the callback forever.
      setTimeout(() => this.res.destroy(), 1000).unref();
      return;
    }
    this.res.destroy();
  }

  private enqueue(chunk: Chunk): void {
    this.pending.add(chunk);
    if (this.heartbeat) this.lastWriteTick = this.heartbeat.tick;
    this.schedule();
  }

  private schedule(): void {
    if (!this.flushScheduled && !this.waitingDrain && this.opened) {
      this.flushScheduled = true;
      queueFlush(this);
    }
  }

  private takePending(): Chunk | undefined {
    const data = this.pending.take();
    if (data === undefined) return undefined;
    this.hooks.written?.(typeof data === 'string' ? Buffer.byteLength(data) : data.length);
    return data;
  }

  /** Sends the gathered batch as one chunk and flushes it. @internal */
  flushBatch(): void {
    this.flushScheduled = false;
    if (this.ended || this.gone || this.waitingDrain || !this.opened) return;
    const data = this.takePending();
    if (data === undefined) return this.releaseWaiters();
    const ok = this.direct ? writeHttpChunk(this.direct, data) : this.out.write(data);
    this.flushDownstream();
    if (ok) this.releaseWaitersNextTurn();
    else {
      this.waitingDrain = true;
      this.drainListener ??= () => this.onDrain();
      (this.direct ?? this.out).once('drain', this.drainListener);
    }
  }

  private onDrain(): void {
    this.waitingDrain = false;
    if (!this.pending.isEmpty) this.flushBatch();
    else this.releaseWaiters();
  }

  /**
   * A pull source waiting on a full batch goes on in the next turn of the event loop, not in this
   * one: while the kernel takes every batch at once (a socket buffer of megabytes on loopback, a
   * client that reads fast), a source that yields at once would otherwise be read to its end in
   * one macrotask, starving every other connection and timer of the process, and holding an
   * in-process client from even seeing the headers (measured: 100 000 NDJSON rows read before
   * the status reached a client in the same process). One `setImmediate` per 64 KB batch.
   */
  private releaseWaitersNextTurn(): void {
    if (this.waiters.length === 0 || this.yielding) return;
    this.yielding = setImmediate(() => {
      this.yielding = undefined;
      this.releaseWaiters();
    });
  }

  private releaseWaiters(): void {
    if (this.yielding) {
      clearImmediate(this.yielding);
      this.yielding = undefined;
    }
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    const closed = this.closed;
    for (const waiter of waiters) {
      if (closed) waiter.reject(new StreamClosedError());
      else waiter.resolve();
    }
  }

  private flushDownstream(): void {
    if (this.gzip) this.gzip.flush(zlibConstants.Z_SYNC_FLUSH);
    else (this.res as ServerResponse & { flush?: () => void }).flush?.();
  }

  /**
   * Joins the heartbeat check of its interval: a tenth of the interval apart, a heartbeat goes
   * out once a whole interval passed without a write (between 0.9 and 1 interval of silence).
   * Writes only record the current tick; the timer is shared by every writer of the interval.
   */
  private armHeartbeat(): void {
    const interval = this.options.heartbeatIntervalMs;
    if (interval === false) return;
    this.heartbeat = joinHeartbeat(interval, this);
    // What was just written (headers, a preamble) counts as a write.
    this.lastWriteTick = this.heartbeat.tick;
  }

  /** One heartbeat check (see `armHeartbeat()`). @internal */
  checkSilence(tick: number): void {
    if (this.closed) return this.stopHeartbeat();
    // A client that is not reading is not helped by more bytes; the bound handles it.
    if (tick - this.lastWriteTick >= TICKS_PER_INTERVAL && !this.waitingDrain) {
      this.enqueue(this.options.heartbeatChunk);
      this.hooks.heartbeat?.();
    }
  }

  private stopHeartbeat(): void {
    if (this.heartbeat === undefined) return;
    const interval = this.options.heartbeatIntervalMs;
    if (interval !== false) leaveHeartbeat(interval, this);
    this.heartbeat = undefined;
  }

  private readonly onResponseClose = (): void => {
    this.gone = true;
    this.release();
    if (this.gzip) this.gzip.destroy();
    const callbacks = this.closeCallbacks;
    this.closeCallbacks = undefined;
    if (callbacks) for (const callback of callbacks) callback();
  };
}
