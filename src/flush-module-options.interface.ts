import type {
  FlushAuthorizeFn,
  FlushAuthorizeRule,
} from './broadcast/flush-authorize.interface.js';
import type { FlushTransport } from './broadcast/flush-transport.interface.js';
import type { FlushStreamKeyFn } from './controls/flush-stream-key.js';

/**
 * What a request's credentials allow: the time (epoch milliseconds or a Date) after which its
 * stream must end, e.g. a JWT's `exp * 1000`; `undefined`: no bound. Receives the framework
 * request (express or fastify, with what guards attached).
 * @publicApi
 */
export type FlushExpiresAtFn = (request: any) => number | Date | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * What happens to a client that does not read as fast as a push source (an Observable) produces.
 * - `disconnect`: close the connection (an EventSource reconnects and resumes with Last-Event-ID);
 * - `drop-oldest`: discard the oldest frames still queued in nestjs-flush;
 * - `drop-newest`: discard the frame that would exceed the bound.
 * Pull sources (async iterables, streams) are never dropped: they are read only as fast as the
 * socket drains.
 * @publicApi
 */
export type FlushSlowClientPolicy = 'disconnect' | 'drop-oldest' | 'drop-newest';

/**
 * Which interceptors are bypassed on streaming routes.
 * - `global`: those registered with `app.useGlobalInterceptors()` or `APP_INTERCEPTOR`;
 * - `all`: global ones and those attached with `@UseInterceptors()`;
 * - `none`: none.
 * Interceptors marked `@StreamSafe()` always run.
 * @publicApi
 */
export type FlushSkipMode = 'global' | 'all' | 'none';

/**
 * Options of `FlushModule.forRoot()` and of `forRootAsync()` factories. Every option is optional.
 *
 * Values read from the environment are strings, and the types say so: the numeric options
 * (`heartbeatIntervalMs`, `historySize`, `historyMaxAgeMs`, `maxQueuedBytes`, `maxStreamsPerKey`,
 * `maxLifetimeMs`, the `shutdownRetryMs` pair) also take a string of digits, the options that take
 * `false` also take `'false'`, and an empty string (`FLUSH_HEARTBEAT_MS=`) means "not set": the
 * default applies. Any other string fails the bootstrap with a message naming the option.
 * @publicApi
 */
export interface FlushModuleOptions {
  /**
   * Interval of silence after which an SSE stream gets a comment heartbeat (`:\n\n`), in
   * milliseconds. Keep it below proxy idle timeouts (nginx, AWS ALB: 60 s). `false` disables.
   * @default 15000
   */
  heartbeatIntervalMs?: number | false | string;
  /**
   * Events kept per channel for Last-Event-ID resume (FlushHub).
   * @default 1000
   */
  historySize?: number | string;
  /**
   * Maximum age of events kept for resume, in milliseconds. `false`: no age limit.
   * @default false
   */
  historyMaxAgeMs?: number | false | string;
  /**
   * Broadcast transport shared by all FlushHub channels.
   * @default an InMemoryFlushTransport per application
   */
  transport?: FlushTransport;
  /**
   * Which interceptors leave streaming routes alone. Per route: `@Flush({ skipInterceptors })`,
   * `@StreamingRoute({ skipInterceptors })` or `@FlushSkipInterceptors()`.
   * @default 'global'
   */
  skipInterceptors?: FlushSkipMode | '';
  /**
   * Bound on bytes queued per connection for push sources before `slowClientPolicy` applies.
   * @default 4194304 (4 MiB)
   */
  maxQueuedBytes?: number | string;
  /**
   * What to do with a client that falls behind a push source.
   * @default 'disconnect'
   */
  slowClientPolicy?: FlushSlowClientPolicy | '';
  /**
   * On application shutdown, SSE streams end with a `retry:` hint picked at random in this
   * range (milliseconds), so clients spread their reconnects. `false`: end without a hint.
   * @default [1000, 5000]
   */
  shutdownRetryMs?: readonly [number | string, number | string] | false | string;
  /**
   * Name of the in-band event sent when a Last-Event-ID is unknown or older than the history,
   * telling the client to refetch its state.
   * @default 'resync'
   */
  resyncEventName?: string;
  /**
   * Channel authorization for `FlushHub.streamFor()` / `authorize()`: one function for every
   * channel, or rules per channel pattern. With rules, a channel no rule matches is denied, and
   * `FlushHub.stream()` throws (it has no request to check) unless called with
   * `{ skipAuthorization: true }` for a server-internal stream.
   * @default undefined (every channel allowed)
   */
  authorize?: FlushAuthorizeFn | readonly FlushAuthorizeRule[];
  /**
   * Whose stream a request opens (the key `maxStreamsPerKey` counts, `hub.disconnect({ key })`
   * ends and `publish(…, { to })` targets), e.g. `request => request.user?.id`. A stream opened
   * with a `?ticket=` has the ticket's subject as its key instead. A function that throws answers
   * the request with 500 before any byte (logged once per route).
   * @default the client IP (`clientIpStreamKey`)
   */
  streamKey?: FlushStreamKeyFn;
  /**
   * Open streams per stream key, counted on every instance that shares the transport (with
   * `RedisFlushTransport`: across instances; a killed instance's streams stop counting within
   * 30 s). A stream over it is answered `429 Too Many Requests` with `Retry-After`, before any
   * byte. Per controller or route: `@FlushLimits({ maxStreamsPerKey })`. `false`: no limit.
   * @default false
   */
  maxStreamsPerKey?: number | false | string;
  /**
   * Longest life of one stream in milliseconds: at the deadline an SSE stream gets
   * `event: expired` (its `id:` the stream's position, so the reconnect resumes) with a `retry:`
   * hint, then ends; NDJSON streams get an `{"expired":…}` line, text streams just end. Per
   * controller or route: `@FlushLimits({ maxLifetimeMs })`. `false`: no limit.
   * @default false
   */
  maxLifetimeMs?: number | false | string;
  /**
   * When the credentials of a request stop being valid (epoch ms or a Date, e.g. a JWT's
   * `exp * 1000`): its stream ends then, as at `maxLifetimeMs` (whichever comes first). A time
   * already past ends the stream right after it opens, so a client refreshes its credentials.
   * @default undefined (no bound)
   */
  expiresAt?: FlushExpiresAtFn;
  /**
   * Runs (`hub.run()`) live at the same time, counted on every instance that shares the
   * transport. A run over it is answered `429 Too Many Requests` with `Retry-After`, before
   * its producer starts. `false`: no limit.
   * @default 100
   */
  maxRuns?: number | false | string;
  /**
   * Events one run may publish (its history holds them all, plus the `end` event). A producer
   * that yields more is stopped; the run ends with `end {"status":"failed"}`.
   * @default 10000
   */
  maxRunEvents?: number | string;
  /**
   * How long a run's history (its replay) is kept after its end, in milliseconds, unless
   * `hub.run(…, { ttlMs })` says otherwise (1 ms to 24 h). Then `attach()` answers 404.
   * @default 600000
   */
  runTtlMs?: number | string;
  /**
   * Longest life of a run's producer in milliseconds (1 ms to 24 h): then its signal aborts and
   * the run ends with `end {"status":"expired"}`.
   * @default 3600000
   */
  maxRunDurationMs?: number | string;
  /**
   * Stops a run when no client was attached to it (on any instance) for this long, in
   * milliseconds: its signal aborts and the run ends with `end {"status":"expired"}`.
   * `false`: a run goes on without anyone attached.
   * @default false
   */
  runUnattendedStopMs?: number | false | string;
  /**
   * Register the module globally (route decorators need its providers in every module).
   * @default true
   */
  isGlobal?: boolean;
}

/**
 * Options with every default applied (`FLUSH_OPTIONS`).
 * @publicApi
 */
export interface ResolvedFlushOptions {
  heartbeatIntervalMs: number | false;
  historySize: number;
  historyMaxAgeMs: number | false;
  transport: FlushTransport | undefined;
  skipInterceptors: FlushSkipMode;
  maxQueuedBytes: number;
  slowClientPolicy: FlushSlowClientPolicy;
  shutdownRetryMs: readonly [number, number] | false;
  resyncEventName: string;
  authorize: FlushAuthorizeFn | readonly FlushAuthorizeRule[] | undefined;
  streamKey: FlushStreamKeyFn;
  maxStreamsPerKey: number | false;
  maxLifetimeMs: number | false;
  expiresAt: FlushExpiresAtFn | undefined;
  maxRuns: number | false;
  maxRunEvents: number;
  runTtlMs: number;
  maxRunDurationMs: number;
  runUnattendedStopMs: number | false;
}

/**
 * A class that builds the options, for `FlushModule.forRootAsync({ useClass })` (Nest creates it
 * inside FlushModule; list the modules it needs in `imports`) or `forRootAsync({ useExisting })`.
 * @example
 * @Injectable()
 * class FlushConfig implements FlushOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createFlushOptions() {
 *     return { heartbeatIntervalMs: this.config.get<number>('FLUSH_HEARTBEAT_MS', 15000) };
 *   }
 * }
 * FlushModule.forRootAsync({ imports: [ConfigModule], useClass: FlushConfig });
 * @publicApi
 */
export interface FlushOptionsFactory {
  /** Returns the options (or a Promise of them); called once, at bootstrap. */
  createFlushOptions(): FlushModuleOptions | Promise<FlushModuleOptions>;
}
