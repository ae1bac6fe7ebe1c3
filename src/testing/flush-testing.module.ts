import { type DynamicModule, Module } from '@nestjs/common';
import { InMemoryFlushTransport } from '../broadcast/transports/in-memory.transport.js';
import { FlushModule } from '../flush.module.js';
import { FLUSH_TESTING_OPTIONS } from '../flush.module-definition.js';
import type { FlushModuleOptions } from '../flush-module-options.interface.js';

/**
 * FlushModule for tests: an in-memory transport and no heartbeat, unless `options` say otherwise.
 *
 * It wins over the application's own `FlushModule.forRoot()` / `forRootAsync()`, whatever the
 * import order: its options are laid over those of every FlushModule in the application (options
 * it does not name keep the application's values), and every FlushModule shares its transport, so
 * `app.get(FlushHub).publish()` reaches every stream.
 * @example Test.createTestingModule({ imports: [FlushTestingModule.forRoot(), AppModule] })
 * @example FlushTestingModule.forRoot({ heartbeatIntervalMs: 50 }) // test the heartbeats
 * @publicApi
 */
@Module({})
export class FlushTestingModule {
  static forRoot(options: FlushModuleOptions = {}): DynamicModule {
    // The overlay is global whatever `isGlobal` says: it must reach every FlushModule.
    const overrides: FlushModuleOptions = { ...options };
    delete overrides.isGlobal;
    return {
      module: FlushTestingModule,
      global: true,
      imports: [FlushModule.forRoot()],
      providers: [
        {
          provide: FLUSH_TESTING_OPTIONS,
          // One transport per application, shared by every FlushModule in it.
          useFactory: (): FlushModuleOptions => ({
            heartbeatIntervalMs: false,
            transport: new InMemoryFlushTransport(),
            ...overrides,
          }),
        },
      ],
      exports: [FLUSH_TESTING_OPTIONS, FlushModule],
    };
  }
}
