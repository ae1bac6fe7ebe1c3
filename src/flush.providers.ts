import { Logger, type Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { FlushTransport } from './broadcast/flush-transport.interface.js';
import { InMemoryFlushControlPlane } from './broadcast/transports/in-memory.control-plane.js';
import { InMemoryFlushTransport } from './broadcast/transports/in-memory.transport.js';
import { FLUSH_CONTROL_PLANE, FLUSH_RESOLVED_OPTIONS } from './flush.internal-constants.js';
import { NO_CONTROL_PLANE } from './flush.messages.js';
import { FlushMetrics } from './flush.metrics.js';
import {
  FLUSH_GIVEN_OPTIONS,
  FLUSH_TESTING_OPTIONS,
  MODULE_OPTIONS_TOKEN,
} from './flush.module-definition.js';
import { FlushConfigurationError } from './flush.errors.js';
import { FLUSH_MODULE_TWICE } from './flush.messages.js';
import { modulesProviding } from './nest-compat/nest-container.compat.js';
import type { FlushModuleOptions, ResolvedFlushOptions } from './flush-module-options.interface.js';
import { resolveFlushOptions } from './flush-options.resolver.js';

/**
 * Injection token of the resolved options (every default applied).
 * @publicApi
 */
export const FLUSH_OPTIONS = FLUSH_RESOLVED_OPTIONS;

/** The FlushMetrics of each application (keyed by its ModulesContainer). */
const metricsPerApp = new WeakMap<ModulesContainer, FlushMetrics>();

/** A `FlushModule.forRoot()` / `forRootAsync()` entry of an `imports` list. */
const isFlushModuleImport = (entry: unknown): boolean =>
  typeof entry === 'object' &&
  entry !== null &&
  Array.isArray((entry as { providers?: unknown }).providers) &&
  (entry as { providers: unknown[] }).providers.some(
    provider =>
      typeof provider === 'object' &&
      provider !== null &&
      (provider as { provide?: unknown }).provide === FLUSH_GIVEN_OPTIONS,
  );

/**
 * One FlushModule per application: a second `forRoot()`/`forRootAsync()` would silently lose one
 * module's settings and make a second FlushHub (each forRoot() is a module of its own), so it
 * fails the bootstrap naming the import sites. `FlushTestingModule` is the one exception: it lays its
 * options over every FlushModule on purpose.
 */
const assertSingleFlushModule = (modules: ModulesContainer): void => {
  const found = modulesProviding(modules, FLUSH_GIVEN_OPTIONS, isFlushModuleImport);
  if (!found || found.count < 2) return;
  throw new FlushConfigurationError(FLUSH_MODULE_TWICE(found.count, found.importers));
};

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
    // Fails the bootstrap with a message naming the option, the value and what to do, and when
    // the application imports FlushModule twice with different options.
    useFactory: (options: FlushModuleOptions, modules: ModulesContainer, testing?: unknown) => {
      if (testing === undefined) assertSingleFlushModule(modules);
      return resolveFlushOptions(options ?? {});
    },
    inject: [
      MODULE_OPTIONS_TOKEN,
      ModulesContainer,
      { token: FLUSH_TESTING_OPTIONS, optional: true },
    ],
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
