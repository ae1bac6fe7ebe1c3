/**
 * The `nestjs-flush/swagger` entry point: `@ApiFlush()` documents streaming routes for
 * `@nestjs/swagger`, the optional peer dependency it imports (never the root entry point).
 * @example
 * import { ApiFlush } from 'nestjs-flush/swagger';
 * @Sse('news') @ApiFlush({ events: { headline: HeadlineDto } }) news() { … }
 * @publicApi
 */
export {
  ApiFlush,
  type ApiFlushFormat,
  type ApiFlushOptions,
} from './swagger/api-flush.decorator.js';
