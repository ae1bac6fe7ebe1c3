/**
 * What FlushHub needs from stream tickets (implemented by `FlushTickets` in `controls/`, which
 * depends on the hub, never the other way): redeem the ticket a request carries, if any, for
 * the channels it opens.
 * @internal
 */
export interface FlushTicketRedeemer {
  /**
   * `false` when the request carries no `?ticket=` (the hub applies its `authorize` rules).
   * Otherwise redeems the ticket (single use) and resolves to `true` once it covers every one of
   * `channels`, with the ticket's subject as the stream key; rejects with a 401 for a ticket
   * that is malformed, unknown, used or expired, a 403 for a channel it does not cover, a 503
   * while the transport cannot answer.
   */
  redeemRequest(request: unknown, channels: readonly string[]): Promise<boolean>;
}

/** Injection token of the ticket redeemer FlushHub consults in `streamFor()`. @internal */
export const FLUSH_TICKET_REDEEMER = Symbol('FLUSH:TICKET_REDEEMER');
