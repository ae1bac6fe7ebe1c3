import { MODULE_OPTIONS_TOKEN } from './flush.module-definition.js';

/**
 * Injection token of the options given to `FlushModule.forRoot()` / `forRootAsync()`,
 * as the user wrote them (see `FLUSH_OPTIONS` for the resolved ones).
 * @publicApi
 */
export const FLUSH_MODULE_OPTIONS = MODULE_OPTIONS_TOKEN;
