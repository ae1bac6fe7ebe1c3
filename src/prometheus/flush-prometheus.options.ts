import type { Registry } from 'prom-client';

/**
 * Options of `FlushPrometheusModule.register()`.
 * @publicApi
 */
export interface FlushPrometheusOptions {
  /**
   * The prom-client registry the metrics are registered on.
   * @default prom-client's global registry (`register`), the one `@willsoto/nestjs-prometheus` serves
   */
  registry?: Registry;
  /**
   * The `channel` label of `nestjs_flush_events_published_total` and
   * `nestjs_flush_events_delivered_total`: a channel's label, or undefined for none. Keep its
   * values few (e.g. `channel => channel.split('/')[0]`): at most 100 distinct values are kept,
   * later ones are counted as `other`. Called once per publish and once per stream and channel.
   * @default undefined (no channel label)
   */
  channelLabel?: (channel: string) => string | undefined;
}
