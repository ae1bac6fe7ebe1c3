// Runs the README "Quickstart" app (quickstart-app/src) on both adapters.
import type { INestApplication } from '@nestjs/common';
import { readNdjson, readSse, readText } from 'nestjs-flush/testing';
import { rawRequest } from '../utils/http.js';
import { parseJson } from '../utils/json.js';
import { platforms, startApp } from '../utils/platforms.js';
import { AppModule } from './quickstart-app/src/app.module.js';

describe.each(platforms)('README quickstart (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [AppModule]);
  });
  afterAll(() => app.close());

  const post = (path: string, body: unknown) =>
    rawRequest(app, path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('publishes headlines and resumes the stream after a Last-Event-ID', async () => {
    const first = await post('/news', { title: 'a' });
    expect(first.status).toBe(201);
    await post('/news', { title: 'b' });
    await post('/news', { title: 'c' });
    const { status, headers, items } = await readSse(app, '/news/stream', {
      headers: { 'last-event-id': first.body },
      count: 2,
    });
    expect(status).toBe(200);
    expect(headers['content-type']).toMatch(/^text\/event-stream/);
    expect(items.map(e => [e.event, parseJson<{ title: string }>(e.data).title])).toEqual([
      ['headline', 'b'],
      ['headline', 'c'],
    ]);
  });

  it('exports rows as NDJSON', async () => {
    const { status, headers, items } = await readNdjson(app, '/export', { count: 3 });
    expect(status).toBe(200);
    expect(headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(items).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
  });

  it('streams the completion as text, 200', async () => {
    const { status, items, ended } = await readText(app, '/complete', {
      method: 'POST',
      body: { prompt: 'one two three' },
    });
    expect(status).toBe(200);
    expect(ended).toBe(true);
    expect(items.join('')).toBe('one two three ');
  });
});
