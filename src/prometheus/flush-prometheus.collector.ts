import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FlushMetrics, FlushMetricsFormat } from '../flush.metrics.js';
import type { FlushTransport } from '../broadcast/flush-transport.interface.js';
import { FlushConfigurationError } from '../flush.errors.js';
import { METRIC_NAME_TAKEN } from './flush-prometheus.messages.js';
import type { PromClient } from './prom-client.loader.js';

/** The counters of FlushMetrics the Prometheus counters follow. */
type CountedField =
  | 'published'
  | 'delivered'
  | 'bytesWritten'
  | 'heartbeats'
  | 'framesDropped'
  | 'slowClientDisconnects'
  | 'resyncs';

const COUNTED: readonly CountedField[] = [
  'published',
  'delivered',
  'bytesWritten',
  'heartbeats',
  'framesDropped',
  'slowClientDisconnects',
  'resyncs',
];

const FORMATS: readonly FlushMetricsFormat[] = ['sse', 'ndjson', 'text'];

/** Upper bounds of the delivery histogram, in seconds (1 ms to 10 s). */
const DELIVERY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One application's counters, as the collector last read them. @internal */
export interface FlushPrometheusSource {
  readonly metrics: FlushMetrics;
  readonly transport: FlushTransport;
  readonly seen: Record<CountedField, number>;
  readonly seenOpened: Record<FlushMetricsFormat, number>;
  readonly seenPublished: Map<string, number>;
  readonly seenDelivered: Map<string, number>;
}

/**
 * The nestjs-flush metrics of one prom-client registry, created once per registry and process,
 * fed by every application that registers FlushPrometheusModule on it. Counters follow
 * FlushMetrics by the difference since the last scrape (nothing on the hot path), so they keep
 * their totals across `app.close()` and a second application in the same process; gauges are
 * read at scrape time from the applications alive then; the delivery histogram is observed as
 * events fan out.
 * @internal
 */
export class FlushPrometheusCollector {
  private readonly sources = new Set<FlushPrometheusSource>();
  private readonly counters: Record<
    'opened' | 'published' | 'delivered' | 'bytes' | 'heartbeats' | 'drops' | 'resyncs',
    Counter<string>
  >;
  readonly delivery: Histogram<string>;

  constructor(prom: PromClient, registry: Registry) {
    for (const name of FLUSH_METRIC_NAMES)
      if (registry.getSingleMetric(name))
        throw new FlushConfigurationError(METRIC_NAME_TAKEN(name));
    const registers = [registry];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client binds collect() to the metric
    const collector = this;
    const sync = (): void => this.sync();
    const counter = (name: string, help: string, labelNames: string[] = []): Counter<string> =>
      new prom.Counter({ name, help, labelNames, registers, collect: sync });
    this.counters = {
      opened: counter(
        'nestjs_flush_streams_opened_total',
        'Streams opened (@Flush() and @Sse() routes), by wire format.',
        ['format'],
      ),
      published: counter(
        'nestjs_flush_events_published_total',
        'Events published through FlushHub (channel: the channelLabel option, if any).',
        ['channel'],
      ),
      delivered: counter(
        'nestjs_flush_events_delivered_total',
        'Hub events written to subscribers, one per subscriber (channel: the channelLabel option, if any).',
        ['channel'],
      ),
      bytes: counter(
        'nestjs_flush_bytes_written_total',
        'Bytes written to clients by streaming routes.',
      ),
      heartbeats: counter('nestjs_flush_heartbeats_total', 'Heartbeats written.'),
      drops: counter(
        'nestjs_flush_slow_client_drops_total',
        'Slow-client policy actions: action="disconnect" counts clients disconnected, action="drop" frames dropped.',
        ['action'],
      ),
      resyncs: counter(
        'nestjs_flush_resyncs_total',
        'Resync events sent (resume too old, transport gap, slow-client drop notice not included).',
      ),
    };
    new prom.Gauge({
      name: 'nestjs_flush_streams_open',
      help: 'Streams open now, by wire format.',
      labelNames: ['format'],
      registers,
      collect(this: Gauge<string>) {
        for (const format of FORMATS) this.set({ format }, collector.openStreams(format));
      },
    });
    new prom.Gauge({
      name: 'nestjs_flush_transport_up',
      help: 'Whether the hub transport is connected (1) or not (0); in-memory transports are always up.',
      registers,
      collect(this: Gauge<string>) {
        this.set(collector.transportUp());
      },
    });
    this.delivery = new prom.Histogram({
      name: 'nestjs_flush_delivery_seconds',
      help: 'Time from a hub publish (the event id) to its fan-out to the writers of this instance.',
      buckets: DELIVERY_BUCKETS,
      registers,
    });
  }

  /** Follows an application's counters from now on. */
  attach(metrics: FlushMetrics, transport: FlushTransport): FlushPrometheusSource {
    const seen = {} as Record<CountedField, number>;
    for (const field of COUNTED) seen[field] = metrics[field];
    const source: FlushPrometheusSource = {
      metrics,
      transport,
      seen,
      seenOpened: { ...metrics.streamsOpenedByFormat },
      seenPublished: new Map(metrics.publishedByLabel),
      seenDelivered: new Map(metrics.deliveredByLabel),
    };
    this.sources.add(source);
    return source;
  }

  /** Takes an application's last counts and stops following it (its app closes). */
  detach(source: FlushPrometheusSource): void {
    this.syncSource(source);
    this.sources.delete(source);
  }

  private sync(): void {
    for (const source of this.sources) this.syncSource(source);
  }

  private syncSource(source: FlushPrometheusSource): void {
    const { metrics, seen } = source;
    const delta = (field: CountedField): number => {
      const d = metrics[field] - seen[field];
      seen[field] = metrics[field];
      return d > 0 ? d : 0;
    };
    const c = this.counters;
    for (const format of FORMATS) {
      const opened = metrics.streamsOpenedByFormat[format];
      incBy(c.opened, { format }, opened - source.seenOpened[format]);
      source.seenOpened[format] = opened;
    }
    incLabelled(c.published, delta('published'), metrics.publishedByLabel, source.seenPublished);
    incLabelled(c.delivered, delta('delivered'), metrics.deliveredByLabel, source.seenDelivered);
    incBy(c.bytes, undefined, delta('bytesWritten'));
    incBy(c.heartbeats, undefined, delta('heartbeats'));
    incBy(c.drops, { action: 'drop' }, delta('framesDropped'));
    incBy(c.drops, { action: 'disconnect' }, delta('slowClientDisconnects'));
    incBy(c.resyncs, undefined, delta('resyncs'));
  }

  private openStreams(format: FlushMetricsFormat): number {
    let open = 0;
    for (const source of this.sources) open += source.metrics.openStreamsByFormat[format];
    return open;
  }

  private transportUp(): number {
    if (this.sources.size === 0) return 0;
    for (const { transport } of this.sources) {
      const health = transport.health?.();
      if (health && !health.connected) return 0;
    }
    return 1;
  }
}

/** The names the collector registers. @internal */
export const FLUSH_METRIC_NAMES = [
  'nestjs_flush_streams_open',
  'nestjs_flush_streams_opened_total',
  'nestjs_flush_events_published_total',
  'nestjs_flush_events_delivered_total',
  'nestjs_flush_bytes_written_total',
  'nestjs_flush_heartbeats_total',
  'nestjs_flush_slow_client_drops_total',
  'nestjs_flush_resyncs_total',
  'nestjs_flush_delivery_seconds',
  'nestjs_flush_transport_up',
] as const;

const incBy = (
  counter: Counter<string>,
  labels: Record<string, string> | undefined,
  by: number,
): void => {
  if (by <= 0) return;
  if (labels) counter.inc(labels, by);
  else counter.inc(by);
};

/** A total split by label: each label's growth under it, the rest without the label. */
const incLabelled = (
  counter: Counter<string>,
  total: number,
  byLabel: ReadonlyMap<string, number>,
  seen: Map<string, number>,
): void => {
  let labelled = 0;
  for (const [channel, count] of byLabel) {
    const d = count - (seen.get(channel) ?? 0);
    if (d <= 0) continue;
    seen.set(channel, count);
    labelled += d;
    counter.inc({ channel }, d);
  }
  incBy(counter, undefined, total - labelled);
};
