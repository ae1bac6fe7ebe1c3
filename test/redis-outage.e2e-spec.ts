import { expect } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { RedisFlushTransport } from '../src/redis.js';
import { channelsInstance } from './fixtures/channels/channels.controller.js';
import { freePort, startRedis, stopRedis, describeWithRedis } from './utils/redis-server.js';
import { waitFor } from './utils/wait.js';
import { rawRequest } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';

const describeRedis = describeWithRedis('The Redis outage suite');

/** Every line the application logs, at every level. */
class RecordingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  private record(level: string, message: unknown, rest: unknown[]) {
    this.lines.push({ level, message: [message, ...rest].map(String).join(' ') });
  }
  log(message: unknown, ...rest: unknown[]) {
    this.record('log', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.record('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.record('error', message, rest);
  }
  debug() {}
  verbose() {}
  fatal(message: unknown, ...rest: unknown[]) {
    this.record('fatal', message, rest);
  }
  /** Warnings and errors, the lines an operator is paged for. */
  get alarms() {
    return this.lines.filter(l => l.level !== 'log');
  }
}

const publish = (app: INestApplication, channel: string, data: unknown) =>
  rawRequest(app, `/publish/${channel}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data }),
  });

describeRedis.each(platforms)('FlushHub during a Redis outage (%s)', platform => {
  let server: ChildProcess | undefined;
  let app: INestApplication;
  let transport: RedisFlushTransport;
  let port: number;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    port = await freePort();
    server = await startRedis(port);
    transport = new RedisFlushTransport({
      url: `redis://127.0.0.1:${port}`,
      keyPrefix: `flush-outage:${randomUUID()}:`,
      commandTimeoutMs: 1000,
      redisOptions: { retryStrategy: () => 50 },
    });
    app = await startApp(platform, [channelsInstance(transport)], a => a.useLogger(logger));
  });

  afterAll(async () => {
    await app?.close();
    if (server) await stopRedis(server);
  });

  it('answers publishes and new streams with 503 and retryAfter, and logs the outage once at each end', async () => {
    expect((await publish(app, 'news', 'before')).status).toBe(201);
    const alarmsBefore = logger.alarms.length;

    await stopRedis(server!);
    server = undefined;
    await waitFor(() => !transport.health().connected, 'the disconnect');

    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await publish(app, 'news', i));
    answers.push(await rawRequest(app, '/sse/fresh'));
    answers.push(await rawRequest(app, '/sse/fresh', { headers: { 'last-event-id': '1-0' } }));
    answers.push(await rawRequest(app, '/flush/fresh'));
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.stringContaining('temporarily unavailable'),
        retryAfter: 2,
      });
      expect(answer.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|at /); // nothing internal leaks
    }
    // Streaming routes also send the header (publishes are the app's own routes: body only).
    for (const stream of answers.slice(-3)) expect(stream.headers['retry-after']).toBe('2');

    // One line for the whole outage, however many requests failed; no stack trace per request.
    const during = logger.alarms.slice(alarmsBefore);
    expect(during).toEqual([
      { level: 'warn', message: expect.stringMatching(/^Redis unavailable: lost the/) },
    ]);

    server = await startRedis(port);
    await waitFor(
      () => logger.lines.some(l => l.message.startsWith('Redis available again')),
      'the end of the outage in the log',
      10_000,
    );
    expect((await publish(app, 'news', 'after')).status).toBe(201);
    expect(logger.alarms.slice(alarmsBefore)).toHaveLength(1);
    expect(logger.lines.filter(l => l.message.startsWith('Redis available again'))).toEqual([
      { level: 'log', message: expect.stringMatching(/^Redis available again after \d+ ms/) },
    ]);
  });
});
