import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FlushControlPlane } from '../broadcast/flush-control-plane.interface.js';
import { isValidChannel } from '../broadcast/flush-channel.util.js';
import type { FlushTicketRedeemer } from '../broadcast/flush-ticket-redeemer.interface.js';
import { isTransportUnavailable } from '../broadcast/flush-transport.interface.js';
import { FlushUnavailableError } from '../broadcast/flush-unavailable.error.js';
import { currentStream, streamOfRequest } from '../flush-stream.context.js';
import { FlushValidationError } from '../flush-validation.error.js';
import { FLUSH_CONTROL_PLANE } from '../flush.internal-constants.js';
import {
  decodeTicket,
  encodeTicket,
  isWellFormedTicket,
  mintTicket,
  ticketsOfRequest,
  ticketStoreId,
} from './flush-ticket.format.js';
import {
  INVALID_TICKET_OPTION,
  TICKET_CHANNEL_NOT_COVERED,
  TICKET_MALFORMED,
  TICKET_REJECTED,
} from './flush-tickets.messages.js';

/** Options of `FlushTickets.issue()`. @publicApi */
export interface FlushTicketOptions {
  /**
   * Whose stream it is (e.g. the user id): becomes the stream key of the stream opened with the
   * ticket. 1-256 characters without CR, LF or NUL.
   */
  subject: string;
  /** The channels the ticket opens (1-256 valid channel names). A stream may open a subset. */
  channels: readonly string[];
  /** How long the ticket can be used, in whole milliseconds (1 to 3 600 000). @default 30000 */
  ttlMs?: number;
}

/** What a redeemed ticket carried. @publicApi */
export interface FlushTicket {
  readonly subject: string;
  readonly channels: readonly string[];
}

/** Default lifetime of a ticket. */
const DEFAULT_TTL_MS = 30_000;
const MAX_TTL_MS = 3_600_000;
const MAX_SUBJECT_LENGTH = 256;
const MAX_CHANNELS = 256;
const SUBJECT = /^[^\r\n\0]+$/;

/**
 * Stream tickets: short-lived, single-use credentials for opening a stream where a browser
 * cannot send headers (`EventSource` has no `Authorization`). A guarded route mints one with
 * `issue({ subject, channels })`; the client opens the stream with `?ticket=<ticket>`; the
 * stream route's `hub.streamFor(request, channel)` accepts it in place of the `authorize` rules,
 * once, on any instance sharing the transport (tickets are stored through its control plane:
 * memory, or Redis).
 *
 * - A ticket is 256 random bits, base64url (43 characters); the store keeps only its SHA-256.
 * - Malformed, unknown, used or expired: 401. A channel the ticket does not cover: 403, and the
 *   ticket is used up (it is taken before its channels are compared: one atomic step, and a
 *   stolen ticket cannot be used to probe channels).
 * - The ticket's subject becomes the stream key (for `maxStreamsPerKey`, `hub.disconnect({ key })`,
 *   `publish(…, { to })`).
 * @example
 * @Post('tickets') @UseGuards(AuthGuard)
 * ticket(@Req() req) { return this.tickets.issue({ subject: req.user.id, channels: [`users/${req.user.id}`] }); }
 * @publicApi
 */
@Injectable()
export class FlushTickets implements FlushTicketRedeemer {
  constructor(@Inject(FLUSH_CONTROL_PLANE) private readonly control: FlushControlPlane) {}

  /**
   * Mints a ticket for `subject` and `channels`, valid once within `ttlMs`. Rejects with a
   * `FlushValidationError` (400) for invalid options, a `FlushUnavailableError` (503) while the
   * transport cannot store it.
   */
  async issue(options: FlushTicketOptions): Promise<string> {
    const { subject, channels, ttlMs } = checkIssueOptions(options);
    const ticket = mintTicket();
    await this.store(() =>
      this.control.put(ticketStoreId(ticket), encodeTicket({ subject, channels }), ttlMs),
    );
    return ticket;
  }

  /**
   * Redeems `ticket` (single use) for `channels`: resolves to what it carried; rejects with an
   * `UnauthorizedException` (401) for a ticket that is malformed, unknown, used or expired, a
   * `ForbiddenException` (403) for a channel it does not cover (the ticket is used up then), a
   * `FlushUnavailableError` (503) while the transport cannot answer. For routes that check a
   * ticket themselves; hub streams use `hub.streamFor()`, which calls it.
   */
  async redeem(ticket: string, channels: readonly string[]): Promise<FlushTicket> {
    if (typeof ticket !== 'string' || !isWellFormedTicket(ticket))
      throw new UnauthorizedException(TICKET_MALFORMED);
    const stored = await this.store(() => this.control.take(ticketStoreId(ticket)));
    const redeemed = stored === undefined ? undefined : decodeTicket(stored);
    if (!redeemed) throw new UnauthorizedException(TICKET_REJECTED);
    const uncovered = channels.find(channel => !redeemed.channels.includes(channel));
    if (uncovered !== undefined)
      throw new ForbiddenException(TICKET_CHANNEL_NOT_COVERED(uncovered));
    return redeemed;
  }

  /** @internal FlushHub's hook: see `FlushTicketRedeemer`. */
  async redeemRequest(request: unknown, channels: readonly string[]): Promise<boolean> {
    const given = ticketsOfRequest(request);
    if (given.length === 0) return false;
    if (given.length > 1) throw new UnauthorizedException(TICKET_MALFORMED);
    const { subject } = await this.redeem(given[0], channels);
    const stream = streamOfRequest(request) ?? currentStream();
    if (stream) stream.key = subject;
    return true;
  }

  /** A control-plane call; an outage becomes a 503 with `retryAfter`. */
  private async store<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw isTransportUnavailable(err)
        ? new FlushUnavailableError(undefined, { cause: err })
        : err;
    }
  }
}

/** The options of `issue()`, checked, with the default ttl applied. */
const checkIssueOptions = (options: FlushTicketOptions): Required<FlushTicketOptions> => {
  const fail = (option: string, got: unknown, expected: string): never => {
    throw new FlushValidationError(INVALID_TICKET_OPTION(option, got, expected));
  };
  if (typeof options !== 'object' || options === null)
    fail('options', options, 'an object { subject, channels, ttlMs? }');
  const { subject, channels, ttlMs = DEFAULT_TTL_MS } = options;
  if (typeof subject !== 'string' || subject.length > MAX_SUBJECT_LENGTH || !SUBJECT.test(subject))
    fail(
      'subject',
      subject,
      `a string of 1-${MAX_SUBJECT_LENGTH} characters without CR, LF or NUL`,
    );
  if (!Array.isArray(channels) || channels.length === 0 || channels.length > MAX_CHANNELS)
    fail('channels', channels, `an array of 1-${MAX_CHANNELS} channel names`);
  const invalid = (channels as readonly unknown[]).find(channel => !isValidChannel(channel));
  if (invalid !== undefined)
    fail(
      'channels',
      invalid,
      'valid channel names (1-200 characters from A-Z a-z 0-9 and . _ - : / @)',
    );
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS)
    fail('ttlMs', ttlMs, `whole milliseconds from 1 to ${MAX_TTL_MS}`);
  return { subject, channels: [...new Set(channels)], ttlMs };
};
