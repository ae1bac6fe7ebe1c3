import { Injectable } from '@nestjs/common';
import type { FlushFormat, StreamWriterHooks } from './writer/stream.writer.js';

/** The wire formats streams are counted by (`openai` and `ai-sdk` streams are SSE). @publicApi */
export type FlushMetricsFormat = 'sse' | 'ndjson' | 'text';

/**
 * What an integration (the Prometheus module) adds to the counters: a bounded channel label and a
 * delivery-latency listener. Nothing is counted per label and no clock is read until one is set.
 * @internal
 */
export interface FlushMetricsObserver {
  /** The label of a channel's series, or undefined for none (called once per publish and per hub stream). */
  channelLabel?(channel: string): string | undefined;
  /** Seconds from an event's publish (its id's time) to its fan-out to this instance's writers. */
  delivery?(seconds: number): void;
}

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
  /** Streams open now per wire format (`openStreams` split by `sse`, `ndjson`, `text`). */
  readonly openStreamsByFormat: Readonly<Record<FlushMetricsFormat, number>>;
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
  /** Streams open now per wire format. */
  readonly openStreamsByFormat: Record<FlushMetricsFormat, number> = { sse: 0, ndjson: 0, text: 0 };
  /** Streams opened since start per wire format. @internal */
  readonly streamsOpenedByFormat: Record<FlushMetricsFormat, number> = {
    sse: 0,
    ndjson: 0,
    text: 0,
  };
  /** Hub events published, per channel label (only while an observer labels channels). @internal */
  readonly publishedByLabel = new Map<string, number>();
  /** Hub events delivered, per channel label (only while an observer labels channels). @internal */
  readonly deliveredByLabel = new Map<string, number>();
  /** The integration observing these counters, if any. @internal */
  observer: FlushMetricsObserver | undefined;
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

  /** Counts a stream that opened (`+1`) or closed (`-1`). @internal */
  streamOpen(routeFormat: FlushFormat, delta: 1 | -1): void {
    const format: FlushMetricsFormat =
      routeFormat === 'ndjson' || routeFormat === 'text' ? routeFormat : 'sse';
    this.openStreams += delta;
    this.openStreamsByFormat[format] += delta;
    if (delta > 0) {
      this.streamsOpened++;
      this.streamsOpenedByFormat[format]++;
    }
  }

  /** The label of a channel's series while an observer labels channels. @internal */
  labelOf(channel: string): string | undefined {
    return this.observer?.channelLabel?.(channel);
  }

  /** Counts a published hub event. @internal */
  countPublished(channel: string): void {
    this.published++;
    if (this.observer?.channelLabel) bump(this.publishedByLabel, this.labelOf(channel));
  }

  /** Counts a hub event delivered to one subscriber, under its channel's label. @internal */
  countDelivered(label: string | undefined): void {
    this.delivered++;
    if (label !== undefined) bump(this.deliveredByLabel, label);
  }

  /**
   * Reports the time from publish to fan-out of a live event, from its id (`<ms>-<seq>`: the
   * transport's clock at publish). No clock is read without a delivery listener. @internal
   */
  fannedOut(eventId: string | undefined): void {
    const delivery = this.observer?.delivery;
    if (!delivery || eventId === undefined) return;
    const publishedAt = parseInt(eventId, 10);
    if (publishedAt > 0) delivery(Math.max(0, Date.now() - publishedAt) / 1000);
  }

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
      openStreamsByFormat: { ...this.openStreamsByFormat },
      channels: this.channelSizes(),
      nestInternalsMissing: this.nestInternalsMissing,
    };
  }
}

const bump = (counts: Map<string, number>, label: string | undefined): void => {
  if (label !== undefined) counts.set(label, (counts.get(label) ?? 0) + 1);
};
