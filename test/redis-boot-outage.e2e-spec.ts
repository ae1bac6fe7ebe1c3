// Issue 17 (1, 2, 11): one outage behaviour from boot on. Redis unreachable when the app starts
// answered new streams 200, a heartbeat, then `event: error` at 20 s (an ERROR with a stack per
// stream), and the first publish hung 10 s; during a later outage a new stream on a channel that
// already had a stream on the instance got 200. Now every new stream and publish answers 503 with
// Retry-After at once (the transport's connectTimeoutMs is set to a minute here: waiting for it
// would time the test out), and the outage is logged once.
import { expect } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { RedisFlushTransport } from '../src/redis.js';
import { channelsInstance } from './fixtures/channels/channels.controller.js';
import { rawRequest } from './utils/http.js';
import { recordingLogger } from './utils/logger.js';
import { platforms, startApp } from './utils/platforms.js';
import { describeWithRedis, freePort, startRedis, stopRedis } from './utils/redis-server.js';
import { waitFor } from './utils/wait.js';

const describeRedis = describeWithRedis('The Redis boot outage suite');

const publish = (app: INestApplication, channel: string, data: unknown) =>
  rawRequest(app, `/publish/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data }),
  });

const expect503 = (answer: { status: number; body: string }) => {
  expect(answer.status).toBe(503);
  expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 503, retryAfter: 2 });
};

describeRedis.each(platforms)('Redis unreachable (%s)', platform => {
  let server: ChildProcess | undefined;
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (server) await stopRedis(server);
    server = undefined;
  });

  const boot = async (port: number) => {
    const logger = recordingLogger();
    const transport = new RedisFlushTransport({
      url: `redis://127.0.0.1:${port}`,
      keyPrefix: `flush-boot:${randomUUID()}:`,
      connectTimeoutMs: 60_000,
      logger,
      redisOptions: { retryStrategy: () => 50 },
    });
    const appLogger = recordingLogger();
    app = await startApp(platform, [channelsInstance(transport)], a => a.useLogger(appLogger));
    return { transport, logger, appLogger, app };
  };

  it('from boot: new streams and publishes answer 503 with Retry-After at once, logged once; then recover', async () => {
    const port = await freePort();
    const { transport, logger, appLogger, app } = await boot(port);
    await waitFor(() => transport.health().lastError !== undefined, 'the first refused connection');

    const streams = [
      await rawRequest(app, '/sse/news'),
      await rawRequest(app, '/sse/news', { headers: { 'last-event-id': '1-0' } }),
      await rawRequest(app, '/flush/news'),
    ];
    for (const stream of streams) {
      expect503(stream);
      expect(stream.headers['retry-after']).toBe('2');
      expect(stream.headers['content-type']).not.toMatch(/event-stream/);
    }
    expect503(await publish(app, 'news', 'lost'));

    // One warning for the whole outage, saying what requests get; no ERROR per stream.
    const alarms = [...logger.lines, ...appLogger.lines].filter(l => !l.startsWith('log:'));
    expect(alarms).toEqual([expect.stringMatching(/^warn: Cannot connect to Redis .*503/)]);

    server = await startRedis(port);
    await waitFor(() => transport.health().connected, 'the first connection');
    expect((await publish(app, 'news', 'after')).status).toBe(201);
    let seen = '';
    const live = rawRequest(app, '/sse/news', {
      onData: text => (seen = text).includes('data: live'),
    });
    await waitFor(async () => {
      await publish(app, 'news', 'live');
      return seen.includes('data: live');
    }, 'a live event');
    const answer = await live;
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('data: live');
  });

  it('later: a new stream on a channel this instance already streams answers 503 too', async () => {
    const port = await freePort();
    server = await startRedis(port);
    const { transport, appLogger, app } = await boot(port);
    await waitFor(() => transport.health().connected, 'the connection');

    let held = '';
    const open = rawRequest(app, '/sse/news', {
      onData: text => (held = text).includes('data: after'),
    });
    await waitFor(async () => {
      await publish(app, 'news', 'warm');
      return held.includes('data: warm');
    }, 'the open stream');

    await stopRedis(server);
    server = undefined;
    await waitFor(() => !transport.health().connected, 'the disconnect');
    expect503(await rawRequest(app, '/sse/news'));
    expect503(await rawRequest(app, '/flush/news'));
    expect503(await rawRequest(app, '/sse/fresh'));

    server = await startRedis(port);
    await waitFor(() => transport.health().connected, 'the reconnect');
    await waitFor(async () => {
      await publish(app, 'news', 'after');
      return held.includes('data: after');
    }, 'the held stream to get a new event');
    expect((await open).body).toContain('data: after');
    expect(appLogger.lines.filter(l => l.startsWith('error:'))).toEqual([]);
  });

  it('shutting down while Redis is away logs no confusing unsubscribe failure', async () => {
    const port = await freePort();
    server = await startRedis(port);
    const { transport, logger, appLogger, app: booted } = await boot(port);
    await waitFor(() => transport.health().connected, 'the connection');
    let got = '';
    const open = rawRequest(booted, '/sse/news', {
      onData: text => void (got = text),
    });
    await waitFor(async () => {
      await publish(booted, 'news', 'x');
      return got.includes('data: x');
    }, 'the stream');
    await stopRedis(server);
    server = undefined;
    await waitFor(() => !transport.health().connected, 'the disconnect');
    await booted.close();
    app = undefined;
    await open.catch(() => undefined);
    const lines = [...logger.lines, ...appLogger.lines];
    expect(lines.filter(l => /Unsubscribing|is closed/.test(l))).toEqual([]);
  });
});
