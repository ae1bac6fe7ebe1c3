import type { DynamicModule } from '@nestjs/common';
import { FlushModule } from '../flush.module.js';
import type { FlushModuleOptions } from '../flush-module-options.interface.js';

/**
 * FlushModule for tests: in-memory transport and no heartbeat unless given.
 * @example Test.createTestingModule({ imports: [FlushTestingModule.forRoot(), AppModule] })
 * @publicApi
 */
export class FlushTestingModule {
  static forRoot(options: FlushModuleOptions = {}): DynamicModule {
    return FlushModule.forRoot({ heartbeatIntervalMs: false, ...options });
  }
}
