import { request } from 'node:http';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { EventSource } from 'eventsource';
import { firstValueFrom, take, toArray } from 'rxjs';
import { FlushHub, FlushMetrics } from '../src/index.js';
import { baseUrl, readSse, type ParsedSseEvent } from '../src/testing/index.js';
import { hubFixtureModule } from './fixtures/hub/hub.controller.js';
import { subscribers } from './utils/hub.js';
import { rawRequest } from './utils/http.js';
import { sseData } from './utils/json.js';
import { platforms, startApp } from './utils/platforms.js';
import { delay, waitFor } from './utils/wait.js';

/** The raw body of a GET, read until `done(body)` holds (5 s at most). */
const readUntil = (
  app: INestApplication,
  path: string,
  headers: Record<string, string>,
  done: (body: string) => boolean,
): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = '';
    const req = request(`${baseUrl(app)}${path}`, { headers }, res => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (done(body)) {
          clearTimeout(timer);
          req.destroy();
          resolve(body);
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${path}: timed out; got ${JSON.stringify(body)}`));
    }, 5000);
    req.on('error', reject);
    req.end();
  });

describe.each(platforms)('FlushHub (%s)', platform => {
  let app: INestApplication;
  let hub: FlushHub;
  beforeAll(async () => {
    app = await startApp(platform, [hubFixtureModule()]);
    hub = app.get(FlushHub);
  });
  afterAll(() => app.close());

  it('delivers every event exactly once, in order, across real EventSource reconnects', async () => {
    const channel = `news-${platform}`;
    const got: { id: string; data: string }[] = [];
    const es = new EventSource(`${baseUrl(app)}/flush/${channel}`);
    let opens = 0;
    es.onopen = () => opens++;
    es.onmessage = (e: MessageEvent<string>) => got.push({ id: e.lastEventId, data: e.data });
    await new Promise<void>(resolve => (es.onopen = () => (opens++, resolve())));
    const total = 60;
    const publishing = (async () => {
      for (let i = 0; i < total; i++) {
        await hub.publish(channel, { i });
        await delay(5); // the producer's pace
      }
    })();
    const server = app.getHttpServer() as Server;
    for (const cut of [15, 35]) {
      await waitFor(() => got.length >= cut, `${cut} events before the cut`, 10_000, 2);
      server.closeAllConnections(); // the server drops the stream mid-flight
    }
    await publishing;
    await waitFor(() => got.length >= total, `all ${total} events (got ${got.length})`);
    es.close();
    expect(opens).toBeGreaterThanOrEqual(3);
    expect(sseData<{ i: number }>(got).map(d => d.i)).toEqual([...Array(total).keys()]);
    expect(new Set(got.map(e => e.id)).size).toBe(total);
  });

  it('replays after a Last-Event-ID on the @Sse() path, then goes live with no gap or duplicate', async () => {
    const channel = `replay-${platform}`;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await hub.publish(channel, { i }, { event: 'tick' }));
    const reading = readSse(app, `/sse/${channel}`, {
      headers: { 'last-event-id': ids[4] },
      count: 8,
    });
    await subscribers(app, channel, 1);
    for (let i = 10; i < 13; i++) ids.push(await hub.publish(channel, { i }, { event: 'tick' }));
    const { items } = await reading;
    expect(items).toEqual(
      [5, 6, 7, 8, 9, 10, 11, 12].map(i => ({
        event: 'tick',
        id: ids[i],
        data: JSON.stringify({ i }),
      })),
    );
  });

  it('loses and duplicates nothing when a publish storm runs during the replay', async () => {
    const channel = `storm-${platform}`;
    const ids: string[] = [];
    const local = await startApp(platform, [hubFixtureModule({ historySize: 2000 })]);
    const localHub = local.get(FlushHub);
    for (let i = 0; i < 500; i++) ids.push(await localHub.publish(channel, i));
    const reading = readSse(local, `/sse/${channel}?lastEventId=${ids[99]}`, {
      until: e => e.data === '999',
      timeoutMs: 10000,
    });
    const storm = (async () => {
      for (let i = 500; i < 1000; i++) {
        await localHub.publish(channel, i);
        if (i % 50 === 0) await delay(1); // a storm that still lets I/O run
      }
    })();
    const [{ items }] = await Promise.all([reading, storm]);
    await local.close();
    expect(items.map(e => Number(e.data))).toEqual([...Array(900).keys()].map(i => i + 100));
  });

  it('answers a Last-Event-ID older than the history, or unknown, with an in-band resync event first', async () => {
    const channel = `old-${platform}`;
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(await hub.publish(channel, i)); // historySize is 50
    const tooOld = await readSse(app, `/sse/${channel}`, {
      headers: { 'last-event-id': ids[2] },
      count: 1,
    });
    expect(tooOld.items[0]).toMatchObject({ event: 'resync', id: ids[59] });
    expect(JSON.parse(tooOld.items[0].data)).toMatchObject({
      channel,
      lastEventId: ids[2],
      reason: 'history',
    });
    const unknown = await readSse(app, `/sse/${channel}`, {
      headers: { 'last-event-id': '1-0' },
      count: 1,
    });
    expect(unknown.items[0]).toMatchObject({ event: 'resync' });
    const garbage = await readSse(app, `/sse/${channel}`, {
      headers: { 'last-event-id': 'not-an-id' },
      count: 1,
    });
    expect(garbage.items[0]).toMatchObject({ event: 'resync' });
  });

  it.each(['sse', 'flush'])(
    'sends a resync on a channel with no event yet without any id field (%s route), so the client keeps its Last-Event-ID',
    async route => {
      const channel = `empty-${route}-${platform}`;
      const body = await readUntil(app, `/${route}/${channel}`, { 'last-event-id': '1-0' }, text =>
        /event: resync\n(?:[^\n]+\n)*\n/.test(text),
      );
      const frame = /event: resync\n(?:[^\n]+\n)*\n/.exec(body)![0];
      expect(frame).toBe(
        `event: resync\ndata: ${JSON.stringify({ channel, lastEventId: '1-0', reason: 'history' })}\n\n`,
      );
      expect(body).not.toMatch(/^id:/m); // not even an empty one: that would reset Last-Event-ID
    },
  );

  it('delivers every event to 1000 subscribers of one channel', async () => {
    const channel = `crowd-${platform}`;
    const url = baseUrl(app);
    const metrics = app.get(FlushMetrics);
    const counts: number[] = [];
    const sockets: { destroy(): void }[] = [];
    const done = Array.from(
      { length: 1000 },
      (_, n) =>
        new Promise<void>((resolve, reject) => {
          const req = request(`${url}/sse/${channel}`, { agent: false }, res => {
            let count = 0;
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              count += d.split('\ndata: ').length - 1 + (d.startsWith('data: ') ? 1 : 0);
              if (count >= 5) {
                counts[n] = count;
                resolve();
              }
            });
          });
          sockets.push(req);
          req.on('error', reject);
          req.end();
        }),
    );
    await subscribers(app, channel, 1000, 15_000);
    for (let i = 0; i < 5; i++) await hub.publish(channel, { i });
    await Promise.all(done);
    sockets.forEach(s => s.destroy());
    expect(counts.filter(c => c === 5)).toHaveLength(1000);
    await subscribers(app, channel, 0);
    expect(metrics.snapshot().channels[channel]).toBeUndefined();
  }, 60000);

  it('rejects malformed Last-Event-ID values and channel names with 400, never a crash', async () => {
    expect(
      (await rawRequest(app, '/sse/x', { headers: { 'last-event-id': 'g'.repeat(6 * 1024) } }))
        .status,
    ).toBe(400);
    expect((await rawRequest(app, '/sse/x?lastEventId=a%0D%0Aevent:%20evil')).status).toBe(400);
    const empty = await readSse(app, '/sse/x', {
      headers: { 'last-event-id': '' },
      count: 1,
      timeoutMs: 2000,
    }).catch(e => e as Error);
    expect(empty).toBeInstanceOf(Error); // no replay, no resync: a live-only stream that stays open
    expect((await rawRequest(app, '/sse/bad%20channel!')).status).toBe(400);
    const long = (await rawRequest(app, `/sse/${'c'.repeat(300)}`)).status; // 400 from the hub, or 414 from fastify's param limit
    expect([400, 404, 414]).toContain(long); // fastify 4 (Nest 11.0) answers an over-long param with 404
    const res = await rawRequest(app, '/publish/x', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: 1, event: 'a\nb' }),
    });
    expect(res.status).toBe(400);
  });

  it('denies unauthorized channels with 403 before the stream opens', async () => {
    const denied = await rawRequest(app, '/sse/private:room');
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toMatch(/json/);
    const allowed = readSse(app, '/sse/private:room', { headers: { 'x-user': 'admin' }, count: 1 });
    await subscribers(app, 'private:room', 1);
    await hub.publish('private:room', 'secret');
    expect((await allowed).items[0].data).toBe('secret');
  });

  it.each(['flush', 'sse'])(
    'never lets one slow subscriber delay the others on %s routes (bounded, then disconnected)',
    async route => {
      const channel = `slow-${route}-${platform}`;
      const metrics = app.get(FlushMetrics);
      const before = metrics.slowClientDisconnects;
      const slow = request(`${baseUrl(app)}/${route}/${channel}`, res => res.pause());
      slow.on('error', () => undefined);
      slow.end();
      const fast = readSse(app, `/${route}/${channel}`, {
        until: e => e.data === 'last',
        timeoutMs: 15000,
      });
      await subscribers(app, channel, 2);
      // Publish until the paused client's queue passes the bound (4 MiB by default) on top of
      // whatever the kernel's socket buffers absorb (several MiB on loopback, varying by run).
      const big = 'x'.repeat(20 * 1024);
      let published = 0;
      while (metrics.slowClientDisconnects === before && published < 3000) {
        await hub.publish(channel, { i: published++, big });
        if (published % 10 === 0) await new Promise(r => setImmediate(r)); // a producer that lets I/O run
      }
      await hub.publish(channel, 'last');
      const { items, status, ended } = await fast;
      expect({ status, ended }).toEqual({ status: 200, ended: false });
      expect(items).toHaveLength(published + 1);
      expect(items.slice(0, -1).map(e => (JSON.parse(e.data) as { i: number }).i)).toEqual(
        Array.from({ length: published }, (_, i) => i),
      );
      expect(metrics.slowClientDisconnects).toBe(before + 1);
      slow.destroy();
    },
  );

  it('exposes hub figures from code', async () => {
    // Its own traffic: a publish, a delivery, a replay and a resync (no reliance on earlier tests).
    const channel = `figures-${platform}`;
    const first = await hub.publish(channel, 'a');
    await hub.publish(channel, 'b');
    const replayed = await readSse(app, `/sse/${channel}`, {
      headers: { 'last-event-id': first },
      count: 1,
    });
    expect(replayed.items[0].data).toBe('b');
    const resynced = await readSse(app, `/sse/${channel}`, {
      headers: { 'last-event-id': '1-0' },
      count: 1,
    });
    expect(resynced.items[0].event).toBe('resync');
    const snapshot = app.get(FlushMetrics).snapshot();
    expect(snapshot.published).toBeGreaterThan(0);
    expect(snapshot.delivered).toBeGreaterThan(0);
    expect(snapshot.replays).toBeGreaterThan(0);
    expect(snapshot.resyncs).toBeGreaterThan(0);
  });

  it('encodes a broadcast once: every subscriber gets the same event object and frame', async () => {
    const a = firstValueFrom(
      hub.stream('once', { skipAuthorization: true }).pipe(take(1), toArray()),
    );
    const b = firstValueFrom(
      hub.stream('once', { skipAuthorization: true }).pipe(take(1), toArray()),
    );
    await subscribers(app, 'once', 2);
    await hub.publish('once', { big: 'x'.repeat(1000) });
    const [[ea], [eb]] = await Promise.all([a, b]);
    expect(ea).toBe(eb);
    const FRAME = Symbol.for('nestjs-flush:frame');
    expect((ea as unknown as Record<symbol, Buffer>)[FRAME]).toBe(
      (eb as unknown as Record<symbol, Buffer>)[FRAME],
    );
  });

  describe('hub streams on Nest @Sse() routes (written by nestjs-flush, headers by Nest)', () => {
    it('writes each hub frame as encoded once: exact bytes, hub ids, counted in the figures', async () => {
      const channel = `bytes-${platform}`;
      const metrics = app.get(FlushMetrics);
      const reading = rawRequest(app, `/sse/${channel}`, {
        onData: body => body.endsWith('data: lines\n\n'), // the last frame
      });
      await subscribers(app, channel, 1);
      const bytesBefore = metrics.bytesWritten;
      const a = await hub.publish(channel, { n: 1 }, { event: 'tick' });
      const b = await hub.publish(channel, 'two\nlines');
      const frames = `event: tick\nid: ${a}\ndata: {"n":1}\n\nid: ${b}\ndata: two\ndata: lines\n\n`;
      const res = await reading;
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(res.headers['cache-control']).toContain('no-transform');
      // Nest's SseStream opens the body with one blank line; every event after it is ours.
      expect(res.body).toBe(`\n${frames}`);
      expect(metrics.bytesWritten - bytesBefore).toBe(Buffer.byteLength(frames));
    });

    it('turns an error after the headers into a sanitized error event and a clean end', async () => {
      const channel = `failing-${platform}`;
      const metrics = app.get(FlushMetrics);
      const reading = rawRequest(app, `/sse-failing/${channel}`);
      await subscribers(app, channel, 1);
      const ok = await hub.publish(channel, 'ok');
      await hub.publish(channel, 'boom');
      const res = await reading;
      expect(res.complete).toBe(true);
      expect(res.body).toBe(
        `\nid: ${ok}\ndata: ok\n\nevent: error\ndata: Internal server error\n\n`,
      );
      expect(res.body).not.toContain('private detail');
      expect(metrics.snapshot().channels[channel]).toBeUndefined();
    });

    it('turns an event it cannot serialize into the same error event, and nothing after it', async () => {
      const channel = `bigint-${platform}`;
      const reading = rawRequest(app, `/sse-failing/${channel}`);
      await subscribers(app, channel, 1);
      const ok = await hub.publish(channel, 'ok');
      await hub.publish(channel, 'bigint');
      await hub.publish(channel, 'after');
      const res = await reading;
      expect(res.complete).toBe(true);
      expect(res.body).toBe(
        `\nid: ${ok}\ndata: ok\n\nevent: error\ndata: Internal server error\n\n`,
      );
    });

    it('answers HEAD with the headers alone and no subscription left behind', async () => {
      const channel = `head-${platform}`;
      await hub.publish(channel, 'history');
      const res = await rawRequest(app, `/sse/${channel}?lastEventId=0-0`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(res.body).toBe('');
      // A GET after it, on the same channel: once it is subscribed, a subscription the HEAD left
      // behind would show as a second one.
      const marker = readSse(app, `/sse/${channel}`, { count: 1 });
      await subscribers(app, channel, 1);
      await hub.publish(channel, 'marker');
      expect((await marker).items[0].data).toBe('marker');
      await subscribers(app, channel, 0);
      expect(app.get(FlushMetrics).snapshot().channels[channel]).toBeUndefined();
    });

    it('beats during silence and ends with a retry hint on shutdown, leaving nothing open', async () => {
      const local = await startApp(platform, [
        hubFixtureModule({ heartbeatIntervalMs: 100, shutdownRetryMs: [1500, 1500] }),
      ]);
      const channel = `beat-${platform}`;
      const metrics = local.get(FlushMetrics);
      let body = '';
      const reading = rawRequest(local, `/sse/${channel}`, { onData: b => void (body = b) });
      await subscribers(local, channel, 1);
      const id = await local.get(FlushHub).publish(channel, 'hello');
      await waitFor(() => (body.match(/^:$/gm) ?? []).length >= 2, 'two heartbeats', 5000);
      await local.close();
      const res = await reading;
      expect(res.complete).toBe(true);
      expect(res.body.startsWith(`\nid: ${id}\ndata: hello\n\n:\n\n:\n\n`)).toBe(true);
      expect(res.body.endsWith('retry: 1500\n\n')).toBe(true);
      expect(metrics.openStreams).toBe(0);
    });
  });
});

export type { ParsedSseEvent };
