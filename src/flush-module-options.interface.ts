import type {
  FlushAuthorizeFn,
  FlushAuthorizeRule,
} from './broadcast/flush-authorize.interface.js';
import type { FlushTransport } from './broadcast/flush-transport.interface.js';

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
 * Values read from the environment are strings: the numeric options (`heartbeatIntervalMs`,
 * `historySize`, `historyMaxAgeMs`, `maxQueuedBytes`, the `shutdownRetryMs` pair) also take a
 * string of digits, and the options that take `false` also take `'false'` (see
 * `resolveFlushOptions`).
 * @publicApi
 */
export interface FlushModuleOptions {
  /**
   * Interval of silence after which an SSE stream gets a comment heartbeat (`:\n\n`), in
   * milliseconds. Keep it below proxy idle timeouts (nginx, AWS ALB: 60 s). `false` disables.
   * @default 15000
   */
  heartbeatIntervalMs?: number | false;
  /**
   * Events kept per channel for Last-Event-ID resume (FlushHub).
   * @default 1000
   */
  historySize?: number;
  /**
   * Maximum age of events kept for resume, in milliseconds. `false`: no age limit.
   * @default false
   */
  historyMaxAgeMs?: number | false;
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
  skipInterceptors?: FlushSkipMode;
  /**
   * Bound on bytes queued per connection for push sources before `slowClientPolicy` applies.
   * @default 4194304 (4 MiB)
   */
  maxQueuedBytes?: number;
  /**
   * What to do with a client that falls behind a push source.
   * @default 'disconnect'
   */
  slowClientPolicy?: FlushSlowClientPolicy;
  /**
   * On application shutdown, SSE streams end with a `retry:` hint picked at random in this
   * range (milliseconds), so clients spread their reconnects. `false`: end without a hint.
   * @default [1000, 5000]
   */
  shutdownRetryMs?: readonly [number, number] | false;
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
