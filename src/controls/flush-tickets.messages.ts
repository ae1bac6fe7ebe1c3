import { describeValue } from '../flush.messages.js';

/** Messages of stream tickets. @internal */

export const TICKET_MALFORMED =
  'Malformed stream ticket: "ticket" must be one value of 43 base64url characters, as FlushTickets.issue() returns it.';

// One message for unknown, used and expired: which one it was is not the client's business.
export const TICKET_REJECTED =
  'Invalid stream ticket: unknown, already used or expired. Fetch a new ticket and connect again.';

export const TICKET_CHANNEL_NOT_COVERED = (channel: string) =>
  `The stream ticket does not cover channel ${JSON.stringify(channel)} (the ticket is used up).`;

export const INVALID_TICKET_OPTION = (option: string, got: unknown, expected: string) =>
  `FlushTickets.issue(): "${option}" must be ${expected}; received ${describeValue(got)}.`;
