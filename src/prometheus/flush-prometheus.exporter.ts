import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { FlushTransport } from '../broadcast/flush-transport.interface.js';
import { FlushConfigurationError } from '../flush.errors.js';
import { describeValue } from '../flush.messages.js';
import { FlushMetrics, type FlushMetricsObserver } from '../flush.metrics.js';
import type { FlushPrometheusSource } from './flush-prometheus.collector.js';
import {
  CHANNEL_LABELS_CAPPED,
  CHANNEL_LABEL_FAILED,
  INVALID_CHANNEL_LABEL,
  INVALID_REGISTRY,
} from './flush-prometheus.messages.js';
import type { FlushPrometheusOptions } from './flush-prometheus.options.js';
import { collectorOf } from './flush-prometheus.registries.js';
import { loadPromClient } from './prom-client.loader.js';

/** Injection token of the options given to `FlushPrometheusModule.register()`. @internal */
export const FLUSH_PROMETHEUS_OPTIONS = Symbol('FLUSH_PROMETHEUS_OPTIONS');

/** Distinct channel label values kept; later ones count as `other`. */
const MAX_CHANNEL_LABELS = 100;

/** Channel names the `channelLabel` option is tried on at bootstrap. */
const PROBE_CHANNELS = ['news', 'orders/42'];

/**
 * Publishes one application's FlushMetrics on a prom-client registry from bootstrap to
 * shutdown. prom-client is loaded at bootstrap: missing, it fails the startup with what to
 * install; a wrong registry or `channelLabel` fails it too, never a request.
 * @publicApi
 */
@Injectable()
export class FlushPrometheusExporter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('FlushPrometheus');
  private source: FlushPrometheusSource | undefined;
  private collector: ReturnType<typeof collectorOf> | undefined;
  /** The registry the metrics are on (set at bootstrap). */
  registry: Registry | undefined;

  constructor(
    @Inject(FLUSH_PROMETHEUS_OPTIONS) private readonly options: FlushPrometheusOptions,
    private readonly metrics: FlushMetrics,
    @Inject(FlushTransport) private readonly transport: FlushTransport,
  ) {}

  async onModuleInit(): Promise<void> {
    const { registry: given, channelLabel } = this.options ?? {};
    if (given !== undefined && !isRegistry(given))
      throw new FlushConfigurationError(INVALID_REGISTRY(given));
    if (channelLabel !== undefined && typeof channelLabel !== 'function')
      throw new FlushConfigurationError(INVALID_CHANNEL_LABEL(channelLabel));
    for (const channel of PROBE_CHANNELS) checkLabel(channelLabel, channel, true);
    const prom = await loadPromClient();
    const registry = given ?? prom.register;
    const collector = collectorOf(prom, registry);
    const observer: FlushMetricsObserver = {
      delivery: seconds => collector.delivery.observe(seconds),
    };
    if (channelLabel) observer.channelLabel = this.boundedLabels(channelLabel);
    this.metrics.observer = observer;
    this.source = collector.attach(this.metrics, this.transport);
    this.collector = collector;
    this.registry = registry;
  }

  onApplicationShutdown(): void {
    if (this.source) this.collector?.detach(this.source);
    this.source = undefined;
    this.metrics.observer = undefined;
  }

  /** `channelLabel` as counted: a failure or a non-string is no label, past the cap `other`. */
  private boundedLabels(
    channelLabel: (channel: string) => string | undefined,
  ): (channel: string) => string | undefined {
    const seen = new Set<string>();
    let warned = false;
    return channel => {
      const label = checkLabel(channelLabel, channel, false);
      if (label === undefined || seen.has(label)) return label;
      if (seen.size < MAX_CHANNEL_LABELS) {
        seen.add(label);
        return label;
      }
      if (!warned) this.logger.warn(CHANNEL_LABELS_CAPPED(MAX_CHANNEL_LABELS));
      warned = true;
      return 'other';
    };
  }
}

const isRegistry = (value: unknown): value is Registry =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Registry).registerMetric === 'function' &&
  typeof (value as Registry).getSingleMetric === 'function' &&
  typeof (value as Registry).metrics === 'function';

/**
 * A channel's label: at bootstrap (`strict`) a throw or a non-string fails the startup; at run
 * time it counts the event without a label (the stream must not fail for a metric).
 */
const checkLabel = (
  channelLabel: ((channel: string) => string | undefined) | undefined,
  channel: string,
  strict: boolean,
): string | undefined => {
  if (!channelLabel) return undefined;
  let label: unknown;
  try {
    label = channelLabel(channel);
  } catch (err) {
    if (strict)
      throw new FlushConfigurationError(
        CHANNEL_LABEL_FAILED(channel, `threw "${(err as Error).message}"`),
        { cause: err },
      );
    return undefined;
  }
  if (label === undefined || typeof label === 'string') return label;
  if (strict)
    throw new FlushConfigurationError(
      CHANNEL_LABEL_FAILED(channel, `returned ${describeValue(label)}`),
    );
  return undefined;
};
