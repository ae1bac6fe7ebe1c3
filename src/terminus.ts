/**
 * The `nestjs-flush/terminus` entry point: the health of FlushHub's transport for
 * `@nestjs/terminus` (11 or later), the optional peer dependency it loads at bootstrap (never the
 * root entry point).
 * @example
 * import { FlushHealthIndicator } from 'nestjs-flush/terminus';
 * @Module({ imports: [TerminusModule], controllers: [HealthController], providers: [FlushHealthIndicator] })
 * @publicApi
 */
export { FlushHealthIndicator } from './terminus/flush-health.indicator.js';
