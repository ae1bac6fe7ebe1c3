import { BadRequestException } from '@nestjs/common';
import { markAsFlushError } from './flush.errors.js';

/**
 * Thrown for invalid client input or invalid hub arguments (channel names, event names).
 * It is a `BadRequestException`, so HTTP routes answer it with a 400, and a `FlushError`
 * (`err instanceof FlushError`).
 * @publicApi
 */
export class FlushValidationError extends BadRequestException {
  override name = 'FlushValidationError';
}
markAsFlushError(FlushValidationError);
