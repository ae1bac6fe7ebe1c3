import type { FlushRetryOptions } from './flush-client.types.js';

/** The defaults of {@link FlushRetryOptions}. @internal */
export const DEFAULT_RETRY: Readonly<Required<FlushRetryOptions>> = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  maxAttempts: 10,
};

/**
 * The retry options with their defaults; throws a `TypeError` naming the option for a delay that
 * is not a finite number >= 0, or a `maxAttempts` below 1 (`Infinity`: never give up). @internal
 */
export const resolveRetryOptions = (
  options: FlushRetryOptions = {},
): Required<FlushRetryOptions> => {
  const resolved = { ...DEFAULT_RETRY, ...options };
  for (const [name, value] of Object.entries(resolved)) {
    const min = name === 'maxAttempts' ? 1 : 0;
    if (typeof value !== 'number' || !(value >= min) || (!min && !Number.isFinite(value)))
      throw new TypeError(
        `FlushClient retry.${name} must be a number >= ${min}; received ${String(value)}.`,
      );
  }
  return resolved;
};

/**
 * The wait before the next attempt after `failures` failed attempts in a row (1 for the first):
 * `baseMs` doubling per failure, capped at `maxDelayMs`, then jittered to 50-100 % so that clients
 * failing together do not come back together. @internal
 */
export const backoffDelay = (
  failures: number,
  baseMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number => Math.min(maxDelayMs, baseMs * 2 ** (failures - 1)) * (0.5 + random() / 2);
