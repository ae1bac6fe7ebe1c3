import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Logger, type INestApplication } from '@nestjs/common';
import { EventSource } from 'eventsource';
import { InMemoryFlushTransport, type FlushTransport } from '../src/index.js';
import { FLUSH_CONTROL_PLANE } from '../src/flush.internal-constants.js';
import type { FlushControlPlane } from '../src/broadcast/flush-control-plane.interface.js';
import { RedisFlushTransport } from '../src/redis.js';
import { baseUrl } from '../src/testing/index.js';
import { ticketsInstance } from './fixtures/tickets/tickets.controller.js';
import { waitForExpiryOf } from './utils/control-plane.conformance.js';
import { subscribers } from './utils/hub.js';
import { rawRequest, type RawResponse } from './utils/http.js';
import { parseJson } from './utils/json.js';
import { platforms, startApp } from './utils/platforms.js';
import { describeWithRedis, REDIS_URL } from './utils/redis-server.js';

const MALFORMED = /^Malformed stream ticket/;
const REJECTED =
  'Invalid stream ticket: unknown, already used or expired. Fetch a new ticket and connect again.';

/** Mints a ticket on `app` for user alice (or `subject`) through the app's guarded route. */
const mint = async (
  app: INestApplication,
  body: { channels: unknown; ttlMs?: unknown; subject?: unknown },
): Promise<RawResponse> =>
  rawRequest(app, '/tickets', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user': 'alice' },
    body: JSON.stringify(body),
  });

const ticketFor = async (app: INestApplication, channels: string[], ttlMs?: number) => {
  const res = await mint(app, { channels, ttlMs });
  expect(res.status).toBe(201);
  return parseJson<{ ticket: string }>(res.body).ticket;
};

const publish = (app: INestApplication, channel: string, data: unknown) =>
  rawRequest(app, `/publish/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data }),
  });

/** The status and JSON message of a request that is answered before any stream byte. */
const refusal = async (app: INestApplication, path: string) => {
  const res = await rawRequest(app, path, { stopAfterMs: 2000 });
  const body =
    res.headers['content-type']?.includes('json') === true
      ? parseJson<{ message?: unknown }>(res.body)
      : {};
  return { status: res.status, message: body.message };
};

/**
 * Opens `/sse/<channel>?ticket=` on `reader` with a real EventSource, publishes on `publisher`
 * once the stream listens, and resolves to the data received.
 */
const streamWithTicket = async (
  reader: INestApplication,
  publisher: INestApplication,
  channel: string,
  ticket: string,
): Promise<string> => {
  const es = new EventSource(`${baseUrl(reader)}/sse/${channel}?ticket=${ticket}`);
  try {
    const received = new Promise<string>((resolve, reject) => {
      es.onmessage = (e: MessageEvent<string>) => resolve(e.data);
      es.onerror = () => reject(new Error('the EventSource failed'));
    });
    await subscribers(reader, channel, 1);
    expect((await publish(publisher, channel, 'hello')).status).toBe(201);
    return await received;
  } finally {
    es.close();
  }
};

/** The ticket behaviour every deployment shows: `a` mints, `b` streams (the same app in memory). */
const ticketContract = (apps: () => { a: INestApplication; b: INestApplication }) => {
  const channel = () => `room-${randomUUID()}`;

  it('refuses a stream without a ticket by the authorize rules (403), and minting by the app guard (401)', async () => {
    const { a, b } = apps();
    expect((await refusal(b, `/sse/${channel()}`)).status).toBe(403);
    const res = await rawRequest(a, '/tickets', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channels: ['room'] }),
    });
    expect(res.status).toBe(401);
  });

  it('opens the stream once with a ticket (a real EventSource); a second use is a 401', async () => {
    const { a, b } = apps();
    const room = channel();
    const ticket = await ticketFor(a, [room, 'other']);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await streamWithTicket(b, a, room, ticket)).toBe('hello');
    expect(await refusal(b, `/sse/${room}?ticket=${ticket}`)).toEqual({
      status: 401,
      message: REJECTED,
    });
    expect((await refusal(a, `/sse/other?ticket=${ticket}`)).status).toBe(401);
  });

  it('opens @Flush() streams with a ticket too', async () => {
    const { a, b } = apps();
    const room = channel();
    const ticket = await ticketFor(a, [room]);
    const reading = rawRequest(b, `/flush/${room}?ticket=${ticket}`, {
      onData: body => body.includes('hello'),
    });
    await subscribers(b, room, 1);
    await publish(a, room, 'hello');
    const res = await reading;
    expect(res.status).toBe(200);
    expect(res.body).toContain('data: hello');
  });

  it('answers 401 for an expired ticket', async () => {
    const { a, b } = apps();
    const room = channel();
    const ticket = await ticketFor(a, [room], 200);
    await waitForExpiryOf(a.get<FlushControlPlane>(FLUSH_CONTROL_PLANE), 200);
    expect(await refusal(b, `/sse/${room}?ticket=${ticket}`)).toEqual({
      status: 401,
      message: REJECTED,
    });
  });

  it('answers 401 with a message for malformed tickets, without asking the store or failing', async () => {
    const { a, b } = apps();
    const room = channel();
    const valid = await ticketFor(a, [room]);
    for (const query of [
      'ticket=',
      'ticket=short',
      `ticket=${'*'.repeat(43)}`,
      `ticket=${valid}x`,
      `ticket=${'A'.repeat(8_000)}`,
      'ticket=%ZZ%00%0d%0a',
      `ticket=${valid}&ticket=${valid}`,
      `ticket[]=${valid}&ticket=x`,
    ]) {
      const answer = await refusal(b, `/sse/${room}?${query}`);
      expect(answer.status).toBe(401);
      expect(answer.message).toMatch(MALFORMED);
    }
    // Still serving, and the valid ticket was not spent by the repeated-parameter request.
    expect(await streamWithTicket(b, a, room, valid)).toBe('hello');
  });

  it('answers 403 for a channel the ticket does not cover, and the ticket is used up', async () => {
    const { a, b } = apps();
    const room = channel();
    const ticket = await ticketFor(a, [room]);
    expect(await refusal(b, `/sse/elsewhere?ticket=${ticket}`)).toEqual({
      status: 403,
      message: 'The stream ticket does not cover channel "elsewhere" (the ticket is used up).',
    });
    expect((await refusal(b, `/sse/${room}?ticket=${ticket}`)).status).toBe(401);
  });

  it('lets exactly one of many concurrent connects with the same ticket in', async () => {
    const { a, b } = apps();
    const room = channel();
    const ticket = await ticketFor(a, [room]);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        rawRequest(i % 2 ? a : b, `/sse/${room}?ticket=${ticket}`, { stopAfterMs: 500 }),
      ),
    );
    expect(answers.map(r => r.status).sort()).toEqual([200, ...Array<number>(9).fill(401)]);
  });

  it('answers 400 with a message for invalid issue() input', async () => {
    const { a } = apps();
    const cases: [unknown, RegExp][] = [
      [{ channels: ['room'], subject: 'a\nb' }, /"subject" must be a string of 1-256 characters/],
      [{ channels: ['room'], subject: 'x'.repeat(257) }, /"subject"/],
      [{ channels: [] }, /"channels" must be an array of 1-256 channel names/],
      [{ channels: 'room' }, /"channels"/],
      [{ channels: ['bad channel'] }, /"channels" must be valid channel names.*"bad channel"/],
      [{ channels: ['room'], ttlMs: 0 }, /"ttlMs" must be whole milliseconds from 1 to 3600000/],
      [{ channels: ['room'], ttlMs: 1.5 }, /"ttlMs"/],
      [{ channels: ['room'], ttlMs: 3_600_001 }, /"ttlMs"/],
    ];
    for (const [body, message] of cases) {
      const res = await mint(a, body as { channels: unknown });
      expect(res.status).toBe(400);
      expect(parseJson<{ message: string }>(res.body).message).toMatch(message);
    }
  });
};

/**
 * The ticket's subject is the stream key: with `maxStreamsPerKey: 1`, a second stream of the
 * same subject is refused (429) although every request comes from the same client IP, and a
 * stream of another subject is not.
 */
const subjectIsTheStreamKey = (apps: () => { a: INestApplication; b: INestApplication }) => {
  it("makes the ticket's subject the stream key (maxStreamsPerKey counts subjects, not the client IP)", async () => {
    const { a, b } = apps();
    const room = `room-${randomUUID()}`;
    const subject = `user-${randomUUID()}`;
    const mintFor = async (app: INestApplication, who: string) =>
      parseJson<{ ticket: string }>((await mint(app, { channels: [room], subject: who })).body)
        .ticket;
    const es = new EventSource(`${baseUrl(a)}/sse/${room}?ticket=${await mintFor(a, subject)}`);
    try {
      await new Promise<void>((resolve, reject) => {
        es.onopen = () => resolve();
        es.onerror = () => reject(new Error('the first stream failed'));
      });
      expect((await refusal(b, `/sse/${room}?ticket=${await mintFor(a, subject)}`)).status).toBe(
        429,
      );
      const other = await rawRequest(b, `/sse/${room}?ticket=${await mintFor(b, `${subject}-2`)}`, {
        stopAfterMs: 300,
      });
      expect(other.status).toBe(200);
    } finally {
      es.close();
    }
  });
};

describe.each(platforms)('Stream tickets in memory (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [ticketsInstance()]);
  });
  afterAll(() => app.close());

  ticketContract(() => ({ a: app, b: app }));

  describe('with maxStreamsPerKey: 1', () => {
    let capped: INestApplication;
    beforeAll(async () => {
      capped = await startApp(platform, [ticketsInstance(undefined, { maxStreamsPerKey: 1 })]);
    });
    afterAll(() => capped.close());

    subjectIsTheStreamKey(() => ({ a: capped, b: capped }));
  });
});

describeWithRedis('The Redis stream ticket suite').each(platforms)(
  'Stream tickets across two instances on one Redis (%s)',
  platform => {
    let a: INestApplication;
    let b: INestApplication;
    let cappedA: INestApplication;
    let cappedB: INestApplication;
    beforeAll(async () => {
      const keyPrefix = `flush-tickets:${randomUUID()}:`;
      const transport = () => new RedisFlushTransport({ url: REDIS_URL, keyPrefix, logger: false });
      a = await startApp(platform, [ticketsInstance(transport())]);
      b = await startApp(platform, [ticketsInstance(transport())]);
      const capped = { maxStreamsPerKey: 1 };
      cappedA = await startApp(platform, [ticketsInstance(transport(), capped)]);
      cappedB = await startApp(platform, [ticketsInstance(transport(), capped)]);
    });
    afterAll(async () => {
      for (const app of [a, b, cappedA, cappedB]) await app?.close();
    });

    // Minted on one instance, used on the other.
    ticketContract(() => ({ a, b }));
    subjectIsTheStreamKey(() => ({ a: cappedA, b: cappedB }));
  },
);

describe('FlushModule with a transport that has no control plane', () => {
  it('says so once at bootstrap, and tickets still work on this instance', async () => {
    const inner = new InMemoryFlushTransport();
    const custom: FlushTransport = {
      publish: (channel, event) => inner.publish(channel, event),
      subscribe: (channel, listener) => inner.subscribe(channel, listener),
      replay: (channel, id) => inner.replay(channel, id),
    };
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const app = await startApp('express', [ticketsInstance(custom)]);
    try {
      const warnings = warn.mock.contexts.map((logger, i): [unknown, unknown] => [
        (logger as Logger)['context'],
        warn.mock.calls[i][0],
      ]);
      expect(warnings.filter(([, m]) => String(m).includes('has no control plane'))).toEqual([
        [
          'FlushModule',
          'The transport given in the options has no control plane: stream caps, revocation and tickets hold on this instance only. ' +
            'Give the transport a "control" (FlushControlPlane), or use RedisFlushTransport for many instances.',
        ],
      ]);
      const room = `room-${randomUUID()}`;
      expect(await streamWithTicket(app, app, room, await ticketFor(app, [room]))).toBe('hello');
    } finally {
      warn.mockRestore();
      await app.close();
    }
  });
});
