// Issue 18 (1-3): whose stream it is, how many, for how long, and revocation, in memory, on both
// adapters, on every kind of streaming route (Nest's @Sse(), @Flush(), hub and plain sources).
import { expect } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { FlushHub, FlushMetrics, FlushValidationError } from '../src/index.js';
import { parseSseStream } from '../src/testing/index.js';
import { controlsApp, userKey } from './fixtures/controls/controls.controller.js';
import { openStream, rawRequest, type OpenStream } from './utils/http.js';
import { recordingLogger } from './utils/logger.js';
import { parseJson } from './utils/json.js';
import { platforms, startApp } from './utils/platforms.js';
import { waitFor } from './utils/wait.js';

const as = (user: string, extra: Record<string, string> = {}) => ({ 'x-user': user, ...extra });

/** Waits until a stream is open (200 and its first bytes or none: the headers arrived). */
const opened = async (stream: OpenStream) => {
  await stream.responded();
  expect(stream.status).toBe(200);
  return stream;
};

const expectTooMany = (
  answer: { status: number; headers: Record<string, unknown>; body: string },
  limit: number,
) => {
  expect(answer.status).toBe(429);
  expect(answer.headers['retry-after']).toBe('5');
  expect(answer.headers['content-type']).not.toMatch(/event-stream/);
  expect(parseJson(answer.body)).toEqual({
    statusCode: 429,
    error: 'Too Many Requests',
    message: expect.stringContaining(`at most ${limit} per client`),
    retryAfter: 5,
  });
};

describe.each(platforms)('stream controls (%s)', platform => {
  let app: INestApplication;
  let streams: OpenStream[] = [];
  const logger = recordingLogger();
  const open = (path: string, headers: Record<string, string>) => {
    const stream = openStream(app, path, headers);
    streams.push(stream);
    return stream;
  };
  const openCount = () => app.get(FlushMetrics).openStreams;

  beforeAll(async () => {
    app = await startApp(
      platform,
      [
        controlsApp({
          streamKey: userKey,
          maxStreamsPerKey: 2,
          expiresAt: (req: { headers: Record<string, string | undefined> }) =>
            req.headers['x-exp'] === undefined ? undefined : Number(req.headers['x-exp']),
        }),
      ],
      a => a.useLogger(logger),
    );
  });
  afterEach(async () => {
    for (const stream of streams) stream.close();
    streams = [];
    await waitFor(() => openCount() === 0, 'every stream of the test to end');
  });
  afterAll(() => app.close());

  describe('maxStreamsPerKey', () => {
    it('answers 429 with Retry-After before any byte over the limit, per key, on @Sse() and @Flush()', async () => {
      await opened(open('/controls/sse/news', as('a')));
      await opened(open('/controls/idle', as('a')));
      expectTooMany(await rawRequest(app, '/controls/sse/news', { headers: as('a') }), 2);
      expectTooMany(await rawRequest(app, '/controls/ndjson/news', { headers: as('a') }), 2);
      expectTooMany(await rawRequest(app, '/controls/idle', { headers: as('a') }), 2);
      // Another key has its own slots; a request without a key is not counted.
      await opened(open('/controls/idle', as('b')));
      await opened(open('/controls/idle', {}));
      await opened(open('/controls/idle', {}));
      await opened(open('/controls/idle', {}));
    });

    it('frees the slot when a stream ends, whatever ended it', async () => {
      // The client leaves.
      const left = await opened(open('/controls/idle', as('c')));
      await opened(open('/controls/idle', as('c')));
      left.close();
      await waitFor(async () => {
        const next = openStream(app, '/controls/idle', as('c'));
        await next.responded();
        streams.push(next);
        return next.status === 200;
      }, 'the slot of the client that left');

      // The producer completes, or fails: both give the slot back at once.
      for (const path of ['/controls/short', '/controls/failing'])
        for (let i = 0; i < 4; i++) {
          const answer = await rawRequest(app, path, { headers: as('d') });
          expect(answer.status).toBe(200);
        }

      // Revoked and expired streams too.
      for (let i = 0; i < 3; i++) {
        const revoked = await opened(open('/controls/idle', as('e')));
        await app.get(FlushHub).disconnect({ key: 'e' });
        await revoked.done;
      }
      for (let i = 0; i < 3; i++) {
        const expired = await opened(
          open('/controls/idle', as('f', { 'x-exp': String(Date.now() + 50) })),
        );
        await expired.done;
      }
      await opened(open('/controls/idle', as('f')));
      await opened(open('/controls/idle', as('f')));
    });

    it('holds on @StreamingRoute() routes too: 429 before the handler writes, the end on revocation', async () => {
      const first = await opened(open('/controls/raw', as('r')));
      await opened(open('/controls/raw', as('r')));
      expectTooMany(await rawRequest(app, '/controls/raw', { headers: as('r') }), 2);
      await app.get(FlushHub).disconnect({ key: 'r' });
      await first.done;
      expect(first.body).toBe('open\n');
      await waitFor(async () => {
        const next = openStream(app, '/controls/raw', as('r'));
        await next.responded();
        streams.push(next);
        return next.status === 200;
      }, 'the slots of the revoked raw streams');
    });

    it('takes @FlushLimits() of the route over the class over the module', async () => {
      await opened(open('/controls/one-per-key', as('g')));
      expectTooMany(await rawRequest(app, '/controls/one-per-key', { headers: as('g') }), 1);
      for (let i = 0; i < 3; i++) await opened(open('/controls/unlimited', as('g')));
      await opened(open('/limited/a', as('h')));
      expectTooMany(await rawRequest(app, '/limited/a', { headers: as('h') }), 1);
      await opened(open('/limited/b', as('h')));
      await opened(open('/limited/b', as('h')));
      expectTooMany(await rawRequest(app, '/limited/b', { headers: as('h') }), 2);
    });
  });

  describe('maxLifetimeMs and expiresAt', () => {
    it('ends an SSE stream at its lifetime with event: expired, its position as id, a retry hint', async () => {
      const hub = app.get(FlushHub);
      const stream = await opened(open('/controls/short-lived/life', as('i')));
      await waitFor(async () => {
        await hub.publish('life', 'x');
        return stream.body.includes('data: x');
      }, 'a live event');
      const last = await hub.publish('life', 'last');
      await stream.done;
      expect(stream.ended).toBe(true);
      const { events, retries } = parseSseStream(stream.body);
      const expired = events.at(-1)!;
      expect(expired.event).toBe('expired');
      expect(parseJson(expired.data)).toEqual({ reason: 'lifetime' });
      expect(expired.id).toBe(last); // the reconnect resumes where the stream was
      expect(retries.at(-1)).toBeGreaterThanOrEqual(250);
      expect(retries.at(-1)).toBeLessThanOrEqual(1000);
    });

    it('ends an NDJSON stream with an {"expired": …} line', async () => {
      const stream = await opened(open('/controls/short-lived-ndjson', as('j')));
      await stream.done;
      expect(stream.ended).toBe(true);
      expect(
        stream.body
          .trim()
          .split('\n')
          .map(line => parseJson(line)),
      ).toEqual([{ expired: { reason: 'lifetime' } }]);
    });

    it('ends at expiresAt(request); a time already past ends the stream right after it opens', async () => {
      const soon = await opened(
        open('/controls/idle', as('k', { 'x-exp': String(Date.now() + 200) })),
      );
      const past = await opened(
        open('/controls/idle', as('k', { 'x-exp': String(Date.now() - 1000) })),
      );
      await Promise.all([soon.done, past.done]);
      for (const stream of [soon, past]) {
        const { events } = parseSseStream(stream.body);
        expect(events.map(e => e.event)).toEqual(['expired']);
      }
    });
  });

  describe('hub.disconnect()', () => {
    it('ends the streams of a key with event: revoked; other keys stay', async () => {
      const a1 = await opened(open('/controls/sse/news', as('l')));
      const a2 = await opened(open('/controls/idle', as('l')));
      const other = await opened(open('/controls/sse/news', as('m')));
      await app.get(FlushHub).disconnect({ key: 'l' });
      await Promise.all([a1.done, a2.done]);
      for (const stream of [a1, a2]) {
        expect(stream.ended).toBe(true);
        expect(parseSseStream(stream.body).events.at(-1)).toMatchObject({ event: 'revoked' });
      }
      const id = await app.get(FlushHub).publish('news', 'still here');
      await waitFor(() => other.body.includes('data: still here'), 'the other key to stay');
      expect(other.body).toContain(`id: ${id}`);
    });

    it('ends the streams reading a channel, or with both, those matching both', async () => {
      const hub = app.get(FlushHub);
      const news = await opened(open('/controls/sse/news', as('n')));
      const sport = await opened(open('/controls/sse/sport', as('n')));
      const newsOther = await opened(open('/controls/ndjson/news', as('o')));
      await hub.disconnect({ channel: 'news', key: 'o' });
      await newsOther.done;
      expect(
        newsOther.body
          .trim()
          .split('\n')
          .map(line => parseJson(line))
          .at(-1),
      ).toEqual({
        revoked: { reason: 'disconnect' },
      });
      await hub.disconnect({ channel: 'news' });
      await news.done;
      expect(parseSseStream(news.body).events.at(-1)).toMatchObject({ event: 'revoked' });
      await hub.publish('sport', 'goal');
      await waitFor(() => sport.body.includes('data: goal'), 'the sport stream to stay');
    });

    it('refuses to end every stream at once', async () => {
      await expect(app.get(FlushHub).disconnect({})).rejects.toBeInstanceOf(FlushValidationError);
      await expect(app.get(FlushHub).disconnect({ key: 'a\nb' })).rejects.toBeInstanceOf(
        FlushValidationError,
      );
    });
  });
});

describe.each(platforms)('stream controls: a failing streamKey or expiresAt (%s)', platform => {
  it('answers 500 before any byte and logs once per route', async () => {
    const logger = recordingLogger();
    const app = await startApp(
      platform,
      [
        controlsApp({
          streamKey: () => {
            throw new Error('no user');
          },
        }),
      ],
      a => a.useLogger(logger),
    );
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await rawRequest(app, '/controls/idle');
        expect(answer.status).toBe(500);
        expect(answer.headers['content-type']).toMatch(/json/);
      }
      expect(logger.lines.filter(l => l.includes('"streamKey" threw'))).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('answers 500 before any byte for an expiresAt that throws or returns a non-time, logged once per route', async () => {
    const logger = recordingLogger();
    const app = await startApp(
      platform,
      [
        controlsApp({
          expiresAt: (req: { headers: Record<string, string | undefined> }) => {
            if (req.headers['x-bad'] === 'throw') throw new Error('no token');
            return req.headers['x-bad'] as unknown as number; // a string: not a time
          },
        }),
      ],
      a => a.useLogger(logger),
    );
    try {
      for (const bad of ['throw', 'throw', 'soon', 'soon']) {
        const answer = await rawRequest(app, '/controls/short', { headers: { 'x-bad': bad } });
        expect(answer.status).toBe(500);
        expect(answer.headers['content-type']).not.toMatch(/event-stream/);
      }
      // One line per route and option, whatever the failure.
      expect(logger.lines.filter(l => l.includes('expiresAt'))).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
