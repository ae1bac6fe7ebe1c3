import { Injectable } from '@nestjs/common';
import type { StreamWriterHooks } from './writer/stream.writer.js';

/** Figures of one application's streams and hub, readable from code. @publicApi */
export interface FlushMetricsSnapshot {
  /** Streams open now (`@Flush()` routes and `@Sse()` routes). */
  readonly openStreams: number;
  /** Streams opened since start. */
  readonly streamsOpened: number;
  /** Bytes written to clients by `@Flush()` routes and by hub streams on `@Sse()` routes. */
  readonly bytesWritten: number;
  /** Frames dropped by the slow-client policy. */
  readonly framesDropped: number;
  /** Clients disconnected by the slow-client policy. */
  readonly slowClientDisconnects: number;
  /** Heartbeats written. */
  readonly heartbeats: number;
  /** Events published through the hub. */
  readonly published: number;
  /** Hub events handed to local subscribers (one per subscriber). */
  readonly delivered: number;
  /** Resumes served from history. */
  readonly replays: number;
  /** Resumes answered with a resync event. */
  readonly resyncs: number;
  /** Local subscribers per channel. */
  readonly channels: Readonly<Record<string, number>>;
  /**
   * NestJS internals nestjs-flush relies on that this NestJS version lacks (checked at
   * bootstrap; logged as an error). Empty when all is well; otherwise global interceptors are not
   * excluded from streaming routes (use `StreamAware()`).
   */
  readonly nestInternalsMissing: readonly string[];
}

/**
 * Counters shared by the writers and the hubs of one application: one instance per application,
 * also when it holds two FlushModules (the app's own and FlushTestingModule's).
 * @publicApi
 */
@Injectable()
export class FlushMetrics {
  openStreams = 0;
  streamsOpened = 0;
  bytesWritten = 0;
  framesDropped = 0;
  slowClientDisconnects = 0;
  heartbeats = 0;
  published = 0;
  delivered = 0;
  replays = 0;
  resyncs = 0;
  /** What the writers of this application report to. @internal */
  readonly writerHooks: StreamWriterHooks = {
    written: bytes => (this.bytesWritten += bytes),
    dropped: frames => (this.framesDropped += frames),
    heartbeat: () => this.heartbeats++,
    slowClient: () => this.slowClientDisconnects++,
  };
  /** Set at bootstrap by the interceptor exclusion. @internal */
  nestInternalsMissing: readonly string[] = [];
  /** Subscriber counts per channel of each FlushHub of the application. */
  private readonly channelSources = new Set<() => Record<string, number>>();

  /** Registers a FlushHub's subscriber counts (for as long as the application lives). @internal */
  addChannelSizes(source: () => Record<string, number>): void {
    this.channelSources.add(source);
  }

  private channelSizes(): Record<string, number> {
    const sizes: Record<string, number> = {};
    for (const source of this.channelSources) {
      for (const [channel, count] of Object.entries(source())) {
        sizes[channel] = (sizes[channel] ?? 0) + count;
      }
    }
    return sizes;
  }

  snapshot(): FlushMetricsSnapshot {
    return {
      openStreams: this.openStreams,
      streamsOpened: this.streamsOpened,
      bytesWritten: this.bytesWritten,
      framesDropped: this.framesDropped,
      slowClientDisconnects: this.slowClientDisconnects,
      heartbeats: this.heartbeats,
      published: this.published,
      delivered: this.delivered,
      replays: this.replays,
      resyncs: this.resyncs,
      channels: this.channelSizes(),
      nestInternalsMissing: this.nestInternalsMissing,
    };
  }
}
