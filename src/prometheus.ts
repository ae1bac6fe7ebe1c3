/**
 * The `nestjs-flush/prometheus` entry point: nestjs-flush's metrics on a prom-client registry.
 * Needs the optional peer dependency `prom-client`, loaded at bootstrap (never by the root
 * entry point).
 * @example
 * import { FlushPrometheusModule } from 'nestjs-flush/prometheus';
 * imports: [FlushModule.forRoot(), FlushPrometheusModule.register()]
 * @publicApi
 */
export { FlushPrometheusModule } from './prometheus/flush-prometheus.module.js';
export { FlushPrometheusExporter } from './prometheus/flush-prometheus.exporter.js';
export type { FlushPrometheusOptions } from './prometheus/flush-prometheus.options.js';
