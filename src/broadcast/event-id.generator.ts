/**
 * Generates `<ms>-<seq>` ids that always increase, also when the clock stands still or steps
 * back (the Redis Stream id rule).
 * @internal
 */
export class EventIdGenerator {
  private lastMs = 0;
  private seq = 0;

  next(now = Date.now()): string {
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq++;
    }
    return `${this.lastMs}-${this.seq}`;
  }
}
