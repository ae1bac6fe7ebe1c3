import { expect } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { register } from 'prom-client';
import { baseUrl, readSse } from '../../src/testing/index.js';
import { platforms, startApp } from '../utils/platforms.js';
import { parsePrometheusText, sampleValue } from '../utils/prometheus-text.js';
import { subscriberCount } from '../utils/hub.js';
import { waitFor } from '../utils/wait.js';
import { AppModule } from './ecosystem.js';

describe.each(platforms)('README ecosystem example (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [AppModule]);
  });
  afterAll(() => app?.close());

  it('streams typed headlines, counts them on the global registry, and reports health', async () => {
    const reading = readSse(app, '/news', { count: 1 });
    await waitFor(() => subscriberCount(app, 'news') === 1, 'the subscriber');
    const res = await fetch(`${baseUrl(app)}/news`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Hello' }),
    });
    expect(res.status).toBe(201);
    const { items } = await reading;
    expect(items).toEqual([
      expect.objectContaining({ event: 'headline', data: '{"title":"Hello"}' }),
    ]);

    const { samples } = parsePrometheusText(await register.metrics());
    expect(
      sampleValue(samples, 'nestjs_flush_events_published_total', { channel: 'news' }),
    ).toBeGreaterThanOrEqual(1);
    const health = await fetch(`${baseUrl(app)}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ info: { flush: { status: 'up' } } });
  });
});
