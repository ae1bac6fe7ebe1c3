import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { FlushHub } from '../src/index.js';
import { RedisFlushTransport } from '../src/redis.js';
import { readSse, type ParsedSseEvent } from '../src/testing/index.js';
import { channelsInstance } from './fixtures/channels/channels.controller.js';
import { delay, waitFor } from './utils/wait.js';
import { platforms, startApp } from './utils/platforms.js';
import { describeWithRedis, REDIS_URL } from './utils/redis-server.js';

const describeRedis = describeWithRedis('The Redis gap suite');

/** Ids of the Redis clients named `name` (CLIENT LIST). */
const clientIds = async (admin: Redis, name: string): Promise<string[]> =>
  ((await admin.client('LIST')) as string)
    .split('\n')
    .filter(line => line.includes(` name=${name} `))
    .map(line => /\bid=(\d+)/.exec(line)![1]);

/** Message events that follow another message with no resync between them and skip numbers. */
const silentHoles = (items: readonly ParsedSseEvent[]): string[] => {
  const holes: string[] = [];
  let previous: number | undefined;
  let resynced = false;
  for (const item of items) {
    if (item.event === 'resync') {
      resynced = true;
      continue;
    }
    const n = Number(item.data);
    if (previous !== undefined && n !== previous + 1 && !resynced)
      holes.push(`${previous} -> ${n}`);
    previous = n;
    resynced = false;
  }
  return holes;
};

describeRedis.each(platforms)(
  'FlushHub over Redis: connections back in any order (%s)',
  platform => {
    const keyPrefix = `flush-gap:${randomUUID()}:`;
    const name = `flush-gap-${randomUUID()}`;
    let admin: Redis;
    let bPublisher: Redis;
    let bSubscriber: Redis;
    let transportB: RedisFlushTransport;
    let a: INestApplication;
    let b: INestApplication;
    /** While set, B's publisher connection waits 1.5 s before each reconnect attempt. */
    let holdPublisher = true;
    const readyAt = { publisher: [] as number[], subscriber: [] as number[] };

    beforeAll(async () => {
      admin = new Redis(REDIS_URL!);
      bPublisher = new Redis(REDIS_URL!, {
        connectionName: `${name}:publisher`,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => (holdPublisher ? 1500 : 50),
      });
      bSubscriber = new Redis(REDIS_URL!, {
        connectionName: `${name}:subscriber`,
        autoResubscribe: false,
        retryStrategy: () => 50,
      });
      bPublisher.on('ready', () => readyAt.publisher.push(Date.now()));
      bSubscriber.on('ready', () => readyAt.subscriber.push(Date.now()));
      transportB = new RedisFlushTransport({
        publisher: bPublisher,
        subscriber: bSubscriber,
        keyPrefix,
        logger: false,
      });
      a = await startApp(platform, [
        channelsInstance(new RedisFlushTransport({ url: REDIS_URL, keyPrefix, logger: false })),
      ]);
      b = await startApp(platform, [channelsInstance(transportB)]);
    });

    afterAll(async () => {
      await a?.close();
      await b?.close();
      bPublisher?.disconnect();
      bSubscriber?.disconnect();
      const keys = await admin.keys(`${keyPrefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    });

    it('delivers every event in order (or a resync) after its subscriber connection is back 1.5 s before its publisher', async () => {
      const hubA = a.get(FlushHub);
      let received: readonly ParsedSseEvent[] = [];
      const reading = readSse(b, '/sse/news', {
        until: (e, all) => ((received = all), e.data === 'end'),
        timeoutMs: 20_000,
      });
      await waitFor(async () => {
        const [, n] = (await admin.pubsub('NUMSUB', `${keyPrefix}news`)) as [string, number];
        return Number(n) === 1;
      }, "B's subscription");

      // A publishes every ~10 ms, before, during and after B's outage; it never loses Redis.
      const published: { at: number; id: string }[] = [];
      let stop = false;
      const publishing = (async () => {
        for (let i = 0; !stop; i++) {
          published.push({ id: await hubA.publish('news', String(i)), at: Date.now() });
          await delay(10); // the producer's pace
        }
      })();

      await waitFor(() => received.length >= 20, 'the first events on B');
      // Only B's two connections die; Redis keeps its data. The subscriber is back in ~50 ms, the
      // publisher only after 1.5 s: live events reach B while its refill cannot read yet.
      const killedAt = Date.now();
      for (const role of ['publisher', 'subscriber']) {
        for (const id of await clientIds(admin, `${name}:${role}`))
          await admin.client('KILL', 'ID', id);
      }
      await waitFor(
        () => readyAt.publisher.some(t => t > killedAt) && transportB.health().connected,
        "B's reconnect",
        10_000,
      );
      holdPublisher = false;
      const subscriberBack = readyAt.subscriber.find(t => t > killedAt)!;
      const publisherBack = readyAt.publisher.find(t => t > killedAt)!;
      expect(publisherBack - subscriberBack).toBeGreaterThan(1000);
      expect(
        published.filter(p => p.at > subscriberBack && p.at < publisherBack).length,
      ).toBeGreaterThan(20);

      const more = published.length + 20;
      await waitFor(() => published.length >= more, 'events after the reconnect');
      stop = true;
      await publishing;
      await hubA.publish('news', 'end');
      const { items } = await reading;

      const events = items.filter(e => e.data !== 'end');
      const messages = events.filter(e => e.event !== 'resync');
      // The promise: every event in order, each once, or a resync that says some were not.
      expect(silentHoles(events)).toEqual([]);
      const numbers = messages.map(e => Number(e.data));
      expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
      expect(new Set(numbers).size).toBe(numbers.length);
      // The history (1000 events) outlasts the outage, so here nothing is even missed.
      expect(numbers).toEqual(published.map((_, i) => i));
      expect(messages.map(e => e.id)).toEqual(published.map(p => p.id));
      expect(events.filter(e => e.event === 'resync')).toEqual([]);
    });
  },
);
