import { expect } from '@jest/globals';
import { request, type IncomingMessage } from 'node:http';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import {
  Body,
  Controller,
  Get,
  Header,
  Module,
  Post,
  Sse,
  type INestApplication,
} from '@nestjs/common';
import { Registry } from 'prom-client';
import { Subject, type Observable } from 'rxjs';
import { Flush, FlushHub, FlushMetrics, FlushModule, LastEventId } from '../src/index.js';
import { FlushPrometheusModule } from '../src/prometheus.js';
import { FLUSH_METRIC_NAMES } from '../src/prometheus/flush-prometheus.collector.js';
import { baseUrl } from '../src/testing/index.js';
import { openStream } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';
import { parsePrometheusText, sampleValue, type PromSample } from './utils/prometheus-text.js';
import { waitFor } from './utils/wait.js';

const PAD = 'x'.repeat(16 * 1024);
const feed: { current?: Subject<{ i: number; pad: string }> } = {};

/** One registry per suite: what @willsoto/nestjs-prometheus would serve, here served by hand. */
const registry = new Registry();

@Controller()
class MetricsController {
  constructor(private readonly hub: FlushHub) {}

  @Get('metrics')
  @Header('content-type', registry.contentType)
  metrics(): Promise<string> {
    return registry.metrics();
  }

  @Sse('news/:room')
  news(@LastEventId() lastEventId?: string) {
    return this.hub.stream('news/lobby', { lastEventId });
  }

  @Get('rows')
  @Flush({ format: 'ndjson' })
  rows() {
    return this.hub.stream('orders');
  }

  @Get('slow')
  @Flush({ maxQueuedBytes: 64 * 1024, slowClientPolicy: 'disconnect' })
  slow(): Observable<{ i: number; pad: string }> {
    return (feed.current = new Subject());
  }

  @Post('publish')
  async publish(@Body() body: { channel: string; data: unknown }) {
    return { id: await this.hub.publish(body.channel, body.data, { event: 'update' }) };
  }
}

@Module({
  imports: [
    FlushModule.forRoot({ heartbeatIntervalMs: 200 }),
    FlushPrometheusModule.register({ registry, channelLabel: channel => channel.split('/')[0] }),
  ],
  controllers: [MetricsController],
})
class MetricsModule {}

const scrape = async (app: INestApplication) => {
  const res = await fetch(`${baseUrl(app)}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parsePrometheusText(await res.text());
};

const publish = (app: INestApplication, channel: string, data: unknown) =>
  fetch(`${baseUrl(app)}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel, data }),
  });

const value = (samples: PromSample[], name: string, labels?: Record<string, string>) =>
  sampleValue(samples, name, labels);

describe.each(platforms)('FlushPrometheusModule (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [MetricsModule]);
  });
  afterAll(() => app?.close());

  it('exposes every metric of the contract with its type and help, as valid Prometheus text', async () => {
    const { types, help } = await scrape(app);
    expect(types).toMatchObject({
      nestjs_flush_streams_open: 'gauge',
      nestjs_flush_streams_opened_total: 'counter',
      nestjs_flush_events_published_total: 'counter',
      nestjs_flush_events_delivered_total: 'counter',
      nestjs_flush_bytes_written_total: 'counter',
      nestjs_flush_heartbeats_total: 'counter',
      nestjs_flush_slow_client_drops_total: 'counter',
      nestjs_flush_resyncs_total: 'counter',
      nestjs_flush_delivery_seconds: 'histogram',
      nestjs_flush_transport_up: 'gauge',
    });
    for (const name of FLUSH_METRIC_NAMES) expect(help[name]?.length).toBeGreaterThan(10);
  });

  it('moves each value as streams open, events are published and delivered, clients are dropped and streams close', async () => {
    const before = (await scrape(app)).samples;
    const sse = [openStream(app, '/news/a'), openStream(app, '/news/b')];
    const ndjson = openStream(app, '/rows');
    await Promise.all([...sse, ndjson].map(s => s.responded()));
    await waitFor(
      () => app.get(FlushMetrics).snapshot().channels['news/lobby'] === 2,
      'both SSE subscribers',
    );

    let now = (await scrape(app)).samples;
    expect(value(now, 'nestjs_flush_streams_open', { format: 'sse' })).toBe(
      value(before, 'nestjs_flush_streams_open', { format: 'sse' }) + 2,
    );
    expect(value(now, 'nestjs_flush_streams_open', { format: 'ndjson' })).toBe(
      value(before, 'nestjs_flush_streams_open', { format: 'ndjson' }) + 1,
    );
    expect(value(now, 'nestjs_flush_streams_opened_total', { format: 'sse' })).toBe(
      value(before, 'nestjs_flush_streams_opened_total', { format: 'sse' }) + 2,
    );
    expect(value(now, 'nestjs_flush_transport_up')).toBe(1);

    for (let i = 0; i < 3; i++) expect((await publish(app, 'news/lobby', { i })).status).toBe(201);
    expect((await publish(app, 'orders', { i: 1 })).status).toBe(201);
    await waitFor(() => (sse[1].body.match(/event: update/g) ?? []).length === 3, 'three events');
    await waitFor(() => ndjson.body.includes('"type":"update"'), 'the NDJSON line');
    // Heartbeats every 200 ms on the idle streams.
    await waitFor(async () => {
      now = (await scrape(app)).samples;
      return (
        value(now, 'nestjs_flush_heartbeats_total') > value(before, 'nestjs_flush_heartbeats_total')
      );
    }, 'a heartbeat');

    expect(value(now, 'nestjs_flush_events_published_total', { channel: 'news' })).toBe(
      value(before, 'nestjs_flush_events_published_total', { channel: 'news' }) + 3,
    );
    expect(value(now, 'nestjs_flush_events_published_total', { channel: 'orders' })).toBe(
      value(before, 'nestjs_flush_events_published_total', { channel: 'orders' }) + 1,
    );
    expect(value(now, 'nestjs_flush_events_delivered_total', { channel: 'news' })).toBe(
      value(before, 'nestjs_flush_events_delivered_total', { channel: 'news' }) + 6,
    );
    expect(value(now, 'nestjs_flush_events_delivered_total', { channel: 'orders' })).toBe(
      value(before, 'nestjs_flush_events_delivered_total', { channel: 'orders' }) + 1,
    );
    expect(value(now, 'nestjs_flush_bytes_written_total')).toBeGreaterThan(
      value(before, 'nestjs_flush_bytes_written_total') + 3 * 'event: update\n'.length,
    );
    // One histogram observation per event and instance (not per subscriber), publish -> fan-out.
    expect(value(now, 'nestjs_flush_delivery_seconds_count')).toBe(
      value(before, 'nestjs_flush_delivery_seconds_count') + 4,
    );
    const inf = value(now, 'nestjs_flush_delivery_seconds_bucket', { le: '+Inf' });
    expect(inf).toBe(value(now, 'nestjs_flush_delivery_seconds_count'));
    expect(value(now, 'nestjs_flush_delivery_seconds_sum')).toBeLessThan(60);

    // A resume from an id the history never had: a resync.
    const resumed = openStream(app, '/news/c', { 'last-event-id': '1-0' });
    await waitFor(() => resumed.body.includes('event: resync'), 'the resync event');
    resumed.close();

    // A slow client, disconnected by the policy.
    let response: IncomingMessage | undefined;
    const req = request(`${baseUrl(app)}/slow`, res => {
      response = res;
      res.pause();
    });
    req.on('error', () => undefined);
    req.end();
    await waitFor(() => response !== undefined && feed.current !== undefined, 'the slow stream');
    const metrics = app.get(FlushMetrics);
    const disconnects = metrics.slowClientDisconnects;
    let produced = 0;
    await waitFor(
      async () => {
        for (let k = 0; k < 2; k++) feed.current!.next({ i: produced++, pad: PAD });
        await yieldToIo();
        return metrics.slowClientDisconnects > disconnects;
      },
      'the slow client to be disconnected',
      20_000,
      0,
    );
    req.destroy();

    for (const s of [...sse, ndjson]) s.close();
    await waitFor(() => metrics.openStreams === 0, 'every stream closed');
    now = (await scrape(app)).samples;
    expect(value(now, 'nestjs_flush_resyncs_total')).toBe(
      value(before, 'nestjs_flush_resyncs_total') + 1,
    );
    expect(value(now, 'nestjs_flush_slow_client_drops_total', { action: 'disconnect' })).toBe(
      value(before, 'nestjs_flush_slow_client_drops_total', { action: 'disconnect' }) + 1,
    );
    for (const format of ['sse', 'ndjson', 'text'])
      expect(value(now, 'nestjs_flush_streams_open', { format })).toBe(0);
  }, 60_000);
});

describe('FlushPrometheusModule across applications', () => {
  it('keeps its counters through app.close() and a second app on the same registry, without double registration', async () => {
    const shared = new Registry();
    @Module({
      imports: [FlushModule.forRoot(), FlushPrometheusModule.register({ registry: shared })],
    })
    class AppModule {}
    const first = await startApp('express', [AppModule]);
    await first.get(FlushHub).publish('a', 1);
    await first.get(FlushHub).publish('a', 2);
    await first.close();
    let samples = parsePrometheusText(await shared.metrics()).samples;
    expect(value(samples, 'nestjs_flush_events_published_total')).toBe(2);
    expect(value(samples, 'nestjs_flush_transport_up')).toBe(0);

    const second = await startApp('fastify', [AppModule]);
    await second.get(FlushHub).publish('a', 3);
    samples = parsePrometheusText(await shared.metrics()).samples;
    expect(value(samples, 'nestjs_flush_events_published_total')).toBe(3);
    expect(value(samples, 'nestjs_flush_transport_up')).toBe(1);
    await second.close();
  });

  it('uses prom-client’s global registry by default (what @willsoto/nestjs-prometheus serves)', async () => {
    const { register } = await import('prom-client');
    @Module({ imports: [FlushModule.forRoot(), FlushPrometheusModule.register()] })
    class AppModule {}
    const app = await startApp('express', [AppModule]);
    try {
      await app.get(FlushHub).publish('b', 1);
      const text = await register.metrics();
      expect(
        value(parsePrometheusText(text).samples, 'nestjs_flush_events_published_total'),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await app.close();
    }
  });

  it.each([
    [{ registry: {} }, /"registry" must be a prom-client Registry .*; received an object/],
    [{ channelLabel: 'news' }, /"channelLabel" must be a function/],
    [
      {
        channelLabel: () => {
          throw new Error('boom');
        },
      },
      /"channelLabel" must return a string or undefined for every channel: for "news" it threw "boom"/,
    ],
    [{ channelLabel: () => 42 }, /for "news" it returned number 42/],
  ])('fails the bootstrap on bad options (%p), never a request', async (options, message) => {
    @Module({
      imports: [FlushModule.forRoot(), FlushPrometheusModule.register(options as never)],
    })
    class BadModule {}
    await expect(startApp('express', [BadModule])).rejects.toThrow(message);
  });
});
