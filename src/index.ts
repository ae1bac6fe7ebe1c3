export { FlushModule, type FlushModuleAsyncOptions } from './flush.module.js';
export { FLUSH_OPTIONS } from './flush.providers.js';
export type {
  FlushModuleOptions,
  FlushOptionsFactory,
  FlushSkipMode,
  FlushSlowClientPolicy,
  ResolvedFlushOptions,
} from './flush-module-options.interface.js';
export type { FlushRouteOptions } from './flush-route-options.interface.js';
export { DEFAULT_FLUSH_OPTIONS } from './flush-options.resolver.js';
export type { FlushHistoryOptions } from './flush-option.rules.js';
export { FlushConfigurationError, FlushError } from './flush.errors.js';
export { FlushValidationError } from './flush-validation.error.js';

export { Flush } from './decorators/flush.decorator.js';
export { StreamSafe } from './decorators/stream-safe.decorator.js';
export { StreamingRoute } from './decorators/streaming-route.decorator.js';
export { FlushSkipInterceptors } from './decorators/flush-skip-interceptors.decorator.js';
export { LastEventId } from './decorators/last-event-id.decorator.js';
export { FlushSignal } from './decorators/flush-signal.decorator.js';
export { isStreamingRoute } from './interceptors/flush-metadata.accessor.js';
export { StreamAware } from './interceptors/stream-aware.interceptor.js';

export {
  FlushHub,
  type FlushPublishOptions,
  type FlushStreamOptions,
} from './broadcast/flush.hub.js';
export { FlushUnavailableError } from './broadcast/flush-unavailable.error.js';
export {
  FLUSH_MAX_STREAM_CHANNELS,
  formatFlushCursor,
  parseFlushCursor,
} from './broadcast/flush-cursor.js';
export { FlushHubEvent } from './broadcast/flush-hub-event.js';
export { FlushChannel, type FlushChannelEventName } from './broadcast/flush.channel.js';
export {
  FlushTickets,
  type FlushTicket,
  type FlushTicketOptions,
} from './controls/flush-tickets.service.js';
export {
  FlushTransport,
  FLUSH_FIRST_EVENT_ID,
  compareEventIds,
  isEventId,
  isTransportUnavailable,
  type FlushGapState,
  type FlushPublishStorage,
  type FlushReplayResult,
  type FlushTransportEvent,
  type FlushTransportHealth,
  type FlushTransportMessage,
} from './broadcast/flush-transport.interface.js';
export {
  InMemoryFlushTransport,
  type InMemoryFlushTransportOptions,
} from './broadcast/transports/in-memory.transport.js';
export type { FlushControlPlane, FlushLease } from './broadcast/flush-control-plane.interface.js';
export { InMemoryFlushControlPlane } from './broadcast/transports/in-memory.control-plane.js';
export type {
  FlushAuthorizeFn,
  FlushAuthorizeRule,
} from './broadcast/flush-authorize.interface.js';
export { isValidChannel } from './broadcast/flush-channel.util.js';
export {
  FlushMetrics,
  type FlushMetricsFormat,
  type FlushMetricsSnapshot,
} from './flush.metrics.js';

export type { SseEvent } from './sse/sse-event.interface.js';
export { FlushSseEvent, sseEvent } from './sse/sse-event.js';
export { serializeSseComment, serializeSseEvent } from './sse/sse.serializer.js';
export { serializeNdjsonLine } from './ndjson/ndjson.serializer.js';
export type { FlushFormat } from './writer/stream.writer.js';
export type { FlushSource, FlushStream } from './writer/stream-source.util.js';

export { FlushLimits, type FlushLimitsOptions } from './controls/flush-limits.decorator.js';
export { clientIpStreamKey, type FlushStreamKeyFn } from './controls/flush-stream-key.js';
export { FlushTooManyRequestsError } from './flush-too-many-requests.error.js';
export {
  FLUSH_CAP_RETRY_AFTER_SECONDS,
  FlushTooManyStreamsError,
} from './controls/flush-too-many-streams.error.js';
export type { FlushExpiresAtFn } from './flush-module-options.interface.js';
export type {
  FlushAttachOptions,
  FlushRunAuthorization,
  FlushRunOptions,
  FlushRunProducer,
} from './broadcast/flush-runner.interface.js';
export { FLUSH_RUN_END_EVENT, type FlushRunEnd } from './runs/flush-run.producer.js';
export {
  FLUSH_RUNS_RETRY_AFTER_SECONDS,
  FlushRunConflictError,
  FlushRunEndedError,
  FlushRunNotFoundError,
  FlushTooManyRunsError,
} from './runs/flush-run.errors.js';
