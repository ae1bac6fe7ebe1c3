import { INVALID_CONTROL_ARGUMENT } from '../flush.messages.js';

/** Largest broadcast message, in bytes (UTF-8). @internal */
export const MAX_CONTROL_MESSAGE_BYTES = 64 * 1024;

/** Longest lease key, lease holder or value id, in characters. @internal */
export const MAX_CONTROL_ID_LENGTH = 1024;

/** Longest time to live of a lease or a value: one day. @internal */
export const MAX_CONTROL_TTL_MS = 86_400_000;

const fail = (method: string, argument: string, got: unknown, expected: string): never => {
  throw new TypeError(INVALID_CONTROL_ARGUMENT(method, argument, got, expected));
};

const isId = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_CONTROL_ID_LENGTH;

const isCount = (value: unknown, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;

/**
 * The argument checks of every FlushControlPlane implementation, so that both answer misuse
 * alike: a `TypeError` that names the method, the argument and what it must be (a bug in the
 * caller, not something a client sent).
 * @internal
 */
export const controlArgs = {
  message(method: string, message: unknown): void {
    if (typeof message !== 'string') fail(method, 'message', message, 'a string');
    if (Buffer.byteLength(message as string) > MAX_CONTROL_MESSAGE_BYTES)
      fail(method, 'message', `${(message as string).length} characters`, 'at most 64 KiB');
  },
  id(method: string, argument: string, value: unknown): void {
    if (!isId(value))
      fail(
        method,
        argument,
        value,
        `a non-empty string of at most ${MAX_CONTROL_ID_LENGTH} characters`,
      );
  },
  limit(method: string, limit: unknown): void {
    if (!isCount(limit, Number.MAX_SAFE_INTEGER))
      fail(method, 'limit', limit, 'a whole number >= 1');
  },
  ttl(method: string, ttlMs: unknown): void {
    if (!isCount(ttlMs, MAX_CONTROL_TTL_MS))
      fail(method, 'ttlMs', ttlMs, `whole milliseconds from 1 to ${MAX_CONTROL_TTL_MS}`);
  },
  value(method: string, value: unknown): void {
    if (typeof value !== 'string') fail(method, 'value', value, 'a string');
  },
  leases(method: string, leases: unknown): void {
    if (!Array.isArray(leases)) fail(method, 'leases', leases, 'an array of { key, holder }');
    for (const lease of leases as unknown[]) {
      const { key, holder } = (lease ?? {}) as { key?: unknown; holder?: unknown };
      controlArgs.id(method, 'lease.key', key);
      controlArgs.id(method, 'lease.holder', holder);
    }
  },
};
