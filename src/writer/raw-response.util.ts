import type { IncomingMessage, ServerResponse } from 'node:http';
import { FLUSH_REQUEST_CONTEXT } from '../flush.internal-constants.js';

/** A framework request or response (express objects are the raw ones; fastify wraps them). */
type Wrapped<T> = T | { raw: T };

/** The `node:http` response behind an express or fastify response. @internal */
export const toRawResponse = (res: Wrapped<ServerResponse>): ServerResponse =>
  (res as { raw?: ServerResponse }).raw ?? (res as ServerResponse);

/** The `node:http` request behind an express or fastify request. @internal */
export const toRawRequest = (req: Wrapped<IncomingMessage>): IncomingMessage =>
  (req as { raw?: IncomingMessage }).raw ?? (req as IncomingMessage);

/** Whether a response can no longer be written: it closed, or the client left. @internal */
export const isClosed = (req: IncomingMessage, res: ServerResponse): boolean =>
  res.destroyed || res.writableEnded || !!req.socket?.destroyed;

interface RequestContext {
  controller: AbortController;
}

/**
 * The AbortSignal of a request: aborted once its response closes (the client left, or the response
 * is over). Created on first use, once per request, listening on the response (not the request
 * body, which ends early for a POST).
 * @internal
 */
export const requestSignal = (req: IncomingMessage, res: ServerResponse): AbortSignal => {
  const carrier = req as IncomingMessage & { [FLUSH_REQUEST_CONTEXT]?: RequestContext };
  let context = carrier[FLUSH_REQUEST_CONTEXT];
  if (!context) {
    const controller = new AbortController();
    context = { controller };
    carrier[FLUSH_REQUEST_CONTEXT] = context;
    if (isClosed(req, res)) controller.abort();
    else res.once('close', () => controller.abort());
  }
  return context.controller.signal;
};

/** Headers set on the framework response (fastify keeps them on the reply until it sends). @internal */
export const frameworkHeaders = (res: unknown): Record<string, string> => {
  const getHeaders = (res as { getHeaders?: () => Record<string, unknown> }).getHeaders;
  if (typeof getHeaders !== 'function') return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(getHeaders.call(res) ?? {})) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
};

/** The AbortController behind `requestSignal()` (Nest's `@SseSignal()` reads one). @internal */
export const requestAbortController = (
  req: IncomingMessage,
  res: ServerResponse,
): AbortController => {
  requestSignal(req, res);
  return (req as IncomingMessage & { [FLUSH_REQUEST_CONTEXT]: RequestContext })[
    FLUSH_REQUEST_CONTEXT
  ].controller;
};

/**
 * Drops the express router's continuation of a request whose response an open stream owns:
 * express keeps `req.next` (the router's closures and their state) for the request's lifetime,
 * about 1 KB per idle stream, and nothing may call it once the stream is open (express would go
 * on to the next route and write into the stream). A no-op on fastify.
 * @internal
 */
export const releaseRouterContinuation = (req: object): void => {
  const carrier = req as { next?: unknown };
  if (typeof carrier.next === 'function') carrier.next = undefined;
};
