import { describe, expect, it, jest } from '@jest/globals';
import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { InMemoryFlushControlPlane } from '../broadcast/transports/in-memory.control-plane.js';
import { FlushUnavailableError } from '../broadcast/flush-unavailable.error.js';
import { bindStreamToRequest, type FlushStreamContext } from '../flush-stream.context.js';
import { FlushValidationError } from '../flush-validation.error.js';
import { ticketsOfRequest } from './flush-ticket.format.js';
import { FlushTickets } from './flush-tickets.service.js';

const setup = () => {
  const control = new InMemoryFlushControlPlane();
  const take = jest.spyOn(control, 'take');
  const put = jest.spyOn(control, 'put');
  return { control, take, put, tickets: new FlushTickets(control) };
};

describe('FlushTickets', () => {
  it('mints 256-bit base64url tickets, stored under a hash of the ticket, single use', async () => {
    const { tickets, put } = setup();
    const ticket = await tickets.issue({ subject: 'alice', channels: ['a', 'b', 'a'] });
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(ticket, 'base64url')).toHaveLength(32);
    const [id, value, ttl] = put.mock.calls[0];
    expect(id).toMatch(/^ticket:[A-Za-z0-9_-]{43}$/);
    expect(id).not.toContain(ticket);
    expect(JSON.parse(value)).toEqual({ subject: 'alice', channels: ['a', 'b'] });
    expect(ttl).toBe(30_000);
    expect(await tickets.redeem(ticket, ['b'])).toEqual({ subject: 'alice', channels: ['a', 'b'] });
    await expect(tickets.redeem(ticket, ['b'])).rejects.toThrow(UnauthorizedException);
  });

  it('refuses malformed tickets with a 401 without asking the store', async () => {
    const { tickets, take } = setup();
    for (const bad of ['', 'short', '*'.repeat(43), 'A'.repeat(44), 42 as unknown as string]) {
      await expect(tickets.redeem(bad, ['a'])).rejects.toThrow(/^Malformed stream ticket/);
    }
    expect(take).not.toHaveBeenCalled();
  });

  it('answers 403 for an uncovered channel after taking the ticket (it is used up)', async () => {
    const { tickets } = setup();
    const ticket = await tickets.issue({ subject: 'alice', channels: ['a'] });
    await expect(tickets.redeem(ticket, ['a', 'b'])).rejects.toThrow(ForbiddenException);
    await expect(tickets.redeem(ticket, ['a'])).rejects.toThrow(UnauthorizedException);
  });

  it('answers 503 while the control plane is unavailable', async () => {
    const { tickets, control } = setup();
    const outage = Object.assign(new Error('down'), { unavailable: true });
    jest.spyOn(control, 'put').mockRejectedValueOnce(outage);
    await expect(tickets.issue({ subject: 's', channels: ['a'] })).rejects.toThrow(
      FlushUnavailableError,
    );
    jest.spyOn(control, 'take').mockRejectedValueOnce(outage);
    await expect(tickets.redeem('A'.repeat(43), ['a'])).rejects.toThrow(FlushUnavailableError);
  });

  it('validates issue() input with FlushValidationError', async () => {
    const { tickets } = setup();
    for (const options of [
      undefined,
      { subject: '', channels: ['a'] },
      { subject: 'a\0', channels: ['a'] },
      { subject: 's', channels: Array.from({ length: 257 }, (_, i) => `c${i}`) },
      { subject: 's', channels: [1] },
      { subject: 's', channels: ['a'], ttlMs: '1000' },
    ]) {
      await expect(tickets.issue(options as never)).rejects.toThrow(FlushValidationError);
    }
  });

  it('redeems the ticket of a request and makes its subject the stream key', async () => {
    const { tickets } = setup();
    const ticket = await tickets.issue({ subject: 'alice', channels: ['a'] });
    const request = { url: `/sse/a?x=1&ticket=${ticket}` };
    const context: FlushStreamContext = {
      id: 's1',
      key: '10.0.0.1',
      channels: new Set(),
      position: undefined,
      ready: [],
    };
    bindStreamToRequest(request, context);
    expect(await tickets.redeemRequest(request, ['a'])).toBe(true);
    expect(context.key).toBe('alice');
    expect(await tickets.redeemRequest({ url: '/sse/a' }, ['a'])).toBe(false);
  });
});

describe('ticketsOfRequest', () => {
  it('reads ?ticket= from the URL of express, fastify and raw requests', () => {
    expect(ticketsOfRequest({ originalUrl: '/a?ticket=x', url: '/?' })).toEqual(['x']);
    expect(ticketsOfRequest({ url: '/a?ticket=x', raw: { url: '/a' } })).toEqual(['x']);
    expect(ticketsOfRequest({ raw: { url: '/a?b=1&ticket=y#z' } })).toEqual(['y']);
    expect(ticketsOfRequest({ url: '/a?ticket=x&ticket=y' })).toEqual(['x', 'y']);
    expect(ticketsOfRequest({ url: '/a?tickets=x' })).toEqual([]);
    expect(ticketsOfRequest({ url: '/a' })).toEqual([]);
    expect(ticketsOfRequest(undefined)).toEqual([]);
  });
});
