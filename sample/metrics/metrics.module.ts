import { Module } from '@nestjs/common';
import { FlushPrometheusModule } from 'nestjs-flush/prometheus';
import { MetricsController } from './metrics.controller.js';

/** The sample's channels, the only values of the `channel` label (keep a label's values few). */
const LABELLED = new Set(['ticker', 'chat', 'orders', 'alerts']);

/**
 * Prometheus: the `nestjs_flush_*` metrics on prom-client's global registry, with the channel as
 * a label for the sample's four channels (others, such as LLM runs, count without one), served
 * on `/metrics`.
 */
@Module({
  imports: [
    FlushPrometheusModule.register({
      channelLabel: channel => (LABELLED.has(channel) ? channel : undefined),
    }),
  ],
  controllers: [MetricsController],
})
export class MetricsModule {}
