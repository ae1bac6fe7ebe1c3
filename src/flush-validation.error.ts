import { BadRequestException } from '@nestjs/common';

/**
 * Thrown for invalid client input or invalid hub arguments (channel names, event names).
 * It is a `BadRequestException`, so HTTP routes answer it with a 400.
 * @publicApi
 */
export class FlushValidationError extends BadRequestException {
  override name = 'FlushValidationError';
}
