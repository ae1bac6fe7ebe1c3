import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { FlushHub } from '../src/index.js';
import { RedisFlushTransport } from '../src/redis.js';
import { channelsInstance } from './fixtures/channels/channels.controller.js';
import { platforms, startApp } from './utils/platforms.js';
import { recordingEventSource } from './utils/recording-event-source.js';
import { waitFor } from './utils/wait.js';
import { describeWithRedis, REDIS_URL } from './utils/redis-server.js';

const describeRedis = describeWithRedis('The Redis transport e2e suite');

const connect = recordingEventSource;

describeRedis.each(platforms)('RedisFlushTransport across two instances (%s)', platform => {
  const keyPrefix = `flush-e2e:${randomUUID()}:`;
  let admin: Redis;
  let a: INestApplication;
  let b: INestApplication;
  const sources: EventSource[] = [];

  /** Waits until `count` local subscriptions to the news channel exist in Redis. */
  const subscribed = (count: number) =>
    waitFor(async () => {
      const [, n] = (await admin.pubsub('NUMSUB', `${keyPrefix}news`)) as [string, number];
      return Number(n) === count;
    }, `${count} Redis subscription(s)`);

  beforeAll(async () => {
    admin = new Redis(REDIS_URL!);
    a = await startApp(platform, [
      channelsInstance(new RedisFlushTransport({ url: REDIS_URL, keyPrefix, logger: false })),
    ]);
    b = await startApp(platform, [
      channelsInstance(new RedisFlushTransport({ url: REDIS_URL, keyPrefix, logger: false })),
    ]);
  });

  afterEach(() => {
    for (const source of sources.splice(0)) source.close();
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it('delivers to a client of instance A the events published on instance B, then resumes on B from an id A gave', async () => {
    const hubA = a.get(FlushHub);
    const hubB = b.get(FlushHub);

    const onA = connect(a, '/sse/news');
    sources.push(onA.source);
    await onA.opened;
    await subscribed(1);

    const first = await hubB.publish('news', { n: 1 });
    const second = await hubB.publish('news', { n: 2 }, { event: 'message' });
    await waitFor(() => onA.received.length === 2, 'two events on A');
    expect(onA.received).toEqual([
      { type: 'message', id: first, data: '{"n":1}' },
      { type: 'message', id: second, data: '{"n":2}' },
    ]);

    // The client leaves A, holding the id of the last event it saw there.
    const lastSeenOnA = onA.received[1].id;
    onA.source.close();
    await subscribed(0);

    // Published while no client listens: from A and from B.
    const third = await hubA.publish('news', { n: 3 });
    const fourth = await hubB.publish('news', { n: 4 });

    // It reconnects to B with Last-Event-ID: exactly the later events, then live ones.
    const onB = connect(b, '/sse/news', lastSeenOnA);
    sources.push(onB.source);
    await onB.opened;
    await waitFor(() => onB.received.length === 2, 'the two missed events on B');
    await subscribed(1);
    const fifth = await hubA.publish('news', { n: 5 });
    // A marker after it: events arrive in order, so a duplicate of any of them would come first.
    const marker = await hubA.publish('news', { n: 'marker' });
    await waitFor(() => onB.received.some(e => e.id === marker), 'the marker event on B');
    expect(onB.received).toEqual([
      { type: 'message', id: third, data: '{"n":3}' },
      { type: 'message', id: fourth, data: '{"n":4}' },
      { type: 'message', id: fifth, data: '{"n":5}' },
      { type: 'message', id: marker, data: '{"n":"marker"}' },
    ]);
  });

  it('answers a Last-Event-ID that no instance knows with a resync event carrying the newest id', async () => {
    const newest = await a.get(FlushHub).publish('news', { n: 'latest' });
    const client = connect(b, '/sse/news', '1-0');
    sources.push(client.source);
    await client.opened;
    await waitFor(() => client.received.length === 1, 'the resync event');
    expect(client.received[0]).toMatchObject({ type: 'resync', id: newest });
    expect(JSON.parse(client.received[0].data)).toMatchObject({
      channel: 'news',
      lastEventId: '1-0',
    });
  });
});
