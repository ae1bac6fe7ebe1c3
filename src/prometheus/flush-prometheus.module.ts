import { Module, type DynamicModule } from '@nestjs/common';
import { FLUSH_PROMETHEUS_OPTIONS, FlushPrometheusExporter } from './flush-prometheus.exporter.js';
import type { FlushPrometheusOptions } from './flush-prometheus.options.js';

/**
 * Publishes nestjs-flush's metrics (`nestjs_flush_*`) on a prom-client registry: prom-client's
 * global one by default, which `@willsoto/nestjs-prometheus` serves on `/metrics`. Import it next
 * to `FlushModule`. Needs the optional peer dependency `prom-client`.
 * @example
 * imports: [FlushModule.forRoot(), FlushPrometheusModule.register()]
 * @example
 * FlushPrometheusModule.register({ registry, channelLabel: channel => channel.split('/')[0] })
 * @publicApi
 */
@Module({})
export class FlushPrometheusModule {
  static register(options: FlushPrometheusOptions = {}): DynamicModule {
    return {
      module: FlushPrometheusModule,
      providers: [
        { provide: FLUSH_PROMETHEUS_OPTIONS, useValue: options },
        FlushPrometheusExporter,
      ],
      exports: [FlushPrometheusExporter],
    };
  }
}
