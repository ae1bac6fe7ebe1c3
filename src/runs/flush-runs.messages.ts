import { describeValue } from '../flush.messages.js';

/** Message factories of runs. @internal */
export const RUN_KEY_INVALID = (got: unknown) =>
  `A run key must be 1-200 characters from A-Z a-z 0-9 . _ - : / @; received ${describeValue(got)}.`;

export const RUN_LAST_EVENT_ID_INVALID = (got: unknown) =>
  `Last-Event-ID ${describeValue(got)} is not an event of this run: resume with the id of one of its events, or attach without one to read the whole run.`;

export const RUN_TTL_INVALID = (got: unknown) =>
  `hub.run() option "ttlMs" must be a whole number of milliseconds from 1 to 86400000 (24 h); received ${describeValue(got)}.`;

export const RUN_PRODUCER_INVALID = (got: unknown) =>
  `hub.run() producer must return an AsyncIterable, an Observable or a ReadableStream; returned ${describeValue(got)}.`;

export const RUN_NOT_FOUND = (key: string) =>
  `No run "${key}": it never started here, or its replay expired.`;

export const RUN_CONFLICT = (key: string) =>
  `A run "${key}" is live or its replay is still kept: attach to it, or start the new run under another key.`;

export const TOO_MANY_RUNS = (limit: number, retryAfterSeconds: number) =>
  `Too many runs: at most ${limit} at a time. Retry in ${retryAfterSeconds} s.`;

export const RUN_TOO_MANY_EVENTS = (limit: number) =>
  `The run produced more than ${limit} events (maxRunEvents).`;

export const RUN_SHUT_DOWN = 'The instance running it shut down.';

export const RUN_FAILED = (key: string) => `Run "${key}" failed; it ended with status "failed".`;

export const RUN_END_LOST = (key: string, message: string) =>
  `Run "${key}" ended, but its end event could not be published (${message}); its history expires on its own.`;

export const RUN_CONTROL_LOST = (what: string, message: string) =>
  `Runs: ${what} failed (${message}); leases lapse on their own within their time to live.`;
