import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@nestjs/common';
import { reportStreamError } from '../flush.errors-mapping.js';
import { serializeNdjsonLine } from '../ndjson/ndjson.serializer.js';
import { serializeSseEvent } from '../sse/sse.serializer.js';
import { frameworkHeaders } from '../writer/raw-response.util.js';
import { StreamWriter, type Chunk, type StreamWriterHooks } from '../writer/stream.writer.js';
import type { FrameEncoder, RoutePlan } from './flush-route.plan.js';
import type { FlushStreamContext } from '../flush-stream.context.js';
import type { FlushEndStatus, FlushFormatSession } from '../formats/flush-wire-format.js';
import {
  encodeBodyChunk,
  webResponseBody,
  webResponseHeaders,
} from '../formats/web-response.passthrough.js';

/** One request of a streaming route. @internal */
export interface StreamRequest {
  readonly plan: RoutePlan;
  /** The framework response (express response, fastify reply). */
  readonly res: object;
  readonly rawReq: IncomingMessage;
  readonly rawRes: ServerResponse;
  /** The status Nest set before the interceptors ran: a different one was set on purpose. */
  readonly initialStatus: number | undefined;
  readonly encode: FrameEncoder;
  /** The stream's key, channels and position (stream controls, hub). */
  readonly context: FlushStreamContext;
  /** The framework request, for the controls' `expiresAt(request)`. */
  readonly req: object;
  /** The connection's session of a format with an ending of its own ('openai', 'ai-sdk'). */
  readonly session?: FlushFormatSession;
}

/** The status the framework response carries now. @internal */
export const statusOf = (res: object): number | undefined =>
  (res as { statusCode?: number }).statusCode ?? undefined;

/** The writer of a stream: gzip when the route compresses and the client accepts it. @internal */
export const createStreamWriter = (
  stream: StreamRequest,
  hooks: StreamWriterHooks,
): StreamWriter => {
  const { plan, rawReq, rawRes } = stream;
  const gzip = plan.compress && /\bgzip\b/.test(String(rawReq.headers['accept-encoding'] ?? ''));
  return new StreamWriter(rawReq, rawRes, gzip ? plan.gzipOptions : plan.plainOptions, hooks);
};

/** Sends the status line and headers. Returns false when the client is gone. @internal */
export const openStream = (stream: StreamRequest, writer: StreamWriter): boolean => {
  const { plan, res, rawRes } = stream;
  if (writer.closed) return false;
  const framework = frameworkHeaders(res);
  const headers: Record<string, string | readonly string[]> = { ...framework, ...plan.headers };
  const existingType = framework['content-type'] ?? rawRes.getHeader('content-type');
  if (plan.keepContentType && existingType) headers['content-type'] = String(existingType);
  // A status set by the handler or an interceptor wins; otherwise @HttpCode(), then 200
  // (`@Sse()` keeps Nest's rule: the status Nest set, 201 for POST).
  const current = statusOf(res);
  const status =
    current !== undefined && current !== stream.initialStatus
      ? current
      : (plan.statusCode ?? (plan.nestSse ? (current ?? 200) : 200));
  (res as { hijack?: () => void }).hijack?.(); // fastify: the reply is ours from here
  writer.open(status, headers, plan.preamble);
  return true;
};

/**
 * After the headers: one error event (SSE), an error line (NDJSON), then the end; the error is
 * logged (server errors) and the client sees only its public form. @internal
 */
export const failStream = (
  logger: Logger,
  err: unknown,
  { plan, encode, session }: StreamRequest,
  writer: StreamWriter,
): void => {
  const publicError = reportStreamError(logger, plan.name, err);
  if (writer.closed) return;
  // 'openai' / 'ai-sdk': the format's own error shape, then its end.
  if (session) return writer.end(session.end('failed', publicError));
  switch (plan.format) {
    case 'sse': {
      const event = { type: 'error', data: publicError.message };
      let frame: Chunk;
      try {
        // On @Sse() routes the error event is numbered as Nest numbers it.
        frame = plan.nestSse ? encode(event) : serializeSseEvent(event);
      } catch {
        frame = serializeSseEvent(event);
      }
      writer.end(frame);
      return;
    }
    case 'ndjson':
      writer.abort(serializeNdjsonLine({ error: publicError }));
      return;
    default:
      writer.abort();
  }
};

/** Ends a stream whose source completed: with the format's own ending, if it has one. @internal */
export const endStream = ({ session }: StreamRequest, writer: StreamWriter): void =>
  writer.end(session?.end('completed'));

/** How the formats with an ending of their own end a stream the controls end. */
const CONTROL_ENDINGS: Readonly<Record<string, FlushEndStatus>> = {
  expired: 'expired',
  revoked: 'failed',
};

/**
 * The ending of a format with its own ('openai', 'ai-sdk') for a control event that ends the
 * stream: `expired` ends it as an expired run, `revoked` with the format's error. @internal
 */
export const controlEnding = (session: FlushFormatSession, event: string): Chunk =>
  session.end(CONTROL_ENDINGS[event] ?? 'cancelled', {
    statusCode: 403,
    message: `Stream ${event}`,
  });

/**
 * The request of a handler that returned a web `Response`: its status, headers (no hop-by-hop
 * ones, no Content-Length) and body bytes go out as they are, flushed per chunk, without the
 * route format's headers, preamble, ending or heartbeats; and the body to pump (undefined for
 * none). Throws a `TypeError` for a body read already. @internal
 */
export const webResponseRequest = (
  stream: StreamRequest,
  response: Response,
): { stream: StreamRequest; body: ReadableStream<Uint8Array> | undefined } => {
  const body = webResponseBody(response);
  const options = { heartbeatIntervalMs: false as const, dropNotice: undefined };
  const plan: RoutePlan = {
    ...stream.plan,
    statusCode: response.status,
    headers: webResponseHeaders(response),
    keepContentType: false,
    preamble: '',
    compress: false,
    session: undefined,
    plainOptions: { ...stream.plan.plainOptions, ...options },
    gzipOptions: { ...stream.plan.gzipOptions, ...options },
  };
  return {
    // The Response's status wins over one the handler set on the framework response.
    stream: {
      ...stream,
      plan,
      initialStatus: statusOf(stream.res),
      encode: encodeBodyChunk,
      session: undefined,
    },
    body,
  };
};
