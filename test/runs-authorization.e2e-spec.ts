// Runs and the module's rules (issue 19): `run()` and `attach()` apply the `authorize` rules to
// the run's channel `run:<key>`, for the request of the streaming route that calls them (a 403
// before any byte; a refused run never calls its producer); run events count as hub publishes in
// FlushMetrics and in Prometheus' nestjs_flush_events_published_total.
import { expect } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Controller, Get, Header, Module, type INestApplication } from '@nestjs/common';
import { Registry } from 'prom-client';
import { lastValueFrom, toArray } from 'rxjs';
import {
  FlushConfigurationError,
  FlushHub,
  FlushMetrics,
  FlushModule,
  type FlushAuthorizeRule,
} from '../src/index.js';
import { FlushPrometheusModule } from '../src/prometheus.js';
import { baseUrl } from '../src/testing/index.js';
import { RunsController, runProbe, tokenText } from './fixtures/runs/runs.controller.js';
import { rawRequest } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';
import { parsePrometheusText, sampleValue } from './utils/prometheus-text.js';
import { endOf, eventsOf, runText } from './utils/runs.js';

const key = () => `auth-${randomUUID()}`;
const admin = { 'x-user': 'admin' };

/** Runs (any key, `/` included) only for `x-user: admin`; every other channel for anyone. */
const rules: FlushAuthorizeRule[] = [
  {
    channel: 'run:**',
    authorize: (_channel, request) =>
      (request as { headers: Record<string, unknown> }).headers['x-user'] === 'admin',
  },
  { channel: '**', authorize: () => true },
];

const registry = new Registry();

@Controller()
class MetricsController {
  @Get('metrics')
  @Header('content-type', registry.contentType)
  metrics(): Promise<string> {
    return registry.metrics();
  }
}

@Module({
  imports: [
    FlushModule.forRoot({ heartbeatIntervalMs: false, authorize: rules }),
    FlushPrometheusModule.register({ registry, channelLabel: channel => channel.split(':')[0] }),
  ],
  controllers: [RunsController, MetricsController],
})
class GuardedRunsModule {}

/** A refusal answered before any stream byte: the 403 JSON of Nest's exception filter. */
const expectRefused = (res: { status: number; headers: Record<string, unknown>; body: string }) => {
  expect(res.status).toBe(403);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  expect(JSON.parse(res.body)).toMatchObject({ statusCode: 403 });
  expect(res.body).not.toContain('data:');
};

describe.each(platforms)('runs under authorize rules (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [GuardedRunsModule]);
  });
  afterAll(() => app?.close());

  it('refuses run() with a 403 before any byte and never calls the producer; allows it for the right request', async () => {
    const k = key();
    expectRefused(await rawRequest(app, `/runs/${k}/start?n=3&ms=0`));
    expect(runProbe.started.has(k)).toBe(false);
    // The key was not taken: the allowed client starts it.
    const res = await rawRequest(app, `/runs/${k}/start?n=3&ms=0`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/event-stream/);
    expect(runProbe.started.get(k)).toBe(1);
  });

  it('refuses attach() with a 403 before any byte, on SSE and NDJSON routes, before the key is looked up', async () => {
    const k = key();
    const started = await rawRequest(app, `/runs/${k}/start?n=5&ms=0`, { headers: admin });
    expect(started.status).toBe(200);
    expectRefused(await rawRequest(app, `/runs/${k}`));
    expectRefused(await rawRequest(app, `/runs/${k}/ndjson`));
    // An unknown key is a 403 too, not a 404: a refused client learns nothing of the run.
    expectRefused(await rawRequest(app, `/runs/${key()}`));
    const attached = await rawRequest(app, `/runs/${k}`, { headers: admin });
    expect(attached.status).toBe(200);
    expect(runText((await readRunAs(app, `/runs/${k}`)).events)).toBe(tokenText(5));
  });

  it('outside a streaming route: throws without { request } or skipAuthorization, authorizes { request }', async () => {
    const hub = app.get(FlushHub);
    const k = key();
    expect((await rawRequest(app, `/runs/${k}/start?n=2&ms=0`, { headers: admin })).status).toBe(
      200,
    );
    expect(() => hub.attach(k)).toThrow(FlushConfigurationError);
    expect(() => hub.attach(k)).toThrow(/pass \{ request \}.*\{ skipAuthorization: true \}/);
    expect(() => hub.run(key(), () => (async function* () {})())).toThrow(FlushConfigurationError);
    const asAdmin = await lastValueFrom(
      hub.attach(k, { request: { headers: admin } }).pipe(toArray()),
    );
    expect(asAdmin.at(-1)).toMatchObject({ type: 'end', data: '{"status":"completed"}' });
    await expect(
      lastValueFrom(hub.attach(k, { request: { headers: {} } }).pipe(toArray())),
    ).rejects.toMatchObject({ status: 403 });
    const internal = await lastValueFrom(
      hub.attach(k, { skipAuthorization: true }).pipe(toArray()),
    );
    expect(internal.map(e => e.data).slice(0, 2)).toEqual(['t0 ', 't1 ']);
  });

  it('counts run events as hub publishes: FlushMetrics.published and nestjs_flush_events_published_total', async () => {
    const metrics = app.get(FlushMetrics);
    const scrape = async () => {
      const res = await fetch(`${baseUrl(app)}/metrics`);
      return parsePrometheusText(await res.text()).samples;
    };
    const before = metrics.snapshot().published;
    const scrapedBefore = await scrape();
    const k = key();
    const run = await readRunAs(app, `/runs/${k}/start?n=7&ms=0`);
    expect(endOf(run.events)).toEqual({ status: 'completed' });
    // 7 tokens and the end event, each published once into run:<key>; an attach publishes nothing.
    expect(metrics.snapshot().published).toBe(before + 8);
    await readRunAs(app, `/runs/${k}`);
    expect(metrics.snapshot().published).toBe(before + 8);
    const scraped = await scrape();
    expect(sampleValue(scraped, 'nestjs_flush_events_published_total')).toBe(
      sampleValue(scrapedBefore, 'nestjs_flush_events_published_total') + 8,
    );
    expect(sampleValue(scraped, 'nestjs_flush_events_published_total', { channel: 'run' })).toBe(
      sampleValue(scrapedBefore, 'nestjs_flush_events_published_total', { channel: 'run' }) + 8,
    );
  });
});

/** readRun as the allowed user. */
const readRunAs = async (app: INestApplication, path: string) => {
  const res = await rawRequest(app, path, { headers: admin });
  return { ...res, events: eventsOf(res.body) };
};
