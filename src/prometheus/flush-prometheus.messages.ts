import { describeValue } from '../flush.messages.js';

export const PROM_CLIENT_MISSING = (reason: string): string =>
  `FlushPrometheusModule needs the optional peer dependency "prom-client": install it (npm install prom-client). (${reason})`;

export const INVALID_REGISTRY = (got: unknown): string =>
  `FlushPrometheusModule option "registry" must be a prom-client Registry (prom-client's \`register\` or \`new Registry()\`); received ${describeValue(got)}. Fix it where FlushPrometheusModule.register() is called.`;

export const INVALID_CHANNEL_LABEL = (got: unknown): string =>
  `FlushPrometheusModule option "channelLabel" must be a function (channel) => string | undefined; received ${describeValue(got)}. Fix it where FlushPrometheusModule.register() is called.`;

export const CHANNEL_LABEL_FAILED = (channel: string, problem: string): string =>
  `FlushPrometheusModule option "channelLabel" must return a string or undefined for every channel: for "${channel}" it ${problem}. Fix it where FlushPrometheusModule.register() is called.`;

export const METRIC_NAME_TAKEN = (name: string): string =>
  `FlushPrometheusModule cannot register "${name}": the registry already holds a metric of that name that nestjs-flush did not create (another copy of nestjs-flush or of prom-client?). Pass a registry of your own with { registry }.`;

export const CHANNEL_LABELS_CAPPED = (max: number): string =>
  `FlushPrometheusModule: "channelLabel" returned more than ${max} distinct values; further values are counted as "other". Return fewer values (e.g. the channel's prefix).`;
