import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FlushModuleOptions } from './flush-module-options.interface.js';

/** @internal */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<Omit<FlushModuleOptions, 'isGlobal'>>({ moduleName: 'Flush' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createFlushOptions')
    .setExtras({ isGlobal: true }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
    }))
    .build();
