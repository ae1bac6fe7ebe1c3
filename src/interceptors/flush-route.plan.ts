import type { ExecutionContext, Logger } from '@nestjs/common';
import { routeLabel, SLOW_CLIENT_DROPPED } from '../flush.messages.js';
import { FLUSH_FRAME } from '../flush.internal-constants.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import type { FlushRouteOptions } from '../flush-route-options.interface.js';
import { serializeNdjsonLine } from '../ndjson/ndjson.serializer.js';
import {
  getHttpCode,
  getNestSseOptions,
  isResponsePassthrough,
  usesNestSseSignal,
} from '../nest-compat/nest-metadata.compat.js';
import { createMessageEventEncoder } from '../sse/message-event.encoder.js';
import {
  NEST_SSE_HEADERS,
  SSE_HEARTBEAT,
  STREAM_COMMON_HEADERS,
  STREAM_CONTENT_TYPES,
} from '../sse/sse.headers.js';
import { FlushSseEvent } from '../sse/sse-event.js';
import {
  serializeSseComment,
  serializeSseEvent,
  serializeSseRetry,
} from '../sse/sse.serializer.js';
import type { Chunk, FlushFormat, StreamWriterOptions } from '../writer/stream.writer.js';
import { getFlushMetadata, getStreamKind } from './flush-metadata.accessor.js';
import { wireFormatOf } from '../formats/flush-formats.registry.js';
import type { FlushFormatSession } from '../formats/flush-wire-format.js';
import { getRouteLimits } from '../controls/flush-limits.decorator.js';
import type { FlushRouteLimits } from '../controls/flush-stream-controls.service.js';

/** Turns one item into the bytes of the wire format. May throw (BigInt, circular). @internal */
export type FrameEncoder = (item: unknown) => Chunk;

/** A route's settings, resolved once per handler. @internal */
export interface RoutePlan {
  /** `Controller.method()`, for logs. */
  readonly name: string;
  readonly format: FlushFormat;
  /** A former Nest `@Sse()` route: Nest's headers, status rules and `MessageEvent` contract. */
  readonly nestSse: boolean;
  /** The handler takes Nest's `@SseSignal()`: its AbortController is made per request. */
  readonly nestSseSignal: boolean;
  /** `@HttpCode()`. */
  readonly statusCode: number | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** Whether a Content-Type set by the app wins over the format's (text only). */
  readonly keepContentType: boolean;
  /** What goes out right after the headers. */
  readonly preamble: string;
  /** Makes the encoder of one connection (Nest numbers `@Sse()` events per connection). */
  readonly encoder: () => FrameEncoder;
  /**
   * A format with an ending and an error shape of its own ('openai', 'ai-sdk'): makes the session
   * of one connection, which encodes its items and writes its ending.
   */
  readonly session: (() => FlushFormatSession) | undefined;
  /** Nest considers the response handled (no passthrough): its pipeline may end early. */
  readonly releasePipeline: boolean;
  readonly plainOptions: StreamWriterOptions;
  readonly gzipOptions: StreamWriterOptions;
  readonly compress: boolean;
  /** `maxStreamsPerKey` / `maxLifetimeMs` of the route (`@FlushLimits()`, else the module's). */
  readonly limits: FlushRouteLimits;
}

/** The frame of a FlushHub event, encoded once and shared by every connection. @internal */
export const sharedFrameOf = (item: unknown): Buffer | undefined =>
  item !== null && typeof item === 'object' && FLUSH_FRAME in item
    ? (item as { readonly [FLUSH_FRAME]: Buffer })[FLUSH_FRAME]
    : undefined;

const sseEncoder: FrameEncoder = item =>
  sharedFrameOf(item) ??
  (item instanceof FlushSseEvent ? item.serialize() : serializeSseEvent({ data: item }));

/** The encoders of the formats without a session of their own (see `RoutePlan.session`). */
const ENCODERS: Partial<Record<FlushFormat, FrameEncoder>> = {
  sse: sseEncoder,
  ndjson: item => (item instanceof Uint8Array ? Buffer.from(item) : serializeNdjsonLine(item)),
  text: item =>
    typeof item === 'string'
      ? item
      : item instanceof Uint8Array
        ? Buffer.from(item)
        : (JSON.stringify(item) ?? ''),
};

/** How a format tells the client that frames were dropped, so it can resync. */
const dropNotices = (
  resyncEventName: string,
): Record<FlushFormat, ((count: number) => Chunk) | undefined> => ({
  sse: count =>
    serializeSseEvent({
      type: resyncEventName,
      data: JSON.stringify({ reason: 'dropped', dropped: count }),
    }),
  ndjson: count =>
    serializeNdjsonLine({ [resyncEventName]: { reason: 'dropped', dropped: count } }),
  text: undefined,
  openai: undefined,
  'ai-sdk': undefined,
});

/**
 * The last frame of a stream a control ends (`expired`, `revoked`): SSE gets the event (with the
 * stream's position as `id:`, so the reconnect resumes) after a `retry:` hint; NDJSON a line
 * `{"<event>": data}`; text nothing. @internal
 */
export const controlEndFrame = (
  format: FlushFormat,
  event: string,
  data: unknown,
  position: string | undefined,
  retryMs: number | undefined,
): Chunk | undefined => {
  switch (format) {
    case 'sse':
      return (
        (retryMs === undefined ? '' : serializeSseRetry(retryMs)) +
        serializeSseEvent({
          type: event,
          ...(position !== undefined && { id: position }),
          data: JSON.stringify(data),
        })
      );
    case 'ndjson':
      return serializeNdjsonLine({ [event]: data });
    default:
      return undefined;
  }
};

/** Builds the plan of a streaming route from its metadata and the module options. @internal */
export const planRoute = (
  context: ExecutionContext,
  options: ResolvedFlushOptions,
  logger: Pick<Logger, 'warn'>,
): RoutePlan => {
  const handler = context.getHandler() as (...args: never[]) => unknown;
  const controller = context.getClass();
  const name = routeLabel(controller, handler.name);
  const nestSse = getStreamKind(handler) === 'sse';
  const route: FlushRouteOptions = getFlushMetadata(handler)?.options ?? {};
  const format = route.format ?? 'sse';
  const sse = format === 'sse';
  const wire = wireFormatOf(format);
  // 'openai' and 'ai-sdk' are SSE on the wire: SSE comment heartbeats by default.
  const sseFramed = sse || wire !== undefined;
  const padding = route.padding === true ? 2048 : route.padding || 0;
  let preamble = nestSse ? '\n' : ''; // Nest's SseStream writes an empty line after the headers
  if (sse && padding > 0) preamble += serializeSseComment(' '.repeat(padding));
  if (sse && route.retry !== undefined) preamble += serializeSseRetry(route.retry);
  const nestLimit = nestSse ? getNestSseOptions(handler)?.maxPendingDataLength : undefined;
  const writer: StreamWriterOptions = {
    heartbeatIntervalMs:
      route.heartbeatIntervalMs ?? (sseFramed ? options.heartbeatIntervalMs : false),
    heartbeatChunk: route.heartbeatChunk ?? (sseFramed ? SSE_HEARTBEAT : '\n'),
    maxQueuedBytes:
      route.maxQueuedBytes ??
      (nestLimit === undefined || Number.isNaN(nestLimit)
        ? options.maxQueuedBytes
        : nestLimit === 0
          ? Infinity
          : nestLimit),
    slowClientPolicy: route.slowClientPolicy ?? options.slowClientPolicy,
    dropNotice: undefined,
  };
  // One log line per drop: the writer asks for a notice once per run of dropped frames.
  const notice = dropNotices(options.resyncEventName)[format];
  if (notice) {
    writer.dropNotice = count => {
      logger.warn(SLOW_CLIENT_DROPPED(name, count, writer.slowClientPolicy));
      return notice(count);
    };
  }
  const contentType = route.contentType ?? STREAM_CONTENT_TYPES[format];
  return {
    name,
    format,
    nestSse,
    nestSseSignal: nestSse && usesNestSseSignal(controller, handler.name),
    statusCode: getHttpCode(handler),
    headers: nestSse
      ? NEST_SSE_HEADERS
      : { ...STREAM_COMMON_HEADERS, 'content-type': contentType, ...wire?.headers },
    keepContentType: format === 'text' && route.contentType === undefined,
    preamble,
    encoder: nestSse
      ? () => createMessageEventEncoder(sharedFrameOf)
      : () => ENCODERS[format] ?? sseEncoder,
    session: wire && !nestSse ? () => wire.createSession({ model: route.model }) : undefined,
    releasePipeline: !isResponsePassthrough(controller, handler.name),
    compress: route.compress ?? false,
    limits: getRouteLimits(handler, controller, options),
    plainOptions: { ...writer, compress: false },
    gzipOptions: { ...writer, compress: true },
  };
};
