import { createGunzip } from 'node:zlib';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import compression from 'compression';
import fastifyCompress from '@fastify/compress';
import { EventSource } from 'eventsource';
import { FlushMetrics } from '../src/index.js';
import { baseUrl, parseSseStream, readNdjson, readSse, readText } from '../src/testing/index.js';
import { flushFixtureModule, probe } from './fixtures/flush/flush.controller.js';
import { rawRequest } from './utils/http.js';
import { sseData } from './utils/json.js';
import { platforms, startApp, type PlatformName } from './utils/platforms.js';
import { waitFor } from './utils/wait.js';

const SOURCES = ['observable', 'generator', 'readable', 'webstream'] as const;

const withCompression = async (platform: PlatformName, app: INestApplication) => {
  if (platform === 'express') app.use(compression());
  else
    await (app as unknown as { register: (p: unknown, o?: unknown) => Promise<void> }).register(
      fastifyCompress,
      { global: true, threshold: 0 },
    );
};

describe.each(platforms)('@Flush() (%s)', platform => {
  describe.each([
    ['without compression', false],
    ['behind compression middleware', true],
  ])('%s', (_label, compressed) => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(platform, [flushFixtureModule()], a =>
        compressed ? withCompression(platform, a) : undefined,
      );
    });
    afterAll(() => app.close());

    it.each(SOURCES)(
      'SSE from %s: each event arrives when produced, uncompressed, chunked',
      async kind => {
        const res = await readSse(app, `/sse/${kind}`, { headers: { 'accept-encoding': 'gzip' } });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        expect(res.headers['content-encoding']).toBeUndefined();
        expect(res.headers['content-length']).toBeUndefined();
        expect(res.headers['cache-control']).toContain('no-transform');
        expect(res.headers['x-accel-buffering']).toBe('no');
        expect(sseData<{ i: number }>(res.items).map(d => d.i)).toEqual([0, 1, 2, 3, 4]);
        // The producer needs ~600 ms; the first event is on the wire long before the last.
        // (Relative timings only: absolute ones flake on a loaded CI machine.)
        expect(res.arrivals[4] - res.arrivals[0]).toBeGreaterThan(400);
      },
    );

    it.each(SOURCES)('NDJSON from %s: one JSON line per item, each when produced', async kind => {
      const res = await readNdjson<{ i: number }>(app, `/ndjson/${kind}`, {
        headers: { 'accept-encoding': 'gzip' },
      });
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.items).toEqual([0, 1, 2, 3, 4].map(i => ({ i })));
      expect(res.arrivals[4] - res.arrivals[0]).toBeGreaterThan(400);
    });

    it('text: chunks as given, each when produced', async () => {
      const res = await readText(app, '/text/generator', {
        headers: { 'accept-encoding': 'gzip' },
      });
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.items.join('')).toBe('Hello streaming world');
      expect(res.items.length).toBeGreaterThanOrEqual(3);
      expect(res.arrivals.at(-1)! - res.arrivals[0]).toBeGreaterThan(200);
    });

    it('SSE from a Promise of a source', async () => {
      const res = await readSse(app, '/sse/promise');
      expect(res.items).toHaveLength(5);
    });
  });

  describe('wire format, methods, heartbeats, errors', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(platform, [flushFixtureModule()]);
    });
    afterAll(() => app.close());
    beforeEach(() => probe.reset());

    it('writes exact SSE bytes for tricky payloads', async () => {
      const res = await rawRequest(app, '/tricky');
      expect(res.body).toBe(
        [
          'data: multi\ndata: line\n\n',
          'data: cr\ndata: alone\n\n',
          'data: crlf\ndata: end\n\n',
          'data: unicode é ✓ 😀\n\n',
          'data: nul\0inside\n\n',
          'data: \n\n',
          'data: 0\n\n',
          'data: null\n\n',
          'event: event\nid: ab\ndata: x\n\n',
        ].join(''),
      );
      expect(res.complete).toBe(true);
    });

    it('sends user objects as data, whatever their keys; only sseEvent() sets fields', async () => {
      const res = await rawRequest(app, '/echo');
      expect(res.body).toBe(
        [
          'data: {"data":"hi","event":"logout","id":"999","retry":1}\n\n',
          'data: {"comment":"not a comment"}\n\n',
          'event: explicit\nid: 7\ndata: {"ok":true}\n\n',
        ].join(''),
      );
    });

    it('is read the same way by a real EventSource client', async () => {
      const es = new EventSource(`${baseUrl(app)}/tricky`);
      const got: string[] = [];
      await new Promise<void>(resolve => {
        es.onmessage = (e: MessageEvent<string>) => {
          got.push(e.data);
          if (got.length === 8) resolve();
        };
      });
      es.close();
      expect(got).toEqual([
        'multi\nline',
        'cr\nalone',
        'crlf\nend',
        'unicode é ✓ 😀',
        'nul\0inside',
        '',
        '0',
        'null',
      ]);
    });

    it('progressive HTML keeps the content type the route sets', async () => {
      const res = await readText(app, '/html');
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.items.join('')).toBe('<!doctype html><p>first</p><p>second</p>');
    });

    it('sends heartbeat comments during silence', async () => {
      const res = await rawRequest(app, '/heartbeat', {
        onData: body => parseSseStream(body).comments.length >= 3,
      });
      const parsed = parseSseStream(res.body);
      expect(parsed.events).toHaveLength(0);
      expect(parsed.comments.length).toBeGreaterThanOrEqual(3);
    });

    it('sends the retry hint and padding first when asked', async () => {
      const res = await rawRequest(app, '/retry');
      expect(res.body.startsWith(`: ${' '.repeat(2048)}\n\nretry: 2500\n\n`)).toBe(true);
    });

    it('answers POST streams with 200 and streams tokens (LLM style)', async () => {
      const res = await readText(app, '/post', { method: 'POST', body: { prompt: 'hi there' } });
      expect(res.status).toBe(200);
      expect(res.items.join('')).toBe('echo: hi there ');
      expect((await rawRequest(app, '/post-201', { method: 'POST' })).status).toBe(201);
    });

    it('answers HEAD with the headers only; the producer never starts', async () => {
      const res = await rawRequest(app, '/sse/generator', { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(res.body).toBe('');
      const metrics = app.get(FlushMetrics);
      await waitFor(() => metrics.openStreams === 0, 'no stream open after the HEAD');
      expect(probe.started.has('sse/generator')).toBe(false);
    });

    it('turns a serialization failure into an error event and a clean close', async () => {
      const res = await rawRequest(app, '/bigint');
      expect(res.body).toBe('data: {"ok":1}\n\nevent: error\ndata: Internal server error\n\n');
      expect(res.complete).toBe(true);
    });

    it('NDJSON errors: an error line, then an aborted body the client sees as a failure', async () => {
      const res = await rawRequest(app, '/ndjson/fails');
      expect(res.body).toBe(
        '{"ok":1}\n{"error":{"statusCode":500,"message":"Internal server error"}}\n',
      );
      expect(res.complete).toBe(false);
    });

    it.each([...SOURCES.map(s => `sse/${s}`), 'post'])(
      'stops the %s producer within 1 s of the client leaving',
      async route => {
        const isPost = route === 'post';
        await new Promise<void>((resolve, reject) => {
          const req = request(
            `${baseUrl(app)}/${route}`,
            { method: isPost ? 'POST' : 'GET', headers: { 'content-type': 'application/json' } },
            res => {
              res.once('data', () => {
                req.destroy();
                resolve();
              });
            },
          );
          req.on('error', () => undefined);
          req.on('close', () => resolve());
          req.end(
            isPost
              ? JSON.stringify({ prompt: 'a b c d e f g h i j k l m n o p q r s t u v w x y z' })
              : undefined,
          );
          setTimeout(() => reject(new Error('no first chunk')), 2000);
        });
        const left = Date.now();
        await waitFor(() => probe.stopped.has(route), `the ${route} producer to stop`, 1000);
        expect(Date.now() - left).toBeLessThan(1000);
        const metrics = app.get(FlushMetrics);
        await waitFor(() => metrics.openStreams === 0, 'no open stream', 1000);
      },
    );

    it('bounds what a client that reads nothing costs, then disconnects it', async () => {
      const metrics = app.get(FlushMetrics);
      const before = metrics.slowClientDisconnects;
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const req = request(`${baseUrl(app)}/flood`, res => res.pause());
      req.on('error', () => undefined);
      req.end();
      try {
        await waitFor(() => probe.stopped.has('flood'), 'the flood producer to stop', 10_000);
      } finally {
        clearInterval(sampler);
        req.destroy();
      }
      expect(metrics.slowClientDisconnects).toBe(before + 1);
      expect(probe.floodEmitted).toBeLessThan(50 * 1024 * 1024);
      // Bound 1 MiB + socket buffers + a generous constant for the test process itself.
      expect(peak - rssBefore).toBeLessThan(64 * 1024 * 1024);
    });
  });

  describe('opt-in compression', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(platform, [flushFixtureModule()]);
    });
    afterAll(() => app.close());

    it('gzips with a flush per event: each word decompresses when produced', async () => {
      const { status, headers, parts } = await new Promise<{
        status: number;
        headers: Record<string, unknown>;
        parts: { at: number; text: string }[];
      }>((resolve, reject) => {
        const started = Date.now();
        const req = request(
          `${baseUrl(app)}/text/gzip`,
          { headers: { 'accept-encoding': 'gzip' } },
          res => {
            const parts: { at: number; text: string }[] = [];
            const gunzip = createGunzip();
            gunzip.on('data', (d: Buffer) =>
              parts.push({ at: Date.now() - started, text: d.toString() }),
            );
            gunzip.on('end', () =>
              resolve({ status: res.statusCode!, headers: res.headers, parts }),
            );
            gunzip.on('error', reject);
            res.pipe(gunzip);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(headers['content-encoding']).toBe('gzip');
      expect(parts.map(p => p.text).join('')).toBe('Hello compressed world');
      expect(parts[0].text).toBe('Hello');
      expect(parts.at(-1)!.at - parts[0].at).toBeGreaterThan(200);
    });

    it('sends the same route uncompressed to a client that does not accept gzip', async () => {
      const res = await readText(app, '/text/gzip');
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.items.join('')).toBe('Hello compressed world');
    });
  });

  describe('graceful shutdown', () => {
    it('does not wait for connections a client opened ahead of use (browsers, fetch pools)', async () => {
      const app = await startApp(platform, [flushFixtureModule()]);
      const { port } = new URL(baseUrl(app));
      const idle = connect(Number(port), '127.0.0.1');
      await new Promise(r => idle.once('connect', r));
      const stream = rawRequest(app, '/forever');
      await waitFor(() => app.get(FlushMetrics).openStreams === 1, 'the open stream');
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(1000);
      expect((await stream).body).toMatch(/retry: \d+/);
      idle.destroy();
    });

    it('ends 1000 open streams promptly on app.close(), with a jittered retry hint', async () => {
      const app = await startApp(platform, [flushFixtureModule({ shutdownRetryMs: [1000, 3000] })]);
      const metrics = app.get(FlushMetrics);
      const url = baseUrl(app);
      const bodies: string[] = [];
      const ended: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        ended.push(
          new Promise<void>(resolve => {
            const req = request(
              `${url}/${i % 2 ? 'forever' : 'nest-sse'}`,
              { agent: false },
              res => {
                let body = '';
                res.setEncoding('utf8');
                res.on('data', (d: string) => (body += d));
                res.on('close', () => {
                  bodies.push(body);
                  resolve();
                });
              },
            );
            req.on('error', () => resolve());
            req.end();
          }),
        );
      }
      await waitFor(() => metrics.openStreams === 1000, '1000 open streams', 15_000);
      const started = Date.now();
      await app.close();
      const took = Date.now() - started;
      console.log(`shutdown of 1000 streams (${platform}) took ${took} ms`);
      await Promise.all(ended);
      expect(took).toBeLessThan(3000);
      const retries = bodies
        .map(b => parseSseStream(b).retries[0])
        .filter((r): r is number => r !== undefined);
      expect(retries.length).toBe(1000);
      expect(Math.min(...retries)).toBeGreaterThanOrEqual(1000);
      expect(Math.max(...retries)).toBeLessThanOrEqual(3000);
      expect(new Set(retries).size).toBeGreaterThan(100);
    }, 60000);
  });
});
