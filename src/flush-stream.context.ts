import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the library knows about one streaming request while it runs: whose stream it is (the
 * stream key), the hub channels it reads, and how to end it with a control event. Created by
 * the streaming interceptors before the handler runs; read by FlushHub (targeted delivery,
 * tickets) and the stream controls (caps, lifetime, revocation). Pure: no NestJS.
 * @internal
 */
export interface FlushStreamContext {
  /** Unique per stream across instances (the holder of its cap lease). */
  readonly id: string;
  /**
   * Whose stream it is: the module's `streamKey(request)` (default: the client IP), replaced by
   * a ticket's subject when the stream was opened with `?ticket=`.
   */
  key: string | undefined;
  /**
   * The framework request (express or fastify) of the stream: what `hub.run()` and
   * `hub.attach()` authorize when their handler runs in this stream.
   */
  readonly request?: unknown;
  /** Hub channels this stream reads (filled when the handler's hub stream subscribes). */
  readonly channels: Set<string>;
  /**
   * The stream's current resume position, for control events (`expired`, `revoked`, `end`):
   * the id of the last event written, as the client saw it (a composite cursor on a
   * multi-channel stream). Set by the hub as it delivers.
   */
  position: string | undefined;
  /**
   * What must settle before the stream's headers go out: each hub subscription of the stream
   * adds its start (subscription, replay), so that a transport that cannot serve it answers 503
   * before any byte. Never rejects (failures reach the stream as errors).
   */
  readonly ready: Promise<void>[];
  /**
   * Ends the stream with a control event (`event: <name>`, `id:` the current position, `data:`
   * JSON), a `retry:` hint if given, then the end of the response. Set by the interceptor once
   * the stream is open; before that, ending marks the stream to end as soon as it opens.
   */
  end?: (event: string, data: unknown, retryMs?: number) => void;
}

const storage = new AsyncLocalStorage<FlushStreamContext>();
const byRequest = new WeakMap<object, FlushStreamContext>();

/** Runs `fn` with `context` as the current stream (its producer, handler and subscriptions). @internal */
export const runInStream = <T>(context: FlushStreamContext, fn: () => T): T =>
  storage.run(context, fn);

/** The stream whose handler or producer is running now, if any. @internal */
export const currentStream = (): FlushStreamContext | undefined => storage.getStore();

/** Binds a stream to its (raw or framework) request, so `streamFor(request)` finds it. @internal */
export const bindStreamToRequest = (request: object, context: FlushStreamContext): void => {
  byRequest.set(request, context);
};

/** The stream of a request (raw `IncomingMessage` or the framework request wrapping it). @internal */
export const streamOfRequest = (request: unknown): FlushStreamContext | undefined => {
  if (typeof request !== 'object' || request === null) return undefined;
  return (
    byRequest.get(request) ??
    byRequest.get((request as { raw?: object }).raw ?? request) ??
    undefined
  );
};
