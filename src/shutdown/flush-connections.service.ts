import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  Inject,
  Injectable,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { FlushMetrics } from '../flush.metrics.js';
import type { StreamWriterOptions } from '../writer/stream.writer.js';

/** An open stream the application can end on shutdown. @internal */
export interface FlushClosable {
  /** Ends the stream, for SSE after a `retry:` hint of `retryMs` when given. */
  shutdown(retryMs: number | undefined): void;
  /** Its raw response: the connection is closed once the response is over. */
  readonly response?: ServerResponse;
}

/**
 * Closes a kept-alive HTTP/1 connection once its streamed response is over: otherwise the server,
 * closing, would wait for the client (or keepAliveTimeout) to drop it.
 */
const closeConnectionWhenDone = (res: ServerResponse | undefined): void => {
  if (!res || (res.req?.httpVersionMajor ?? 1) >= 2) return;
  const end = () => res.socket?.end();
  if (res.writableFinished) end();
  else res.once('finish', end);
};

const BY_SERVER = new WeakMap<object, FlushConnections>();

/**
 * Keeps every open stream of one application and ends them when it shuts down (`app.close()`,
 * SIGTERM with `enableShutdownHooks()`), before the HTTP server closes, so shutdown never waits
 * for clients to leave. SSE streams end with a jittered `retry:` hint, so clients spread their
 * reconnects over the remaining instances.
 * @publicApi
 */
@Injectable()
export class FlushConnections implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly open = new Set<FlushClosable>();
  /** Connections of the HTTP server, to close those that never sent a request on shutdown. */
  private readonly sockets = new Set<Socket>();
  private server: (EventEmitter & { closeIdleConnections?: () => void }) | undefined;
  private closing = false;
  /** How hub streams on `@Sse()` routes are written (built once, shared by every stream). @internal */
  readonly sseWriterOptions: StreamWriterOptions;

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) readonly options: ResolvedFlushOptions,
    readonly metrics: FlushMetrics,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.sseWriterOptions = {
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatChunk: ':\n\n',
      maxQueuedBytes: options.maxQueuedBytes,
      slowClientPolicy: options.slowClientPolicy,
    };
  }

  /** The registry of the application that received a request. @internal */
  static forRequest(req: IncomingMessage): FlushConnections | undefined {
    const server = (req.socket as { server?: object } | null)?.server;
    return server ? BY_SERVER.get(server) : undefined;
  }

  /** Whether the application is shutting down. */
  get shuttingDown(): boolean {
    return this.closing;
  }

  /** Streams open now. */
  get size(): number {
    return this.open.size;
  }

  /** Registers an open stream; returns the function that unregisters it. @internal */
  track(stream: FlushClosable): () => void {
    this.metrics.openStreams++;
    this.metrics.streamsOpened++;
    if (this.closing) {
      this.metrics.openStreams--;
      stream.shutdown(this.retryHint());
      closeConnectionWhenDone(stream.response);
      return () => undefined;
    }
    this.open.add(stream);
    let tracked = true;
    return () => {
      if (!tracked) return;
      tracked = false;
      // Shutdown already let go of it (and counted it) when it ended the stream.
      if (this.open.delete(stream)) this.metrics.openStreams--;
    };
  }

  /** A reconnection delay picked at random in `shutdownRetryMs`. @internal */
  retryHint(): number | undefined {
    const range = this.options.shutdownRetryMs;
    if (range === false) return undefined;
    return Math.round(range[0] + Math.random() * (range[1] - range[0]));
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer?.() as
      (EventEmitter & { closeIdleConnections?: () => void }) | undefined;
    if (!server || typeof server.on !== 'function') return;
    BY_SERVER.set(server, this);
    this.server = server;
    server.on('connection', this.onConnection);
  }

  private readonly onConnection = (socket: Socket): void => {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  };

  beforeApplicationShutdown(): void {
    this.closing = true;
    this.server?.removeListener('connection', this.onConnection);
    // Browsers and fetch clients open connections ahead of use. Node counts one that has not
    // sent a byte as busy until headersTimeout (60 s) passes, so server.close() would wait for it.
    for (const socket of this.sockets) if (socket.bytesRead === 0) socket.destroy();
    this.sockets.clear();
    const streams = [...this.open];
    this.open.clear();
    for (const stream of streams) {
      this.metrics.openStreams--;
      try {
        stream.shutdown(this.retryHint());
        closeConnectionWhenDone(stream.response);
      } catch {
        // One stream failing to end must not keep the others open.
      }
    }
  }
}
