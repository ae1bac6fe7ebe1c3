import { createHash, randomBytes } from 'node:crypto';

/** Bytes of randomness in a ticket: 256 bits. */
const TICKET_BYTES = 32;

/** A ticket: 32 random bytes as base64url, without padding (43 characters). */
const TICKET = /^[A-Za-z0-9_-]{43}$/;

/** A new ticket. @internal */
export const mintTicket = (): string => randomBytes(TICKET_BYTES).toString('base64url');

/** Whether `value` has the shape of a ticket (checked before the store is asked). @internal */
export const isWellFormedTicket = (value: string): boolean => TICKET.test(value);

/**
 * The control-plane id a ticket is stored under: a namespaced SHA-256 of it, so that the keys
 * in the store (e.g. `KEYS` on Redis) are not usable tickets themselves. @internal
 */
export const ticketStoreId = (ticket: string): string =>
  `ticket:${createHash('sha256').update(ticket).digest('base64url')}`;

/** What a ticket carries, as stored. @internal */
export interface StoredTicket {
  readonly subject: string;
  readonly channels: readonly string[];
}

/** The stored form of a ticket. @internal */
export const encodeTicket = (ticket: StoredTicket): string =>
  JSON.stringify({ subject: ticket.subject, channels: ticket.channels });

/** A stored ticket, or `undefined` when the stored text is not one. @internal */
export const decodeTicket = (text: string): StoredTicket | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { subject, channels } = (value ?? {}) as { subject?: unknown; channels?: unknown };
  if (typeof subject !== 'string' || !Array.isArray(channels)) return undefined;
  if (!channels.every((c): c is string => typeof c === 'string')) return undefined;
  return { subject, channels };
};

/**
 * The `ticket` query parameter of a request (express, fastify or a raw `IncomingMessage`): read
 * from the URL itself, so that neither framework's query parser (nor its options) matters.
 * No value without one; every value when it is given more than once.
 * @internal
 */
export const ticketsOfRequest = (request: unknown): string[] => {
  if (typeof request !== 'object' || request === null) return [];
  const r = request as { originalUrl?: unknown; url?: unknown; raw?: { url?: unknown } };
  const url = [r.originalUrl, r.url, r.raw?.url].find((u): u is string => typeof u === 'string');
  const query = url === undefined ? -1 : url.indexOf('?');
  if (url === undefined || query < 0) return [];
  const hash = url.indexOf('#', query);
  return new URLSearchParams(url.slice(query + 1, hash < 0 ? undefined : hash)).getAll('ticket');
};
