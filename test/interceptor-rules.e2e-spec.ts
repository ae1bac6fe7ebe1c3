import { ApplicationConfig } from '@nestjs/core';
import { jest } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { FlushMetrics } from '../src/index.js';
import { readNdjson, readSse } from '../src/testing/index.js';
import {
  EnvelopeInterceptor,
  EventCounterInterceptor,
  RulesController,
  rulesModule,
} from './fixtures/rules/rules.controller.js';
import { rawRequest } from './utils/http.js';
import { sseData } from './utils/json.js';
import { platforms, startApp } from './utils/platforms.js';

const withEnvelope = (app: INestApplication) => {
  app.useGlobalInterceptors(new EnvelopeInterceptor());
};

describe.each(platforms)('interceptor rules on streaming routes (%s)', platform => {
  it("skipInterceptors: 'none' runs global interceptors on each event, as Nest would", async () => {
    const app = await startApp(platform, [rulesModule({ skipInterceptors: 'none' })], withEnvelope);
    try {
      // The envelope maps each MessageEvent into { code, message, data: event }: by Nest's
      // MessageEvent contract the client then gets the event as data, exactly as without
      // nestjs-flush (the defect 'global' exists to avoid).
      const sse = await readSse(app, '/rules/events', { count: 2 });
      expect(sseData(sse.items)).toEqual([{ data: { n: 1 } }, { data: { n: 2 } }]);
      // Other sources: the interceptor sees the stream object once; nestjs-flush unwraps it
      // from the envelope (as Nest does for streamed bodies) and streams it.
      const ndjson = await readNdjson(app, '/rules/ndjson');
      expect(ndjson.items).toEqual([{ n: 1 }, { n: 2 }]);
      expect((await rawRequest(app, '/rules/json')).body).toBe(
        '{"code":0,"message":"","data":{"hello":"world"}}',
      );
    } finally {
      await app.close();
    }
  });

  it('lets a @StreamSafe() global interceptor see each event and the end of the stream', async () => {
    const counter = new EventCounterInterceptor();
    const app = await startApp(platform, [rulesModule()], a => {
      a.useGlobalInterceptors(counter, new EnvelopeInterceptor());
    });
    try {
      const sse = await readSse(app, '/rules/events', { count: 2 });
      expect(sseData(sse.items)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(counter.seen).toEqual([{ data: { n: 1 } }, { data: { n: 2 } }]);
      expect(counter.completed).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('sends the same heartbeat comment on @Sse() and @Flush() routes, and heartbeats keep a quiet @Sse() stream alive', async () => {
    const app = await startApp(platform, [rulesModule({ heartbeatIntervalMs: 100 })]);
    try {
      const sse = await rawRequest(app, '/rules/quiet');
      expect(sse.body.startsWith('\n:\n\n')).toBe(true);
      expect(sse.body).toMatch(/id: q1\ndata: after-silence\n\n$/);
      expect(sse.body).not.toContain('event: error');
      const flush = await rawRequest(app, '/rules/quiet-flush', {
        onData: body => body.split(':\n\n').length > 3, // three heartbeats
      });
      expect(flush.body).toMatch(/^(:\n\n)+$/);
    } finally {
      await app.close();
    }
  });

  it('keeps two applications of one process apart, and restores the controller on close', async () => {
    const original = RulesController.prototype.events;
    const a = await startApp(platform, [rulesModule({ skipInterceptors: 'none' })], withEnvelope);
    const b = await startApp(platform, [rulesModule({ skipInterceptors: 'global' })], withEnvelope);
    try {
      const fromA = await readSse(a, '/rules/events', { count: 1 });
      const fromB = await readSse(b, '/rules/events', { count: 1 });
      expect(JSON.parse(fromA.items[0].data)).toEqual({ data: { n: 1 } }); // enveloped (rule 'none')
      expect(JSON.parse(fromB.items[0].data)).toEqual({ n: 1 });
      await a.close();
      const still = await readSse(b, '/rules/events', { count: 1 });
      expect(JSON.parse(still.items[0].data)).toEqual({ n: 1 });
    } finally {
      await a.close();
      await b.close();
    }
    // Nothing patched outlives the applications.
    expect(Object.getOwnPropertyDescriptor(RulesController.prototype, 'events')!.value).toBe(
      original,
    );
    expect(Reflect.getMetadata('__sse__', original)).toBe(true);
  });

  it('says so once, loudly, when a Nest internal it relies on is missing (and keeps @Flush() working)', async () => {
    const proto = ApplicationConfig.prototype as unknown as Record<string, unknown>;
    const saved = proto.addGlobalRequestInterceptor;
    const errors: string[] = [];
    const logged = jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation((message: unknown) => void errors.push(String(message)));
    delete proto.addGlobalRequestInterceptor;
    let app: INestApplication | undefined;
    try {
      app = await startApp(platform, [rulesModule()]);
      const missing = app.get(FlushMetrics).snapshot().nestInternalsMissing;
      expect(missing).toContain('ApplicationConfig.addGlobalRequestInterceptor()');
      const ndjson = await readNdjson(app, '/rules/ndjson');
      expect(ndjson.items).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      proto.addGlobalRequestInterceptor = saved;
      logged.mockRestore();
      await app?.close();
    }
    const reported = errors.filter(e =>
      e.includes('ApplicationConfig.addGlobalRequestInterceptor()'),
    );
    expect(reported).toHaveLength(1);
    expect(reported[0]).toContain('StreamAware');
  });
});
