import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { hasSharedFrame } from '../broadcast/flush-hub-event.js';
import { StreamSafe } from '../decorators/stream-safe.decorator.js';
import { reportStreamError } from '../flush.errors-mapping.js';
import {
  NEST_RESPONSE_PASSTHROUGH_METADATA,
  FLUSH_FRAME,
  FLUSH_RESOLVED_OPTIONS,
  NEST_HTTP_CODE_METADATA,
} from '../flush.internal-constants.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import type { FlushRouteOptions } from '../flush-route-options.interface.js';
import { FlushMetrics } from '../flush.metrics.js';
import { serializeNdjsonLine } from '../ndjson/ndjson.serializer.js';
import { FlushConnections } from '../shutdown/flush-connections.service.js';
import { STREAM_COMMON_HEADERS, STREAM_CONTENT_TYPES } from '../sse/sse.headers.js';
import {
  isSseEventLike,
  serializeSseComment,
  serializeSseEvent,
  serializeSseRetry,
} from '../sse/sse.serializer.js';
import {
  frameworkHeaders,
  isClosed,
  toRawRequest,
  toRawResponse,
} from '../writer/raw-response.util.js';
import { pumpSource, releaseSource, type FrameEncoder } from '../writer/stream-source.util.js';
import {
  StreamWriter,
  type FlushFormat,
  type StreamWriterOptions,
} from '../writer/stream.writer.js';
import { getFlushMetadata } from './flush-metadata.accessor.js';
import { FlushResult } from './flush-result.js';

/** A route's settings, resolved once per handler. */
interface RoutePlan {
  name: string;
  format: FlushFormat;
  statusCode: number | undefined;
  contentType: string;
  heartbeatIntervalMs: number | false;
  heartbeatChunk: string;
  maxQueuedBytes: number;
  slowClientPolicy: ResolvedFlushOptions['slowClientPolicy'];
  compress: boolean;
  preamble: string;
  encode: FrameEncoder;
  /** Whether Nest considers the response handled (no passthrough): the pipeline may end once the stream is open. */
  releasePipeline: boolean;
  /** Writer options without and with gzip (built once per route). */
  plainOptions: StreamWriterOptions;
  gzipOptions: StreamWriterOptions;
}

const ENCODERS: Record<FlushFormat, FrameEncoder> = {
  sse: item => {
    if (hasSharedFrame(item)) return item[FLUSH_FRAME];
    return serializeSseEvent(isSseEventLike(item) ? item : { data: item });
  },
  ndjson: item => (item instanceof Uint8Array ? Buffer.from(item) : serializeNdjsonLine(item)),
  text: item =>
    typeof item === 'string'
      ? item
      : item instanceof Uint8Array
        ? Buffer.from(item)
        : (JSON.stringify(item) ?? ''),
};

/**
 * Runs `@Flush()` routes: writes what the handler returns to the raw response as it is produced.
 * Errors before the handler has settled go to exception filters (real status); after the headers,
 * SSE gets a sanitized `event: error`, NDJSON an error line and an aborted body, text an aborted
 * body. Nest never sends a body of its own for these routes.
 * @publicApi
 */
@StreamSafe()
@Injectable()
export class FlushInterceptor implements NestInterceptor {
  private readonly logger = new Logger('FlushInterceptor');
  private readonly plans = new WeakMap<object, RoutePlan>();

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    private readonly metrics: FlushMetrics,
    private readonly connections: FlushConnections,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const handler = context.getHandler();
    const plan = this.plans.get(handler) ?? this.plan(context);
    const http = context.switchToHttp();
    const res = http.getResponse<object>();
    const rawReq = toRawRequest(http.getRequest<IncomingMessage>());
    const rawRes = toRawResponse(res as ServerResponse);

    // The response is ours: Nest treats it as handled (see @Flush()) and never sends one (NestJS >= 12.4
    // would otherwise stream an async iterable itself). Errors before the headers go to the exception
    // filters; once the headers are out, this completes so Nest's request pipeline can end.
    return new Observable<never>(subscriber => {
      const inner = next.handle().subscribe({
        next: emitted => {
          const result = FlushResult.find(emitted);
          // Once the stream is open, Nest's pipeline may end (the response is "handled"), which
          // frees what it holds per request; with @Res({ passthrough: true }) it must never end,
          // or Nest would send a body of its own.
          const release = plan.releasePipeline
            ? () => {
                subscriber.next(undefined as never);
                subscriber.complete();
              }
            : () => undefined;
          this.settle(result ? result.value : emitted, plan, res, rawReq, rawRes, release).catch(
            (err: unknown) => subscriber.error(err),
          );
        },
        error: (err: unknown) => subscriber.error(err),
      });
      return () => inner.unsubscribe();
    });
  }

  private async settle(
    value: unknown,
    plan: RoutePlan,
    res: object,
    rawReq: IncomingMessage,
    rawRes: ServerResponse,
    release: () => void,
  ): Promise<void> {
    // An async handler's errors still get a real status: nothing is sent before it settles.
    const source: unknown = await value; // a Promise (or thenable) settles here; anything else passes through
    if (isClosed(rawReq, rawRes)) {
      release();
      return releaseSource(source);
    }
    const compress =
      plan.compress && /\bgzip\b/.test(String(rawReq.headers['accept-encoding'] ?? ''));
    const writer = new StreamWriter(
      rawReq,
      rawRes,
      compress ? plan.gzipOptions : plan.plainOptions,
      this.metrics.writerHooks,
    );
    const headers: Record<string, string> = {
      ...STREAM_COMMON_HEADERS,
      'content-type': plan.contentType,
    };
    const existingType = frameworkHeaders(res)['content-type'] ?? rawRes.getHeader('content-type');
    if (plan.format === 'text' && existingType && plan.contentType === STREAM_CONTENT_TYPES.text) {
      headers['content-type'] = String(existingType);
    }
    (res as { hijack?: () => void }).hijack?.(); // fastify: the reply is ours from here
    writer.open(plan.statusCode ?? 200, { ...frameworkHeaders(res), ...headers }, plan.preamble);
    release();
    if (rawReq.method === 'HEAD') {
      releaseSource(source);
      writer.end();
      return;
    }
    void this.run(source, plan, writer, rawRes);
  }

  /**
   * Streams `source` until it ends, fails or the client leaves. Apart from this, nothing holds the
   * request's Nest pipeline (handler closure, call handlers, context) while the stream is open:
   * an idle connection costs its socket, its writer and its source subscription. Never rejects.
   */
  private async run(
    source: unknown,
    plan: RoutePlan,
    writer: StreamWriter,
    rawRes: ServerResponse,
  ): Promise<void> {
    const untrack = this.connections.track({
      response: rawRes,
      shutdown: retryMs =>
        writer.end(
          plan.format === 'sse' && retryMs !== undefined ? serializeSseRetry(retryMs) : undefined,
        ),
    });
    try {
      await pumpSource(source, writer, plan.encode);
      writer.end();
    } catch (err) {
      this.fail(err, plan, writer);
    } finally {
      untrack();
    }
  }

  private fail(err: unknown, plan: RoutePlan, writer: StreamWriter): void {
    const publicError = reportStreamError(this.logger, plan.name, err);
    if (writer.closed) return;
    switch (plan.format) {
      case 'sse':
        writer.end(serializeSseEvent({ type: 'error', data: publicError.message }));
        return;
      case 'ndjson':
        writer.abort(serializeNdjsonLine({ error: publicError }));
        return;
      default:
        writer.abort();
    }
  }

  private plan(context: ExecutionContext): RoutePlan {
    const handler = context.getHandler();
    const options: FlushRouteOptions = getFlushMetadata(handler as never)?.options ?? {};
    const format = options.format ?? 'sse';
    const sse = format === 'sse';
    const padding = options.padding === true ? 2048 : options.padding || 0;
    let preamble = '';
    if (sse && padding > 0) preamble += serializeSseComment(' '.repeat(padding));
    if (sse && options.retry !== undefined) preamble += serializeSseRetry(options.retry);
    const plan: Omit<RoutePlan, 'plainOptions' | 'gzipOptions'> = {
      name: `${context.getClass().name}.${handler.name}()`,
      format,
      statusCode: Reflect.getMetadata(NEST_HTTP_CODE_METADATA, handler) as number | undefined,
      contentType: options.contentType ?? STREAM_CONTENT_TYPES[format],
      heartbeatIntervalMs:
        options.heartbeatIntervalMs ?? (sse ? this.options.heartbeatIntervalMs : false),
      heartbeatChunk: options.heartbeatChunk ?? (sse ? ':\n\n' : '\n'),
      maxQueuedBytes: options.maxQueuedBytes ?? this.options.maxQueuedBytes,
      slowClientPolicy: options.slowClientPolicy ?? this.options.slowClientPolicy,
      compress: options.compress ?? false,
      preamble,
      encode: ENCODERS[format],
      releasePipeline: !Reflect.getMetadata(
        NEST_RESPONSE_PASSTHROUGH_METADATA,
        context.getClass(),
        handler.name,
      ),
    };
    const full: RoutePlan = {
      ...plan,
      plainOptions: { ...plan, compress: false },
      gzipOptions: { ...plan, compress: true },
    };
    this.plans.set(handler, full);
    return full;
  }
}
