import type { Provider } from '@nestjs/common';
import { FlushTransport } from './broadcast/flush-transport.interface.js';
import { InMemoryFlushTransport } from './broadcast/transports/in-memory.transport.js';
import { FLUSH_RESOLVED_OPTIONS } from './flush.internal-constants.js';
import { MODULE_OPTIONS_TOKEN } from './flush.module-definition.js';
import type { FlushModuleOptions, ResolvedFlushOptions } from './flush-module-options.interface.js';
import { resolveFlushOptions } from './flush-options.resolver.js';

/**
 * Injection token of the resolved options (every default applied).
 * @publicApi
 */
export const FLUSH_OPTIONS = FLUSH_RESOLVED_OPTIONS;

/** @internal */
export const flushProviders: Provider[] = [
  {
    provide: FLUSH_RESOLVED_OPTIONS,
    // Fails the bootstrap with a message naming the option, the value and what to do.
    useFactory: (options: FlushModuleOptions) => resolveFlushOptions(options ?? {}),
    inject: [MODULE_OPTIONS_TOKEN],
  },
  {
    provide: FlushTransport,
    useFactory: ({ transport, historySize, historyMaxAgeMs }: ResolvedFlushOptions) => {
      if (!transport) return new InMemoryFlushTransport({ historySize, historyMaxAgeMs });
      transport.useHistoryDefaults?.({ historySize, historyMaxAgeMs });
      return transport;
    },
    inject: [FLUSH_RESOLVED_OPTIONS],
  },
];
