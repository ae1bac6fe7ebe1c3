import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import type { FlushSkipMode } from '../flush-module-options.interface.js';
import { FLUSH_STREAM_METADATA } from '../flush.internal-constants.js';
import type { FlushStreamMetadata } from '../interceptors/flush-metadata.accessor.js';
import { FlushRawStreamInterceptor } from '../interceptors/flush-raw-stream.interceptor.js';

/**
 * Marks a route that writes the response itself (`@Res()`, `@Res({ passthrough: true })`) as
 * streaming: global interceptors leave it alone, and once it has sent its headers Nest no longer
 * tries to send a body of its own (no `ERR_HTTP_HEADERS_SENT`). An error after the headers is
 * logged and ends the response.
 * @example
 * @Get('raw') @StreamingRoute()
 * raw(@Res({ passthrough: true }) res: Response) { res.write('a'); ... }
 * @publicApi
 */
export const StreamingRoute = (
  options: { skipInterceptors?: FlushSkipMode } = {},
): MethodDecorator => {
  const metadata: FlushStreamMetadata = { kind: 'raw', options: { ...options } };
  return applyDecorators(
    SetMetadata(FLUSH_STREAM_METADATA, metadata),
    UseInterceptors(FlushRawStreamInterceptor),
  );
};
