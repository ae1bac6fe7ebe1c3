import type { INestApplication } from '@nestjs/common';
import { EventSource } from 'eventsource';
import { baseUrl } from '../src/testing/index.js';
import {
  NestSseSignal,
  sseCompatModule,
  sseSignalSeen,
} from './fixtures/sse-compat/sse-compat.controller.js';
import { rawRequest, type RawResponse } from './utils/http.js';
import { nestAtLeast, platforms, startApp } from './utils/platforms.js';
import { waitFor } from './utils/wait.js';

const HEADERS = [
  'content-type',
  'cache-control',
  'connection',
  'pragma',
  'expires',
  'x-accel-buffering',
  'x-custom',
  'x-from-interceptor',
  'x-from-handler',
] as const;

const view = (res: RawResponse) => ({
  status: res.status,
  headers: Object.fromEntries(HEADERS.map(name => [name, res.headers[name]])),
  body: res.body,
  complete: res.complete,
});

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
  connection: 'keep-alive',
  pragma: 'no-cache',
  expires: '0',
  'x-accel-buffering': 'no',
};

/**
 * Nest's own @Sse() behaviours, byte for byte, with FlushModule imported (nestjs-flush writes
 * the stream) and, where Nest itself has them (>= 11.2), without it: they must match.
 */
describe.each(platforms)('Nest @Sse() served by nestjs-flush (%s)', platform => {
  let without: INestApplication | undefined;
  let withFlush: INestApplication;
  // Nest's own @Sse() is the reference from 12.1.3 on. Before, it has defects nestjs-flush does
  // not copy (README, "@Sse() with FlushModule"): numeric data hangs the stream (11.2.10, 12.0.x),
  // `Expire: 0` misspelt, both Cache-Control values on fastify, headers of interceptors and the
  // handler's status lost, eager headers and no comments (11.0/11.1). There, our bytes are
  // checked alone, against the same expectations.
  const compare = nestAtLeast('12.1.3');

  beforeAll(async () => {
    // The app without FlushModule registers its routes first, from the controller as written.
    if (compare) without = await startApp(platform, [sseCompatModule(false)]);
    withFlush = await startApp(platform, [sseCompatModule(true)]);
  });
  afterAll(async () => {
    await withFlush?.close();
    await without?.close();
  });

  const both = async (path: string, options?: Parameters<typeof rawRequest>[2]) => {
    const ours = view(await rawRequest(withFlush, path, options));
    if (without) expect(ours).toEqual(view(await rawRequest(without, path, options)));
    if (ours.status < 300) expect(ours.headers).toMatchObject(SSE_HEADERS);
    return ours;
  };

  it('numbers events without an id per connection, keeps ids, names, retry and data as Nest does', async () => {
    const res = await both('/compat/events');
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject(SSE_HEADERS);
    expect(res.body).toBe(
      [
        '\n',
        'id: 1\ndata: plain\n\n',
        'event: obj\nid: 2\ndata: {"n":1}\n\n',
        'id: x-1\ndata: with id\n\n',
        'id: 3\ndata: multi\ndata: line\ndata: end\n\n',
        'id: 4\ndata: 42\n\n',
        'id: 5\nretry: 1500\ndata: hint\n\n',
      ].join(''),
    );
    expect(res.complete).toBe(true);
  });

  it('sends @Header() headers, with the SSE headers winning on the names they set', async () => {
    const res = await both('/compat/header');
    expect(res.headers['x-custom']).toBe('from-decorator');
    expect(res.headers['cache-control']).toBe(SSE_HEADERS['cache-control']);
  });

  it('sends headers an interceptor of the route sets', async () => {
    const res = await both('/compat/interceptor-header');
    expect(res.headers['x-from-interceptor']).toBe('yes');
    expect(res.body).toBe('\nid: 1\ndata: i\n\n');
  });

  it("lets the route's own interceptor map each event", async () => {
    const res = await both('/compat/mapped');
    expect(res.body).toBe('\nid: 1\ndata: A\n\nid: 2\ndata: B\n\n');
  });

  it('answers with @HttpCode() and with the status and headers the handler sets, sync or async', async () => {
    expect((await both('/compat/status')).status).toBe(202);
    const sync = await both('/compat/handler-sets');
    expect([sync.status, sync.headers['x-from-handler']]).toEqual([203, 'sync']);
    const later = await both('/compat/async-handler-sets');
    expect([later.status, later.headers['x-from-handler']]).toEqual([203, 'async']);
  });

  it('answers guards, pipes and async handler errors with their real status, before any header', async () => {
    expect((await both('/compat/guarded')).status).toBe(403);
    expect((await both('/compat/piped?n=abc')).status).toBe(400);
    const missing = await both('/compat/missing');
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('no such stream');
  });

  it('answers HEAD with the headers alone', async () => {
    const res = await both('/compat/events', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.body).toBe('');
  });

  // @Sse(path, { method }) exists from NestJS 11.1.9 on.
  (nestAtLeast('11.1.9') ? it : it.skip)(
    'answers a POST @Sse() with 201, as Nest does',
    async () => {
      expect((await both('/compat/post', { method: 'POST' })).status).toBe(201);
    },
  );

  it('turns an error after the headers into exactly one error event, then a clean end', async () => {
    const res = await both('/compat/fails');
    expect(res.body).toBe(
      '\nid: 1\ndata: one\n\nid: 2\ndata: two\n\nid: 3\ndata: late\n\nevent: error\nid: 4\ndata: Internal server error\n\n',
    );
    expect(res.body).not.toContain('private detail');
    expect(res.complete).toBe(true);
  });

  it('answers 500 for a first event it cannot write, and ends a stream with an error event for a later one, without crashing', async () => {
    const first = await rawRequest(withFlush, '/compat/bad-first');
    expect(first.status).toBe(500);
    const later = await rawRequest(withFlush, '/compat/bad-later');
    expect(later.status).toBe(200);
    expect(later.body).toBe(
      '\nid: 1\ndata: fine\n\nevent: error\nid: 2\ndata: Internal server error\n\n',
    );
    expect(later.complete).toBe(true);
    // Still serving.
    expect((await rawRequest(withFlush, '/compat/status')).status).toBe(202);
  });

  (NestSseSignal ? it : it.skip)(
    "hands Nest's @SseSignal() an AbortSignal aborted when the client leaves",
    async () => {
      sseSignalSeen.aborts = 0;
      const res = await rawRequest(withFlush, '/compat/signal', { stopAfterBytes: 10 });
      expect(res.body).toContain('data: open');
      expect(sseSignalSeen.received).toBe(true);
      await waitFor(() => sseSignalSeen.aborts > 0, 'the @SseSignal() abort', 2000);
      expect(sseSignalSeen.aborts).toBe(1);
    },
  );

  it('strips NUL (and CR, LF) from ids where Nest keeps NUL: every id reaches a real client', async () => {
    const res = await rawRequest(withFlush, '/compat/nul-ids');
    expect(res.body).not.toContain('\0');
    expect(res.body).not.toMatch(/^event: evil/m); // stays inside the id: never a field
    const ids = [...res.body.matchAll(/^id: (.*)$/gm)].map(m => m[1]);
    expect(ids).toHaveLength(200);
    ids.forEach((id, i) => expect(id).toBe(i % 5 === 0 ? `id${i}event: evil` : `id${i}`));
    // A real client: every id becomes its lastEventId (none ignored).
    const es = new EventSource(`${baseUrl(withFlush)}/compat/nul-ids`);
    const seen: string[] = [];
    await new Promise<void>(resolve => {
      es.onmessage = event => {
        seen.push(event.lastEventId);
        if (seen.length === 200) resolve();
      };
    });
    es.close();
    expect(seen).toEqual(ids);
  });
});
