import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import type { FlushModuleOptions } from './flush-module-options.interface.js';

/**
 * Options `FlushTestingModule.forRoot()` lays over those of every `FlushModule` in the
 * application (a global provider, so the result does not depend on the import order). @internal
 */
export const FLUSH_TESTING_OPTIONS = Symbol('FLUSH:TESTING_OPTIONS');

/** The options as given to `forRoot()` / produced by `forRootAsync()`, before the testing overlay. @internal */
export const FLUSH_GIVEN_OPTIONS = Symbol('FLUSH:GIVEN_OPTIONS');

type ModuleOptions = Omit<FlushModuleOptions, 'isGlobal'>;

/**
 * Moves the builder's options provider to FLUSH_GIVEN_OPTIONS and provides the options token as
 * those options with the FlushTestingModule overlay, when one is registered, on top.
 */
const withTestingOverlay = (providers: Provider[] = []): Provider[] => [
  ...providers.map(provider =>
    typeof provider === 'object' && provider.provide === MODULE_OPTIONS_TOKEN
      ? { ...provider, provide: FLUSH_GIVEN_OPTIONS }
      : provider,
  ),
  {
    provide: MODULE_OPTIONS_TOKEN,
    useFactory: (given: ModuleOptions, testing?: ModuleOptions): ModuleOptions =>
      testing ? { ...given, ...testing } : given,
    inject: [FLUSH_GIVEN_OPTIONS, { token: FLUSH_TESTING_OPTIONS, optional: true }],
  },
];

/** @internal */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<ModuleOptions>({ moduleName: 'Flush' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createFlushOptions')
    .setExtras({ isGlobal: true }, (definition, extras) => ({
      ...definition,
      providers: withTestingOverlay(definition.providers),
      global: extras.isGlobal,
    }))
    .build();
