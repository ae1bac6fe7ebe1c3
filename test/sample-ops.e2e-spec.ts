// The sample's operations routes, as a NestJS team runs them: `/metrics` (nestjs-flush/prometheus
// on prom-client's registry), `/health` (@nestjs/terminus with FlushHealthIndicator) and `/docs`
// (@nestjs/swagger, every stream route documented with @ApiFlush()), on both adapters.
import { expect } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { AppModule } from '../sample/app.module.js';
import { setupDocs } from '../sample/docs/docs.setup.js';
import { baseUrl } from '../src/testing/index.js';
import { openStream, type OpenStream } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';
import { parsePrometheusText, sampleValue } from './utils/prometheus-text.js';
import { waitFor } from './utils/wait.js';

/** A schema of one item of a stream, as much of it as is read here. */
interface ItemSchema {
  title?: string;
  properties?: { event?: { enum?: string[] } };
}

/** The OpenAPI document, as much of it as is read here. */
interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<
          string,
          {
            content?: Record<string, { schema?: ItemSchema & { oneOf?: ItemSchema[] } }>;
          }
        >;
      }
    >
  >;
}

/** The stream routes of the sample: method, path, content type, event names. */
const STREAM_ROUTES: [string, string, string, string[]][] = [
  ['get', '/api/ticker', 'text/event-stream', ['message', 'resync']],
  ['get', '/api/chat/stream', 'text/event-stream', ['welcome', 'message', 'resync']],
  [
    'get',
    '/api/board',
    'text/event-stream',
    ['snapshot', 'order-created', 'order-updated', 'alert', 'resync'],
  ],
  ['post', '/api/llm', 'text/plain', ['token']],
  ['post', '/api/llm/runs/{key}', 'text/event-stream', ['message', 'end']],
  ['get', '/api/llm/runs/{key}', 'text/event-stream', ['message', 'end']],
  ['post', '/v1/chat/completions', 'text/event-stream', ['message']],
  ['get', '/api/export', 'application/x-ndjson', ['row']],
  ['get', '/api/stats/stream', 'text/event-stream', ['stats']],
];

describe.each(platforms)('sample /metrics, /health and /docs on %s', platform => {
  let app: INestApplication;
  let base: string;
  const streams: OpenStream[] = [];

  const redisUrl = process.env.REDIS_URL;

  beforeAll(async () => {
    delete process.env.REDIS_URL; // the in-memory transport: these routes are about the sample
    app = await startApp(platform, [AppModule], setupDocs);
    base = baseUrl(app);
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await app?.close();
    if (redisUrl !== undefined) process.env.REDIS_URL = redisUrl;
  });

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  };

  it('serves /metrics as Prometheus text: nestjs_flush_streams_open follows the open streams', async () => {
    const before = sampleValue((await scrape()).samples, 'nestjs_flush_streams_open', {
      format: 'sse',
    });
    for (const path of ['/api/ticker', '/api/chat/stream', '/api/board'])
      streams.push(openStream(app, path, { accept: 'text/event-stream' }));
    await Promise.all(streams.map(s => s.responded()));
    expect(streams.map(s => s.status)).toEqual([200, 200, 200]);
    let metrics = await scrape();
    await waitFor(async () => {
      metrics = await scrape();
      return (
        sampleValue(metrics.samples, 'nestjs_flush_streams_open', { format: 'sse' }) === before + 3
      );
    }, 'nestjs_flush_streams_open{format="sse"} to count the 3 streams');
    expect(metrics.types.nestjs_flush_streams_open).toBe('gauge');
    expect(metrics.help.nestjs_flush_streams_open).toBeTruthy();
    // The ticker publishes every second: its channel label counts it.
    await waitFor(
      async () =>
        sampleValue((await scrape()).samples, 'nestjs_flush_events_published_total', {
          channel: 'ticker',
        }) > 0,
      'a ticker event counted under channel="ticker"',
    );

    for (const stream of streams.splice(0)) stream.close();
    await waitFor(
      async () =>
        sampleValue((await scrape()).samples, 'nestjs_flush_streams_open', { format: 'sse' }) ===
        before,
      'nestjs_flush_streams_open to come back down',
    );
  });

  it('answers /health 200 with the flush indicator up (enveloped like every JSON route)', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      code: 0,
      message: '',
      data: expect.objectContaining({
        status: 'ok',
        info: { flush: { status: 'up', transport: 'InMemoryFlushTransport' } },
      }),
    });
    // The sample's own health route is still there.
    const own = (await (await fetch(`${base}/api/health`)).json()) as { data: { adapter: string } };
    expect(own.data.adapter).toBe(platform);
  });

  it('documents every stream route with its content type and events in /docs-json, and serves /docs', async () => {
    const res = await fetch(`${base}/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDocument;
    for (const [method, path, type, events] of STREAM_ROUTES) {
      const content = doc.paths[path]?.[method]?.responses['200']?.content;
      expect({ route: `${method} ${path}`, types: Object.keys(content ?? {}) }).toEqual({
        route: `${method} ${path}`,
        types: [type],
      });
      // One item of the stream: one alternative per event (SSE: its `event` name; NDJSON and
      // text: its title), or the one event's schema itself.
      const schema = content![type].schema;
      const names = schema?.oneOf?.map(item => item.properties?.event?.enum?.[0] ?? item.title) ?? [
        schema?.title,
      ];
      expect({ route: `${method} ${path}`, names }).toEqual({
        route: `${method} ${path}`,
        names: events,
      });
    }
    // JSON routes are there too; the page's static files are not.
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/health', '/health', '/api/chat']),
    );
    expect(doc.paths['/{file}']).toBeUndefined();

    const ui = await fetch(`${base}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await ui.text()).toContain('swagger-ui');
    const bundle = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});
