/** Message factories for errors and log lines, kept in one place. @internal */
export const describeValue = (value: unknown): string => {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (typeof value === 'object') {
    const name = value.constructor?.name;
    return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
  }
  return `${typeof value} ${String(value)}`;
};

/** How messages name a route: `Controller.method()`. */
export const routeLabel = (controller: { name: string } | undefined, method: string | symbol) =>
  `${controller?.name ?? '(anonymous)'}.${String(method)}()`;

export const INVALID_OPTION = (option: string, got: unknown, expected: string) =>
  `FlushModule option "${option}" must be ${expected}; received ${describeValue(got)}. ` +
  `Fix it where FlushModule.forRoot()/forRootAsync() is called.`;

export const INVALID_TRANSPORT_OPTION = (
  transport: string,
  option: string,
  got: unknown,
  expected: string,
) => `${transport} option "${option}" must be ${expected}; received ${describeValue(got)}.`;

export const UNKNOWN_OPTION = (option: string, known: readonly string[]) =>
  `FlushModule has no option "${option}". Known options: ${known.join(', ')}.`;

export const INVALID_ROUTE_OPTION = (
  route: string,
  option: string,
  got: unknown,
  expected: string,
) =>
  `@Flush() on ${route}: option "${option}" must be ${expected}; received ${describeValue(got)}.`;

export const STREAM_FAILED = (route: string) =>
  `Stream on ${route} failed after its headers were sent; the client received an error and the stream was closed.`;

export const SLOW_CLIENT_DISCONNECTED = (route: string, bytes: number, limit: number) =>
  `Slow client on ${route} disconnected: ${bytes} bytes queued exceeds maxQueuedBytes (${limit}).`;

export const SLOW_CLIENT_DROPPED = (route: string, frames: number, policy: string) =>
  `Slow client on ${route}: ${policy} dropped ${frames} frame(s) it could not take; it was told with a resync notice.`;

export const INVALID_CHANNEL = (got: unknown) =>
  `Invalid channel name ${describeValue(got)}: use 1-200 characters from A-Z a-z 0-9 and . _ - : / @ (no spaces or control characters).`;

export const INVALID_EVENT_NAME = (got: unknown) =>
  `Invalid event name ${describeValue(got)}: use 1-100 characters without CR, LF or NUL.`;

export const HUB_UNAVAILABLE = (retryAfterSeconds: number) =>
  `Live updates are temporarily unavailable (the broadcast transport is reconnecting). Retry in ${retryAfterSeconds} s.`;

export const STREAM_NEEDS_AUTHORIZATION = (channel: string) =>
  `FlushHub.stream(${JSON.stringify(channel)}) was called, but FlushModule has "authorize" rules, ` +
  `which stream() cannot apply (it has no request). Use hub.streamFor(request, ${JSON.stringify(channel)}, options) ` +
  `to authorize the client, or pass { skipAuthorization: true } to stream() for a server-internal stream.`;

export const RUN_NEEDS_AUTHORIZATION = (method: 'run' | 'attach', key: string) =>
  `FlushHub.${method}(${JSON.stringify(key)}) was called outside a streaming route and without { request }, but FlushModule ` +
  `has "authorize" rules, which apply to runs as to the channel "run:${key}". Call it from the @Flush() or @Sse() ` +
  `handler that streams it, pass { request } (the framework request to authorize), or pass { skipAuthorization: true } ` +
  `for a server-internal call.`;

export const FLUSH_NOT_SERVED = (route: string) =>
  `Streaming route ${route} is not served by a FlushModule of the application that received the request. Import FlushModule.forRoot() in that application.`;

export const NEST_INTERNALS_CHANGED = (missing: readonly string[]) =>
  `nestjs-flush cannot find NestJS internals it relies on (${missing.join('; ')}) in this NestJS version. ` +
  `Streaming routes are served by Nest itself and global interceptors are NOT excluded from them. ` +
  `Wrap such interceptors with StreamAware(MyInterceptor), or check isStreamingRoute(context) in them, and report the NestJS version to nestjs-flush.`;

export const INVALID_CONTROL_ARGUMENT = (
  method: string,
  argument: string,
  got: unknown,
  expected: string,
) =>
  `FlushControlPlane.${method}(): "${argument}" must be ${expected}; received ${describeValue(got)}.`;

export const NO_CONTROL_PLANE = (transport: string) =>
  `The transport ${transport} has no control plane: stream caps, revocation and tickets hold on this instance only. ` +
  `Give the transport a "control" (FlushControlPlane), or use RedisFlushTransport for many instances.`;

export const FLUSH_MODULE_TWICE = (count: number, importers: readonly string[]) =>
  `FlushModule is imported ${count} times in this application ` +
  `(FlushModule.forRoot()/forRootAsync() in the imports of ${importers.join(' and ') || 'dynamic modules'}): ` +
  `only one module's settings could apply, and each would have a FlushHub of its own. FlushModule is global: import FlushModule.forRoot() (or forRootAsync()) ` +
  `once, in the root module, and remove the other import; feature modules inject FlushHub without importing it.`;

export const INVALID_CURSOR = (got: unknown) =>
  `Invalid stream cursor ${describeValue(typeof got === 'string' && got.length > 80 ? `${got.slice(0, 80)}…` : got)}: a multi-channel stream resumes from the composite cursor it wrote as the events' id ("c1.<hash>.<position>…"); send that value back unchanged as Last-Event-ID, or none.`;

export const INVALID_TARGET = (got: unknown) =>
  `Invalid "to" ${describeValue(got)}: a stream key of 1-256 characters without CR, LF or NUL.`;

export const INVALID_CHANNEL_LIST = (got: unknown, max: number) =>
  `Invalid channel list ${describeValue(got)}: give 1-${max} channel names.`;
