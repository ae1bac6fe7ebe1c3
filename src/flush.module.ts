import { type DynamicModule, Module } from '@nestjs/common';
import { FlushHub } from './broadcast/flush.hub.js';
import { FLUSH_TICKET_REDEEMER } from './broadcast/flush-ticket-redeemer.interface.js';
import { FlushTransport } from './broadcast/flush-transport.interface.js';
import { FlushTickets } from './controls/flush-tickets.service.js';
import { FLUSH_CONTROL_PLANE, FLUSH_RESOLVED_OPTIONS } from './flush.internal-constants.js';
import { FlushMetrics } from './flush.metrics.js';
import { ConfigurableModuleClass } from './flush.module-definition.js';
import type { FlushModuleOptions, FlushOptionsFactory } from './flush-module-options.interface.js';
import type { FactoryProvider, ModuleMetadata, Type } from '@nestjs/common';
import { flushProviders } from './flush.providers.js';
import { FlushInterceptor } from './interceptors/flush.interceptor.js';
import { FlushRawStreamInterceptor } from './interceptors/flush-raw-stream.interceptor.js';
import { FlushInterceptorExclusion } from './interceptors/interceptor-exclusion.service.js';
import { FlushConnections } from './shutdown/flush-connections.service.js';
import { FlushStreamControls } from './controls/flush-stream-controls.service.js';
import { FLUSH_RUNNER } from './broadcast/flush-runner.interface.js';
import { FlushRuns } from './runs/flush-runs.service.js';

/**
 * Options of `FlushModule.forRootAsync()`: one of `useFactory` (with `inject`), `useClass` or
 * `useExisting`, plus the `imports` they need and `isGlobal` (default true).
 * @publicApi
 */
export interface FlushModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** A factory of the options; its parameters are the `inject` tokens. */
  useFactory?: (...args: any[]) => FlushModuleOptions | Promise<FlushModuleOptions>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Tokens injected into `useFactory`. */
  inject?: FactoryProvider['inject'];
  /** A class FlushModule creates to build the options. */
  useClass?: Type<FlushOptionsFactory>;
  /** A provider (from `imports`) that builds the options. */
  useExisting?: Type<FlushOptionsFactory>;
  /** Register the module globally. @default true */
  isGlobal?: boolean;
}

/**
 * Streams that reach the client at once and survive real apps. Import it once:
 * `FlushModule.forRoot()`, `FlushModule.forRoot({ heartbeatIntervalMs: 15000 })` or
 * `FlushModule.forRootAsync({ imports, inject, useFactory })` / `forRootAsync({ useClass })`.
 * From then on global interceptors leave streaming routes (`@Sse()`, `@Flush()`,
 * `@StreamingRoute()`) alone, and `FlushHub` is injectable everywhere (the module is global by default).
 * @publicApi
 */
@Module({
  providers: [
    ...flushProviders,
    FlushConnections,
    FlushStreamControls,
    FlushHub,
    FlushTickets,
    { provide: FLUSH_TICKET_REDEEMER, useExisting: FlushTickets },
    FlushRuns,
    { provide: FLUSH_RUNNER, useExisting: FlushRuns },
    FlushInterceptor,
    FlushRawStreamInterceptor,
    FlushInterceptorExclusion,
  ],
  exports: [
    FLUSH_RESOLVED_OPTIONS,
    FlushTransport,
    FlushMetrics,
    FLUSH_CONTROL_PLANE,
    FlushConnections,
    FlushStreamControls,
    FlushHub,
    FlushTickets,
    FlushInterceptor,
    FlushRawStreamInterceptor,
  ],
})
export class FlushModule extends ConfigurableModuleClass {
  /**
   * Registers the module with `options`; every option is optional, so `FlushModule.forRoot()`
   * applies the defaults (`DEFAULT_FLUSH_OPTIONS`). Options are validated at bootstrap.
   * @example FlushModule.forRoot()
   * @example FlushModule.forRoot({ heartbeatIntervalMs: 15000, historySize: 1000 })
   * @publicApi
   */
  static override forRoot(options: FlushModuleOptions = {}): DynamicModule {
    // ConfigurableModuleBuilder's generated forRoot(options) requires its argument (TS2554) and
    // reads its keys (TypeError on undefined): the default makes `forRoot()` work. Typed with
    // FlushModuleOptions so that editors and errors name it (not the builder's OPTIONS_TYPE).
    return super.forRoot(options);
  }

  /**
   * Registers the module with options built at bootstrap by a factory (`useFactory` with
   * `inject`, e.g. from `@nestjs/config`), a class (`useClass`, created inside FlushModule) or an
   * existing provider (`useExisting`) implementing `FlushOptionsFactory`. Environment strings are
   * accepted as the options document it; the result is validated like `forRoot()`'s.
   * @example
   * FlushModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({ heartbeatIntervalMs: config.get('FLUSH_HEARTBEAT_MS') }),
   * })
   * @publicApi
   */
  static override forRootAsync(options: FlushModuleAsyncOptions): DynamicModule {
    return super.forRootAsync(options);
  }
}
