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
import type { FlushFormat } from '../writer/stream.writer.js';

/** An open stream the application can end on shutdown. @internal */
export interface FlushClosable {
  /** Ends the stream, for SSE after a `retry:` hint of `retryMs` when given. */
  shutdown(retryMs: number | undefined): void;
  /** Its raw response: the connection is closed once the response is over. */
  readonly response?: ServerResponse;
  /** Its wire format (for the open-stream counts per format). @default 'sse' */
  readonly format?: FlushFormat;
}

/**
 * Closes the connection of a streamed response once the response is over, so the server,
 * closing, never waits for the client (or keepAliveTimeout) to drop it: an HTTP/1 socket is
 * ended (captured now: on 'finish' Node has already detached it from the response); an HTTP/2
 * session gets a GOAWAY (`session.close()`), and ends once its other streams are done.
 */
const closeConnectionWhenDone = (res: ServerResponse | undefined): void => {
  if (!res) return;
  const session = (res as ServerResponse & { stream?: { session?: { close(): void } } }).stream
    ?.session;
  const socket = res.socket;
  const end = () => {
    if (session) session.close();
    else socket?.end();
  };
  if (res.writableFinished || res.destroyed) end();
  else {
    res.once('finish', end);
    res.once('close', end);
  }
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
  /** HTTP/2 sessions of the server: each gets a GOAWAY on shutdown. */
  private readonly sessions = new Set<{ close(): void; once(e: 'close', l: () => void): void }>();
  private server: (EventEmitter & { closeIdleConnections?: () => void }) | undefined;
  private closing = false;
  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) readonly options: ResolvedFlushOptions,
    readonly metrics: FlushMetrics,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** The registry of the application that received a request. @internal */
  static forRequest(req: IncomingMessage): FlushConnections | undefined {
    const server = (req.socket as { server?: object } | null)?.server;
    return server ? BY_SERVER.get(server) : undefined;
  }

  /** Streams open now. */
  get size(): number {
    return this.open.size;
  }

  /** Registers an open stream; returns the function that unregisters it. @internal */
  track(stream: FlushClosable): () => void {
    const format = stream.format ?? 'sse';
    this.metrics.streamOpen(format, 1);
    if (this.closing) {
      this.metrics.streamOpen(format, -1);
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
      if (this.open.delete(stream)) this.metrics.streamOpen(format, -1);
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
    server.on('session', this.onSession);
  }

  private readonly onSession = (session: {
    close(): void;
    once(e: 'close', l: () => void): void;
  }): void => {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
  };

  private readonly onConnection = (socket: Socket): void => {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  };

  beforeApplicationShutdown(): void {
    this.closing = true;
    this.server?.removeListener('connection', this.onConnection);
    this.server?.removeListener('session', this.onSession);
    // Browsers and fetch clients open connections ahead of use. Node counts one that has not
    // sent a byte as busy until headersTimeout (60 s) passes, so server.close() would wait for it.
    for (const socket of this.sockets) if (socket.bytesRead === 0) socket.destroy();
    this.sockets.clear();
    const streams = [...this.open];
    this.open.clear();
    for (const stream of streams) {
      this.metrics.streamOpen(stream.format ?? 'sse', -1);
      try {
        stream.shutdown(this.retryHint());
        closeConnectionWhenDone(stream.response);
      } catch {
        // One stream failing to end must not keep the others open.
      }
    }
    // HTTP/2 sessions outlive their streams: a GOAWAY lets them end once their streams are done,
    // instead of the server waiting for the client to leave.
    for (const session of this.sessions) {
      try {
        session.close();
      } catch {
        // Closed already.
      }
    }
    this.sessions.clear();
  }
}
