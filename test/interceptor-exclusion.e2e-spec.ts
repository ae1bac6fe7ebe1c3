import type { INestApplication, LoggerService } from '@nestjs/common';
import { readSse, readText } from '../src/testing/index.js';
import { calls, GlobalEnvelopeInterceptor } from './fixtures/exclusion/exclusion.interceptors.js';
import { ExclusionModule, WithoutFlushModule } from './fixtures/exclusion/exclusion.module.js';
import { JsonExceptionFilter } from './fixtures/exclusion/json-exception.filter.js';
import { rawRequest } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';
import { waitFor } from './utils/wait.js';

/** Collects what Nest logs, to prove there is no ERR_HTTP_HEADERS_SENT. */
class CollectingLogger implements LoggerService {
  readonly lines: string[] = [];
  log() {}
  warn(...args: unknown[]) {
    this.lines.push(args.map(String).join(' '));
  }
  error(...args: unknown[]) {
    this.lines.push(args.map(String).join(' '));
  }
}

const layersOf = (body: unknown): string[] => {
  const out: string[] = [];
  let cur = body as { by?: string; data?: unknown };
  while (cur && typeof cur === 'object' && 'by' in cur) {
    out.push(cur.by!);
    cur = cur.data as typeof cur;
  }
  return out;
};

describe.each(platforms)('interceptor exclusion (%s)', platform => {
  describe('without FlushModule (the problem)', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(platform, [WithoutFlushModule], a => {
        a.useGlobalInterceptors(new GlobalEnvelopeInterceptor());
      });
    });
    afterAll(() => app.close());

    it('envelopes every @Sse() event, losing the event fields', async () => {
      const { items } = await readSse(app, '/sse', { count: 1 });
      expect(JSON.parse(items[0].data)).toHaveProperty('code', 0);
    });
  });

  describe('with FlushModule', () => {
    let app: INestApplication;
    const logger = new CollectingLogger();
    beforeAll(async () => {
      app = await startApp(platform, [ExclusionModule], a => {
        a.useGlobalInterceptors(new GlobalEnvelopeInterceptor());
        a.useGlobalFilters(new JsonExceptionFilter());
        a.useLogger(logger);
      });
    });
    afterAll(() => app.close());
    beforeEach(() => {
      calls.length = 0;
    });

    it('leaves @Sse() events exactly as emitted (data, event, id)', async () => {
      const { status, items } = await readSse(app, '/sse', { count: 3 });
      expect(status).toBe(200);
      expect(items).toEqual([
        { event: 'tick', id: 'id-0', data: '{"i":0}' },
        { event: 'tick', id: 'id-1', data: '{"i":1}' },
        { event: 'tick', id: 'id-2', data: '{"i":2}' },
      ]);
    });

    it('still envelopes JSON routes through every registration path', async () => {
      const res = await rawRequest(app, '/json');
      const layers = layersOf(JSON.parse(res.body));
      expect(layers).toEqual(
        expect.arrayContaining([
          'useGlobalInterceptors',
          'APP_INTERCEPTOR',
          'APP_INTERCEPTOR(request)',
          'APP_INTERCEPTOR(factory)',
        ]),
      );
      expect(layers).toHaveLength(4);
    });

    it('keeps a stream alive through a global timeout(500) when it is silent for 1.5 s', async () => {
      const { items } = await readSse(app, '/quiet', { count: 1, timeoutMs: 4000 });
      expect(items).toEqual([{ id: 'q1', data: 'after-silence' }]);
    });

    it('runs @StreamSafe() interceptors on streaming routes', async () => {
      await readSse(app, '/sse', { count: 1 });
      expect(calls).toContainEqual({ by: 'stream-safe', route: 'sse' });
    });

    it('runs controller/method-level interceptors by default, and skips them with @FlushSkipInterceptors("all")', async () => {
      await readSse(app, '/local', { count: 1 });
      await readSse(app, '/local-skipped', { count: 1 });
      expect(calls).toContainEqual({ by: 'local', route: 'local' });
      expect(calls).not.toContainEqual({ by: 'local', route: 'localSkipped' });
    });

    it('leaves @Flush() routes unwrapped', async () => {
      const { items } = await readSse(app, '/flush', { count: 2 });
      expect(items.map(e => e.data)).toEqual(['{"i":0}', '{"i":1}']);
    });

    /**
     * A marker: one more failing stream, whose failure is logged. Once the log holds `total`
     * failure lines (counted since the test cleared it), whatever the requests before the marker
     * logged is in too.
     */
    const failureLines = () => logger.lines.filter(l => l.includes('failed after its headers'));
    const loggedAfter = async (total: number) => {
      await rawRequest(app, '/fails');
      await waitFor(() => failureLines().length === total, `${total} stream failure log line(s)`);
    };

    it('lets a @StreamingRoute() write the response itself, without envelope or ERR_HTTP_HEADERS_SENT', async () => {
      logger.lines.length = 0;
      const res = await readText(app, '/raw');
      expect(res.items.join('')).toBe('one\ntwo\n');
      await loggedAfter(1);
      expect(logger.lines.join('\n')).not.toMatch(/HEADERS_SENT|Cannot set headers/);
    });

    it('answers errors before the headers with a real status (guard 403, pipe 400, async @Flush() 404)', async () => {
      expect((await rawRequest(app, '/forbidden')).status).toBe(403);
      expect((await rawRequest(app, '/pipe?n=abc')).status).toBe(400);
      const missing = await rawRequest(app, '/missing');
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toMatchObject({ filter: 'json', statusCode: 404 });
    });

    it('turns an error after the headers into a sanitized error event and a clean close', async () => {
      logger.lines.length = 0;
      const res = await rawRequest(app, '/fails');
      expect(res.status).toBe(200);
      expect(res.complete).toBe(true);
      expect(res.body).toContain('event: error\n');
      expect(res.body).toContain('data: Internal server error\n');
      expect(res.body).not.toContain('hunter2');
      await loggedAfter(2); // its own failure, then the marker's
      expect(logger.lines.join('\n')).not.toMatch(/HEADERS_SENT|Cannot set headers/);
    });

    it('does the same on @Flush() routes', async () => {
      const res = await rawRequest(app, '/flush-fails');
      expect(res.status).toBe(200);
      expect(res.body).toContain('data: {"step":1}\n');
      expect(res.body).toContain('event: error\ndata: Internal server error\n\n');
      expect(res.body).not.toContain('internal detail');
    });
  });
});
