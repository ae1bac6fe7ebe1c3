import { SetMetadata } from '@nestjs/common';
import type { FlushSkipMode } from '../flush-module-options.interface.js';
import { FLUSH_SKIP_INTERCEPTORS_METADATA } from '../flush.internal-constants.js';

/**
 * Chooses, for the streaming routes of a controller or one route, which interceptors leave them
 * alone: `'global'` (default), `'all'` (also `@UseInterceptors()` ones) or `'none'`.
 * `@StreamSafe()` interceptors always run.
 * @example @Sse('feed') @FlushSkipInterceptors('all') feed() { ... }
 * @publicApi
 */
export const FlushSkipInterceptors = (mode: FlushSkipMode): ClassDecorator & MethodDecorator =>
  SetMetadata(FLUSH_SKIP_INTERCEPTORS_METADATA, mode);
