import { expect } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  compareEventIds,
  type FlushTransportEvent,
} from '../src/broadcast/flush-transport.interface.js';
import type { RedisClientLike } from '../src/redis/redis-client.interface.js';
import {
  RedisFlushTransport,
  RedisFlushTransportError,
  type RedisFlushTransportOptions,
} from '../src/redis/redis.transport.js';
import {
  freePort,
  startRedis,
  stopRedis,
  describeWithRedis,
  REDIS_URL,
} from './utils/redis-server.js';
import { recordingLogger } from './utils/logger.js';
import { delay, waitFor } from './utils/wait.js';

const describeRedis = describeWithRedis('The RedisFlushTransport suite (real Redis)');

/** Lets the fakes' pending callbacks and promise chains run: one turn of the event loop, no fixed time. */
const settle = () => new Promise<void>(resolve => setImmediate(resolve));

const msOf = (id: string): number => Number(id.split('-')[0]);

describeRedis('RedisFlushTransport (real Redis)', () => {
  const prefix = `flush-test:${randomUUID()}:`;
  let admin: Redis;
  const transports: RedisFlushTransport[] = [];
  const clients: Redis[] = [];

  const make = (options: RedisFlushTransportOptions = {}): RedisFlushTransport => {
    const transport = new RedisFlushTransport({
      url: REDIS_URL,
      keyPrefix: prefix,
      logger: false,
      ...options,
    });
    transports.push(transport);
    return transport;
  };
  const client = (url = REDIS_URL!): Redis => {
    const c = new Redis(url, { disconnectTimeout: 100 });
    clients.push(c);
    return c;
  };
  const collect = () => {
    const events: FlushTransportEvent[] = [];
    return { events, listener: (e: FlushTransportEvent) => void events.push(e) };
  };
  const ourChannels = async (redis: Redis = admin) =>
    ((await redis.pubsub('CHANNELS', `${prefix}*`)) as string[]).sort();

  beforeAll(() => {
    admin = new Redis(REDIS_URL!);
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map(t => t.close()));
    await Promise.all(clients.splice(0).map(c => c.quit().catch(() => c.disconnect())));
  });

  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  describe('publish and subscribe', () => {
    it('delivers every event once, in publish order, with the ids publish() resolved to', async () => {
      const transport = make();
      const { events, listener } = collect();
      await transport.subscribe('news', listener);

      const published: FlushTransportEvent[] = [];
      for (let i = 0; i < 20; i++)
        published.push(await transport.publish('news', { data: `seq ${i}` }));
      // Concurrent publishes too: Redis orders them, Pub/Sub follows the same order.
      published.push(
        ...(await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            transport.publish('news', { event: 'tick', data: JSON.stringify({ i }) }),
          ),
        )),
      );

      await waitFor(() => events.length === 50, '50 events');
      expect(events).toEqual(published);
      for (let i = 1; i < events.length; i++)
        expect(compareEventIds(events[i - 1].id, events[i].id)).toBeLessThan(0);
      expect(events[0]).toEqual({ id: published[0].id, data: 'seq 0' });
      expect(events[20]).toEqual({ id: published[20].id, event: 'tick', data: '{"i":0}' });
      expect(events[0].id).toMatch(/^\d+-\d+$/);
    });

    it('keeps payloads byte for byte (newlines, quotes, unicode) and stores them in the stream', async () => {
      const transport = make();
      const { events, listener } = collect();
      await transport.subscribe('raw', listener);
      const data = 'line 1\nline "2"\r\n\u2603 \u{1F600} \\ / {"id":"fake"}';
      const sent = await transport.publish('raw', { event: 'odd name', data });
      await waitFor(() => events.length === 1, 'the event');
      expect(events[0]).toEqual({ id: sent.id, event: 'odd name', data });
      expect(await admin.xlen(`${prefix}raw`)).toBe(1);
    });

    it('delivers to every local listener of a channel, and stops after unsubscribe', async () => {
      const transport = make();
      const a = collect();
      const b = collect();
      const offA = await transport.subscribe('room', a.listener);
      await transport.subscribe('room', b.listener);
      await transport.publish('room', { data: '1' });
      await waitFor(() => a.events.length === 1 && b.events.length === 1, 'both listeners');
      await offA();
      await offA(); // idempotent
      await transport.publish('room', { data: '2' });
      await waitFor(() => b.events.length === 2, 'the second event');
      expect(a.events.map(e => e.data)).toEqual(['1']);
    });

    it('a listener that throws does not stop the others', async () => {
      const logger = recordingLogger();
      const transport = make({ logger });
      const good = collect();
      await transport.subscribe('x', () => {
        throw new Error('boom');
      });
      await transport.subscribe('x', good.listener);
      await transport.publish('x', { data: 'd' });
      await waitFor(() => good.events.length === 1, 'the event');
      expect(logger.lines.some(l => l.includes('boom'))).toBe(true);
    });
  });

  describe('replay', () => {
    it('returns every event after a retained id, in order', async () => {
      const transport = make();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await transport.publish('r', { data: String(i) })).id);

      expect(await transport.replay('r', ids[1])).toEqual({
        status: 'ok',
        events: [2, 3, 4].map(i => ({ id: ids[i], data: String(i) })),
      });
      expect(await transport.replay('r', ids[4])).toEqual({ status: 'ok', events: [] });
    });

    it('keeps event names in replayed events', async () => {
      const transport = make();
      const a = await transport.publish('named', { data: 'a' });
      const b = await transport.publish('named', { event: 'update', data: 'b' });
      expect(await transport.replay('named', a.id)).toEqual({ status: 'ok', events: [b] });
    });

    it('answers resync for unknown, malformed and future ids, with the newest id', async () => {
      const transport = make();
      const first = await transport.publish('s', { data: 'a' });
      // The next id gets a later millisecond (ids carry Redis's clock, the same machine's).
      await waitFor(() => Date.now() > msOf(first.id) + 1, 'a later millisecond', 1000, 1);
      const last = await transport.publish('s', { data: 'b' });
      expect(msOf(last.id)).toBeGreaterThan(msOf(first.id));
      const resync = { status: 'resync', lastId: last.id };

      expect(await transport.replay('s', `${msOf(first.id)}-999`)).toEqual(resync); // in range, never existed
      expect(await transport.replay('s', '0-1')).toEqual(resync); // before the stream
      // '0-0' asks for the whole channel: every event while nothing was trimmed.
      expect(await transport.replay('s', '0-0')).toEqual({ status: 'ok', events: [first, last] });
      for (const malformed of [
        'abc',
        '',
        '12',
        '1-2-3',
        ' 1-0',
        '-1-0',
        '99999999999999999999-0',
      ]) {
        expect(await transport.replay('s', malformed)).toEqual(resync);
      }
      expect(await transport.replay('s', `${msOf(last.id) + 1_000_000}-0`)).toEqual(resync); // future
      expect(
        await transport.replay('s', `${msOf(last.id)}-${Number(last.id.split('-')[1]) + 1}`),
      ).toEqual(resync);
    });

    it('answers resync without lastId for a channel that has no stream', async () => {
      const transport = make();
      expect(await transport.replay('never-published', '1-0')).toEqual({ status: 'resync' });
      expect(await transport.replay('never-published', 'junk')).toEqual({ status: 'resync' });
    });

    it('answers resync for an id trimmed away (exact trimming)', async () => {
      const transport = make({ historySize: 3, trimming: 'exact' });
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await transport.publish('t', { data: String(i) })).id);
      expect(await admin.xlen(`${prefix}t`)).toBe(3);

      expect(await transport.replay('t', ids[0])).toEqual({ status: 'resync', lastId: ids[9] });
      expect(await transport.replay('t', ids[6])).toEqual({ status: 'resync', lastId: ids[9] }); // trimmed
      expect(await transport.replay('t', ids[7])).toEqual({
        status: 'ok',
        events: [8, 9].map(i => ({ id: ids[i], data: String(i) })),
      });
    });

    it('decides precisely with approximate trimming, which keeps more than asked', async () => {
      const transport = make({ historySize: 5 }); // MAXLEN ~ 5
      const ids: string[] = [];
      for (let i = 0; i < 300; i++)
        ids.push((await transport.publish('approx', { data: String(i) })).id);
      const length = await admin.xlen(`${prefix}approx`);
      expect(length).toBeGreaterThanOrEqual(5);
      expect(length).toBeLessThan(300);
      const oldestKept = (
        (await admin.xrange(`${prefix}approx`, '-', '+', 'COUNT', 1)) as [string, string[]][]
      )[0][0];
      const kept = ids.indexOf(oldestKept);
      expect(kept).toBeGreaterThan(0);

      // The oldest retained entry still resumes exactly, even though it is beyond historySize.
      const fromOldest = await transport.replay('approx', oldestKept);
      expect(fromOldest.status).toBe('ok');
      expect(fromOldest.status === 'ok' && fromOldest.events.map(e => e.id)).toEqual(
        ids.slice(kept + 1),
      );
      // One before it was trimmed: events may be missing, so resync.
      expect(await transport.replay('approx', ids[kept - 1])).toEqual({
        status: 'resync',
        lastId: ids[299],
      });
      expect(await transport.replay('approx', ids[0])).toEqual({
        status: 'resync',
        lastId: ids[299],
      });
    });

    it('trims by age on the Redis clock (historyMaxAgeMs)', async () => {
      const transport = make({ historyMaxAgeMs: 50, trimming: 'exact' });
      const old = await transport.publish('aged', { data: 'old' });
      // The old entry becomes older than historyMaxAgeMs (Redis's clock is this machine's).
      await waitFor(() => Date.now() - msOf(old.id) > 120, 'the old entry to age', 1000, 5);
      const fresh = await transport.publish('aged', { data: 'fresh' });
      expect(await admin.xlen(`${prefix}aged`)).toBe(1);
      expect(await transport.replay('aged', old.id)).toEqual({
        status: 'resync',
        lastId: fresh.id,
      });
      expect(await transport.replay('aged', fresh.id)).toEqual({ status: 'ok', events: [] });
    });

    it('with historySize 0 keeps nothing but still resumes from the newest id', async () => {
      const transport = make({ historySize: 0, trimming: 'exact' });
      const a = await transport.publish('zero', { data: 'a' });
      const b = await transport.publish('zero', { data: 'b' });
      expect(await admin.xlen(`${prefix}zero`)).toBe(0);
      expect(await transport.replay('zero', b.id)).toEqual({ status: 'ok', events: [] });
      expect(await transport.replay('zero', a.id)).toEqual({ status: 'resync', lastId: b.id });
    });

    it('expires idle channel streams with keyTtlMs', async () => {
      const transport = make({ keyTtlMs: 60_000 });
      await transport.publish('ttl', { data: 'x' });
      const ttl = await admin.pttl(`${prefix}ttl`);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    });

    it('applies the module history options unless given its own (useHistoryDefaults)', async () => {
      const fromModule = make({ trimming: 'exact' });
      fromModule.useHistoryDefaults({ historySize: 2, historyMaxAgeMs: false });
      const own = make({ trimming: 'exact', historySize: 4 });
      own.useHistoryDefaults({ historySize: 2, historyMaxAgeMs: false });
      for (let i = 0; i < 6; i++) {
        await fromModule.publish('cfg-module', { data: String(i) });
        await own.publish('cfg-own', { data: String(i) });
      }
      expect(await admin.xlen(`${prefix}cfg-module`)).toBe(2);
      expect(await admin.xlen(`${prefix}cfg-own`)).toBe(4);
    });
  });

  describe('many instances', () => {
    it('assigns ids that increase across instances publishing to one channel, and delivers each once everywhere', async () => {
      const a = make();
      const b = make();
      const onA = collect();
      const onB = collect();
      await a.subscribe('shared', onA.listener);
      await b.subscribe('shared', onB.listener);

      const ids: string[] = [];
      for (let i = 0; i < 20; i++)
        ids.push((await (i % 2 === 0 ? a : b).publish('shared', { data: String(i) })).id);
      for (let i = 1; i < ids.length; i++)
        expect(compareEventIds(ids[i - 1], ids[i])).toBeLessThan(0);

      await waitFor(
        () => onA.events.length >= 20 && onB.events.length >= 20,
        '20 events on both instances',
      );
      // A marker after them: delivery is ordered, so a double delivery would come first.
      ids.push((await a.publish('shared', { data: 'marker' })).id);
      await waitFor(
        () => onA.events.length >= 21 && onB.events.length >= 21,
        'the marker on both instances',
      );
      expect(onA.events.map(e => e.id)).toEqual(ids);
      expect(onB.events.map(e => e.id)).toEqual(ids);
    });

    it('resumes on one instance from an id published by another', async () => {
      const a = make();
      const b = make();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await a.publish('resume', { data: String(i) })).id);
      expect(await b.replay('resume', ids[1])).toEqual({
        status: 'ok',
        events: [2, 3].map(i => ({ id: ids[i], data: String(i) })),
      });
    });

    it('subscribes in Redis only to channels with local listeners', async () => {
      const transport = make();
      expect(await ourChannels()).toEqual([]);
      const off1 = await transport.subscribe('with-listeners', () => undefined);
      const off2 = await transport.subscribe('with-listeners', () => undefined);
      await transport.publish('without-listeners', { data: 'x' });
      await transport.replay('without-listeners', '1-0');
      expect(await ourChannels()).toEqual([`${prefix}with-listeners`]);

      await off1();
      expect(await ourChannels()).toEqual([`${prefix}with-listeners`]);
      await off2();
      expect(await ourChannels()).toEqual([]);

      // Re-subscribing right after unsubscribing works (operations run in order per channel).
      const off3 = await transport.subscribe('with-listeners', () => undefined);
      const pending = off3();
      const off4 = await transport.subscribe('with-listeners', () => undefined);
      await pending;
      expect(await ourChannels()).toEqual([`${prefix}with-listeners`]);
      await off4();
      expect(await ourChannels()).toEqual([]);

      await transport.subscribe('left-open', () => undefined);
      expect(await ourChannels()).toEqual([`${prefix}left-open`]);
      await transport.close();
      expect(await ourChannels()).toEqual([]);
    });
  });

  describe('clients and lifecycle', () => {
    it('accepts ioredis clients as they are and leaves them open on close()', async () => {
      const publisher = client();
      const subscriber = client();
      const typed: RedisClientLike = publisher; // an ioredis client satisfies the structural type
      const transport = make({ url: undefined, publisher: typed, subscriber });
      const { events, listener } = collect();
      await transport.subscribe('own-clients', listener);
      const sent = await transport.publish('own-clients', { data: 'x' });
      await waitFor(() => events.length === 1, 'the event');
      expect(events[0]).toEqual(sent);

      await transport.close();
      expect(publisher.status).toBe('ready');
      expect(subscriber.status).toBe('ready');
      expect(await publisher.ping()).toBe('PONG');
      expect(await ourChannels()).toEqual([]); // its subscriptions are undone
    });

    it('with only a publisher, duplicates it for Pub/Sub and closes only the duplicate', async () => {
      const publisher = client();
      const transport = make({ url: undefined, publisher });
      const { events, listener } = collect();
      await transport.subscribe('dup', listener);
      await transport.publish('dup', { data: 'x' });
      await waitFor(() => events.length === 1, 'the event');
      await transport.close();
      expect(publisher.status).toBe('ready');
    });

    it('connects eagerly with connect(), reports health, and rejects after close()', async () => {
      const transport = make();
      expect(transport.health()).toEqual({ connected: false, connecting: true, reconnects: 0 });
      await transport.connect();
      expect(transport.health()).toEqual({ connected: true, reconnects: 0 });
      await transport.close();
      await transport.close(); // idempotent
      expect(transport.health().connected).toBe(false);
      await expect(transport.publish('c', { data: 'x' })).rejects.toThrow(/closed/);
    });

    it('rejects clearly when Redis is unreachable at startup, and closes without hanging', async () => {
      const port = await freePort();
      const transport = make({
        url: `redis://127.0.0.1:${port}`,
        connectTimeoutMs: 300,
        redisOptions: { retryStrategy: () => 50 },
      });
      const error = await transport.publish('c', { data: 'x' }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(RedisFlushTransportError);
      expect((error as RedisFlushTransportError).unavailable).toBe(true);
      expect((error as Error).message).toMatch(
        /no connection to Redis within 300 ms \(.*ECONNREFUSED/,
      );
      await expect(transport.subscribe('c', () => undefined)).rejects.toThrow(
        RedisFlushTransportError,
      );
      expect(transport.health()).toEqual({
        connected: false,
        lastError: expect.stringContaining('ECONNREFUSED'),
        reconnects: 0,
      });
      const started = Date.now();
      await transport.close();
      expect(Date.now() - started).toBeLessThan(1500);
    });
  });

  describe('Redis restarts', () => {
    let server: ChildProcess | undefined;
    afterEach(async () => {
      if (server) await stopRedis(server);
      server = undefined;
    });

    it('rejects publishes while Redis is down, then reconnects, re-subscribes, reports the gap and publishes again', async () => {
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      server = await startRedis(port);
      const logger = recordingLogger();
      const transport = make({
        url,
        logger,
        commandTimeoutMs: 1000,
        redisOptions: { retryStrategy: () => 100 },
      });
      const gaps: string[] = [];
      transport.onGap((channel, state) => gaps.push(`${channel} ${state}`));
      const { events, listener } = collect();
      await transport.subscribe('live', listener);
      await transport.subscribe('other', () => undefined);
      const before = await transport.publish('live', { data: 'before' });
      await waitFor(() => events.length === 1, 'the first event');

      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => void unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        await stopRedis(server);
        server = undefined;

        // Publishing goes on for 2 s while Redis is down: every publish rejects, clearly.
        const failures: unknown[] = [];
        const until = Date.now() + 2000;
        while (Date.now() < until) {
          await transport.publish('live', { data: 'during' }).then(
            () => failures.push('resolved'),
            (err: unknown) => failures.push(err),
          );
          await delay(100); // the producer's pace during the outage
        }
        expect(failures.length).toBeGreaterThanOrEqual(10);
        for (const failure of failures) expect(failure).toBeInstanceOf(RedisFlushTransportError);
        expect(
          failures.filter(f =>
            /Cannot publish to channel "live": Redis is not connected/.test((f as Error).message),
          ).length,
        ).toBeGreaterThanOrEqual(failures.length - 1); // one may have been in flight when Redis died
        await expect(transport.replay('live', before.id)).rejects.toThrow(/Redis is not connected/);
        expect(transport.health()).toEqual({
          connected: false,
          lastError: expect.any(String),
          reconnects: 0,
        });
        expect(gaps.sort()).toEqual(['live open', 'other open']);

        server = await startRedis(port);
        await waitFor(() => transport.health().connected, 'the reconnect', 10_000);
        await waitFor(() => gaps.length === 4, 'a closed gap per subscribed channel', 5000);
        expect(gaps.slice(2).sort()).toEqual(['live closed', 'other closed']);
        expect(transport.health().reconnects).toBeGreaterThanOrEqual(1);

        const fresh = client(url);
        expect(await ourChannels(fresh)).toEqual([`${prefix}live`, `${prefix}other`]);

        const after = await transport.publish('live', { data: 'after' });
        await waitFor(() => events.length === 2, 'the event after the restart');
        expect(events.map(e => e.data)).toEqual(['before', 'after']);
        expect(compareEventIds(after.id, before.id)).toBeGreaterThan(0);

        // This Redis kept nothing on disk: the old position is gone, so resume must resync.
        expect(await transport.replay('live', before.id)).toEqual({
          status: 'resync',
          lastId: after.id,
        });

        // The outage is logged once when it starts and once when it ends, not per retry or publish.
        expect(logger.lines).toEqual([
          'log: Connected to Redis.',
          expect.stringMatching(
            /^warn: Redis unavailable: lost the (publisher|subscriber) connection/,
          ),
          expect.stringMatching(
            /^log: Redis available again after \d+ ms \(last error: .*ECONNREFUSED.*\); refilling what 2 channel\(s\) missed\.$/,
          ),
        ]);
        await settle(); // Node reports an unhandled rejection once the microtasks have run
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('closes without hanging while Redis is down', async () => {
      const port = await freePort();
      server = await startRedis(port);
      const transport = make({
        url: `redis://127.0.0.1:${port}`,
        redisOptions: { retryStrategy: () => 100 },
      });
      await transport.subscribe('c', () => undefined);
      await stopRedis(server);
      server = undefined;
      await waitFor(() => !transport.health().connected, 'the disconnect');
      const started = Date.now();
      await transport.close();
      expect(Date.now() - started).toBeLessThan(1500);
    });
  });
});
