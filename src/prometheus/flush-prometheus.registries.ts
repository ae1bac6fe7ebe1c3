import type { Registry } from 'prom-client';
import { FlushPrometheusCollector } from './flush-prometheus.collector.js';
import type { PromClient } from './prom-client.loader.js';

/**
 * The collector of each registry: metrics are registered once per registry and process, so a
 * second application (or the same one after `app.close()`) reuses them instead of failing with
 * prom-client's "already registered" error. `registry.clear()` drops them: they are created
 * again on the next bootstrap.
 */
const collectors = new WeakMap<Registry, FlushPrometheusCollector>();

/** The registry's collector, created on first use. @internal */
export const collectorOf = (prom: PromClient, registry: Registry): FlushPrometheusCollector => {
  let collector = collectors.get(registry);
  if (!collector || registry.getSingleMetric('nestjs_flush_streams_open') === undefined) {
    collector = new FlushPrometheusCollector(prom, registry);
    collectors.set(registry, collector);
  }
  return collector;
};
