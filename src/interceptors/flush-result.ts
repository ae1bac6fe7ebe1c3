/**
 * What a `@Flush()` handler hands to FlushInterceptor: its return value as it is (a Promise, an
 * Observable, an iterable), so Nest neither flattens nor sends it.
 * @internal
 */
export class FlushResult {
  constructor(readonly value: unknown) {}

  /** Finds a FlushResult in what an inner interceptor emitted (possibly wrapped in an object). */
  static find(emitted: unknown): FlushResult | undefined {
    if (emitted instanceof FlushResult) return emitted;
    if (
      emitted &&
      typeof emitted === 'object' &&
      Object.getPrototypeOf(emitted) === Object.prototype
    ) {
      for (const value of Object.values(emitted)) if (value instanceof FlushResult) return value;
    }
    return undefined;
  }
}
