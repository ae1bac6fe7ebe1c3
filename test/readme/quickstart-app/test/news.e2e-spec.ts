import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FlushHub } from 'nestjs-flush';
import { FlushTestingModule, readNdjson, readSse } from 'nestjs-flush/testing';
import { AppModule } from './../src/app.module.js';

describe('news streams (e2e)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleFixture = await Test.createTestingModule({
      imports: [AppModule, FlushTestingModule.forRoot()], // in-memory hub, no heartbeat
    }).compile();
    app = moduleFixture.createNestApplication();
    await app.listen(0); // a real port: streams are read over HTTP
  });

  afterAll(() => app.close());

  it('replays the headlines a client missed, after its Last-Event-ID', async () => {
    const hub = app.get(FlushHub);
    const seen = await hub.publish('news', { title: 'a' }, { event: 'headline' });
    await hub.publish('news', { title: 'b' }, { event: 'headline' });
    await hub.publish('news', { title: 'c' }, { event: 'headline' });

    const { status, items } = await readSse(app, '/news/stream', {
      headers: { 'last-event-id': seen },
      count: 2,
    });

    expect(status).toBe(200);
    expect(items.map(e => e.data)).toEqual(['{"title":"b"}', '{"title":"c"}']);
  });

  it('streams rows as NDJSON', async () => {
    const { items } = await readNdjson(app, '/export', { count: 100 });

    expect(items).toHaveLength(100);
    expect(items[99]).toEqual({ i: 99 });
  });
});
