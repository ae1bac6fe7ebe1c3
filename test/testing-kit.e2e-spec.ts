import type { INestApplication } from '@nestjs/common';
import { FLUSH_OPTIONS, FlushHub, type ResolvedFlushOptions } from '../src/index.js';
import { FlushTestingModule, RecordingFlushTransport, readSse } from '../src/testing/index.js';
import { ChannelsModule, channelsInstance } from './fixtures/channels/channels.controller.js';
import { subscribers } from './utils/hub.js';
import { rawRequest } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';

const heartbeats = (body: string) => (body.match(/^:$/gm) ?? []).length;

describe.each(platforms)('nestjs-flush/testing (%s)', platform => {
  describe('FlushTestingModule.forRoot()', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(platform, [FlushTestingModule.forRoot(), ChannelsModule]);
    });
    afterAll(() => app?.close());

    it('turns the heartbeat off and keeps the other defaults', () => {
      const options = app.get<ResolvedFlushOptions>(FLUSH_OPTIONS);
      expect(options.heartbeatIntervalMs).toBe(false);
      expect(options.historySize).toBeGreaterThan(0);
    });

    it("provides the hub: a test's publish reaches an @Sse() stream and a @Flush() stream", async () => {
      const hub = app.get(FlushHub);
      const sse = readSse(app, '/sse/kit', { count: 1 });
      const flush = readSse(app, '/flush/kit', { count: 1 });
      await subscribers(app, 'kit', 2);
      const id = await hub.publish('kit', { hello: 'test' }, { event: 'greeting' });
      for (const { items } of await Promise.all([sse, flush]))
        expect(items).toEqual([{ event: 'greeting', id, data: '{"hello":"test"}' }]);
    });

    it('keeps history in memory: a Last-Event-ID resumes', async () => {
      const hub = app.get(FlushHub);
      const first = await hub.publish('kit-history', 1);
      const second = await hub.publish('kit-history', 2);
      const { items } = await readSse(app, '/sse/kit-history', {
        headers: { 'last-event-id': first },
        count: 1,
      });
      expect(items).toEqual([{ id: second, data: '2' }]);
    });
  });

  it('FlushTestingModule.forRoot({ heartbeatIntervalMs }) turns heartbeats back on', async () => {
    const app = await startApp(platform, [
      FlushTestingModule.forRoot({ heartbeatIntervalMs: 50 }),
      ChannelsModule,
    ]);
    try {
      const res = await rawRequest(app, '/sse/beating', { onData: body => heartbeats(body) >= 2 });
      expect(res.status).toBe(200);
      expect(heartbeats(res.body)).toBeGreaterThanOrEqual(2);
    } finally {
      await app.close();
    }
  });

  describe('RecordingFlushTransport', () => {
    it('records every publish made through FlushTestingModule, with the id the hub returned', async () => {
      const transport = new RecordingFlushTransport();
      const app = await startApp(platform, [
        FlushTestingModule.forRoot({ transport }),
        ChannelsModule,
      ]);
      try {
        const hub = app.get(FlushHub);
        const reading = readSse(app, '/sse/orders', { count: 2 });
        await subscribers(app, 'orders', 1);
        const a = await hub.publish('orders', { n: 1 });
        const b = await hub.publish('orders', 'two', { event: 'order' });
        const c = await hub.publish('audit', null);
        expect(transport.published).toEqual([
          { channel: 'orders', event: { id: a, data: '{"n":1}' } },
          { channel: 'orders', event: { id: b, event: 'order', data: 'two' } },
          { channel: 'audit', event: { id: c, data: 'null' } },
        ]);
        // It is still a working transport: subscribers get what it recorded (strings as they are).
        expect((await reading).items).toEqual([
          { id: a, data: '{"n":1}' },
          { event: 'order', id: b, data: 'two' },
        ]);
      } finally {
        await app.close();
      }
    });

    it("records publishes as the app's own FlushModule transport too, and replays from its history", async () => {
      const transport = new RecordingFlushTransport();
      const app = await startApp(platform, [channelsInstance(transport)]);
      try {
        const hub = app.get(FlushHub);
        const first = await hub.publish('replayed', 'a');
        const second = await hub.publish('replayed', 'b');
        expect(transport.published.map(p => p.event.id)).toEqual([first, second]);
        const { items } = await readSse(app, '/sse/replayed', {
          headers: { 'last-event-id': first },
          count: 1,
        });
        expect(items).toEqual([{ id: second, data: 'b' }]);
      } finally {
        await app.close();
      }
    });
  });
});
