import { SetMetadata } from '@nestjs/common';
import { FLUSH_STREAM_SAFE_METADATA } from '../flush.internal-constants.js';

/**
 * Keeps an interceptor running on streaming routes (logging, metrics, tracing). Without it,
 * interceptors registered globally leave streaming routes alone once `FlushModule` is imported.
 * @example
 * @StreamSafe()
 * @Injectable()
 * export class LoggingInterceptor implements NestInterceptor { ... }
 * @publicApi
 */
export const StreamSafe = (): ClassDecorator => SetMetadata(FLUSH_STREAM_SAFE_METADATA, true);
