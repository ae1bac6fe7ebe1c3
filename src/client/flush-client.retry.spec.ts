import { describe, expect, it } from '@jest/globals';
import { backoffDelay, DEFAULT_RETRY, resolveRetryOptions } from './flush-client.retry.js';

const { initialDelayMs, maxDelayMs } = resolveRetryOptions();

describe('resolveRetryOptions', () => {
  it('defaults to the contract: 1 s doubling, a 30 s cap, 10 attempts', () => {
    expect(resolveRetryOptions()).toEqual({
      initialDelayMs: 1000,
      maxDelayMs: 30_000,
      maxAttempts: 10,
    });
    expect(resolveRetryOptions({ maxDelayMs: 50 })).toEqual({ ...DEFAULT_RETRY, maxDelayMs: 50 });
    expect(resolveRetryOptions({ maxAttempts: Infinity }).maxAttempts).toBe(Infinity);
  });

  it.each([
    [{ initialDelayMs: -1 }, 'retry.initialDelayMs must be a number >= 0; received -1'],
    [{ maxDelayMs: Infinity }, 'retry.maxDelayMs must be a number >= 0; received Infinity'],
    [{ maxDelayMs: NaN }, 'retry.maxDelayMs must be a number >= 0; received NaN'],
    [{ maxAttempts: 0 }, 'retry.maxAttempts must be a number >= 1; received 0'],
    [{ initialDelayMs: '1000' }, 'retry.initialDelayMs must be a number >= 0; received 1000'],
  ])('refuses %j with a TypeError naming the option', (options, message) => {
    expect(() => resolveRetryOptions(options as never)).toThrow(
      new TypeError(`FlushClient ${message}.`),
    );
  });
});

describe('backoffDelay with the defaults', () => {
  const top = () => 1 - Number.EPSILON; // Math.random() is < 1
  const bottom = () => 0;

  it('doubles from 1 s per failure, then stays at the 30 s cap', () => {
    const ceilings = Array.from({ length: 12 }, (_, i) =>
      Math.round(backoffDelay(i + 1, initialDelayMs, maxDelayMs, top)),
    );
    expect(ceilings).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000,
    ]);
    expect(backoffDelay(1000, initialDelayMs, maxDelayMs, top)).toBeLessThanOrEqual(30_000);
  });

  it('jitters each delay to 50-100 % of its ceiling', () => {
    for (let failures = 1; failures <= 12; failures++) {
      const ceiling = Math.min(30_000, 1000 * 2 ** (failures - 1));
      expect(backoffDelay(failures, initialDelayMs, maxDelayMs, bottom)).toBe(ceiling / 2);
      expect(backoffDelay(failures, initialDelayMs, maxDelayMs, () => 0.5)).toBe(ceiling * 0.75);
      for (let i = 0; i < 50; i++) {
        const ms = backoffDelay(failures, initialDelayMs, maxDelayMs);
        expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
        expect(ms).toBeLessThan(ceiling);
      }
    }
  });

  it("starts from the server's retry: field when it sent one", () => {
    expect(backoffDelay(1, 3000, maxDelayMs, top)).toBeCloseTo(3000);
    expect(backoffDelay(5, 3000, maxDelayMs, top)).toBeCloseTo(30_000);
    expect(backoffDelay(3, 250, maxDelayMs, bottom)).toBe(500);
  });
});
