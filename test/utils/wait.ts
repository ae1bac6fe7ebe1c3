/**
 * The one way tests wait: poll an observable condition until it holds, with a deadline.
 * No test sleeps "long enough" for something to happen; it waits for the thing itself.
 */

/** Resolves after `ms`. For pacing inside a scenario only, never as synchronisation. */
export const delay = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Polls `condition` (every `intervalMs`, 10 ms by default) until it returns true; throws
 * `Timed out after <deadlineMs> ms waiting for <what>` once the deadline has passed.
 * The condition may be async; an exception it throws fails the wait at once.
 */
export const waitFor = async (
  condition: () => boolean | Promise<boolean>,
  what: string,
  deadlineMs = 5000,
  intervalMs = 10,
): Promise<void> => {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > end) throw new Error(`Timed out after ${deadlineMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
};
