import { Logger, type Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { FlushTransport } from './broadcast/flush-transport.interface.js';
import { InMemoryFlushControlPlane } from './broadcast/transports/in-memory.control-plane.js';
import { InMemoryFlushTransport } from './broadcast/transports/in-memory.transport.js';
import { FLUSH_CONTROL_PLANE, FLUSH_RESOLVED_OPTIONS } from './flush.internal-constants.js';
import { NO_CONTROL_PLANE } from './flush.messages.js';
import { FlushMetrics } from './flush.metrics.js';
import { MODULE_OPTIONS_TOKEN } from './flush.module-definition.js';
import type { FlushModuleOptions, ResolvedFlushOptions } from './flush-module-options.interface.js';
import { resolveFlushOptions } from './flush-options.resolver.js';

/**
 * Injection token of the resolved options (every default applied).
 * @publicApi
 */
export const FLUSH_OPTIONS = FLUSH_RESOLVED_OPTIONS;

/** The FlushMetrics of each application (keyed by its ModulesContainer). */
const metricsPerApp = new WeakMap<ModulesContainer, FlushMetrics>();

/** @internal */
export const flushProviders: Provider[] = [
  {
    // One per application: FlushTestingModule next to the app's own FlushModule makes two
    // FlushModule instances, and app.get(FlushMetrics) must count the streams of both.
    provide: FlushMetrics,
    useFactory: (container: ModulesContainer) => {
      let metrics = metricsPerApp.get(container);
      if (!metrics) metricsPerApp.set(container, (metrics = new FlushMetrics()));
      return metrics;
    },
    inject: [ModulesContainer],
  },
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
  {
    // Caps, revocation and tickets coordinate through the transport's control plane; a custom
    // transport without one still works, per instance, and the bootstrap log says so.
    provide: FLUSH_CONTROL_PLANE,
    useFactory: (transport: FlushTransport) => {
      if (transport.control) return transport.control;
      const name = (transport as { constructor?: { name?: string } }).constructor?.name;
      new Logger('FlushModule').warn(
        NO_CONTROL_PLANE(name && name !== 'Object' ? name : 'given in the options'),
      );
      return new InMemoryFlushControlPlane();
    },
    inject: [FlushTransport],
  },
];
