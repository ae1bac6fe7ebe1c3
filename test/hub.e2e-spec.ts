import { request } from 'node:http';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { EventSource } from 'eventsource';
import { firstValueFrom, take, toArray } from 'rxjs';
import { FlushHub, FlushMetrics } from '../src/index.js';
import { baseUrl, readSse, type ParsedSseEvent } from '../src/testing/index.js';
import { hubFixtureModule } from './fixtures/hub/hub.controller.js';
import { rawRequest, sleep } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';

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
    es.onmessage = e => got.push({ id: e.lastEventId, data: e.data });
    await new Promise<void>(resolve => (es.onopen = () => (opens++, resolve())));
    const total = 60;
    const publishing = (async () => {
      for (let i = 0; i < total; i++) {
        await hub.publish(channel, { i });
        await sleep(5);
      }
    })();
    const server = app.getHttpServer() as Server;
    for (const cut of [15, 35]) {
      while (got.length < cut) await sleep(2);
      server.closeAllConnections(); // the server drops the stream mid-flight
    }
    await publishing;
    const until = Date.now() + 5000;
    while (got.length < total && Date.now() < until) await sleep(10);
    es.close();
    expect(opens).toBeGreaterThanOrEqual(3);
    expect(got.map(e => JSON.parse(e.data).i)).toEqual([...Array(total).keys()]);
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
    await sleep(50);
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
        if (i % 50 === 0) await sleep(1);
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
    const until = Date.now() + 15000;
    while ((metrics.snapshot().channels[channel] ?? 0) < 1000 && Date.now() < until)
      await sleep(20);
    expect(metrics.snapshot().channels[channel]).toBe(1000);
    for (let i = 0; i < 5; i++) await hub.publish(channel, { i });
    await Promise.all(done);
    sockets.forEach(s => s.destroy());
    expect(counts.filter(c => c === 5)).toHaveLength(1000);
    const after = Date.now() + 3000;
    while ((metrics.snapshot().channels[channel] ?? 0) > 0 && Date.now() < after) await sleep(20);
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
    expect([400, 414]).toContain(long);
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
    await sleep(50);
    await hub.publish('private:room', 'secret');
    expect((await allowed).items[0].data).toBe('secret');
  });

  it('never lets one slow subscriber delay the others (bounded, then disconnected)', async () => {
    const channel = `slow-${platform}`;
    const metrics = app.get(FlushMetrics);
    const before = metrics.slowClientDisconnects;
    const slow = request(`${baseUrl(app)}/flush/${channel}`, res => res.pause());
    slow.on('error', () => undefined);
    slow.end();
    const fast = readSse(app, `/flush/${channel}`, {
      until: e => e.data === 'last',
      timeoutMs: 15000,
    });
    while ((metrics.snapshot().channels[channel] ?? 0) < 2) await sleep(10);
    const big = 'x'.repeat(20 * 1024);
    for (let i = 0; i < 400; i++) {
      await hub.publish(channel, { i, big });
      if (i % 10 === 0) await new Promise(r => setImmediate(r)); // a producer that lets I/O run
    }
    await hub.publish(channel, 'last');
    const { items, status, ended } = await fast;
    expect({ status, ended }).toEqual({ status: 200, ended: false });
    expect(items).toHaveLength(401);
    expect(
      await (async () => {
        const until = Date.now() + 5000;
        while (metrics.slowClientDisconnects === before && Date.now() < until) await sleep(20);
        return metrics.slowClientDisconnects;
      })(),
    ).toBe(before + 1);
    slow.destroy();
  });

  it('exposes hub figures from code', async () => {
    const snapshot = app.get(FlushMetrics).snapshot();
    expect(snapshot.published).toBeGreaterThan(0);
    expect(snapshot.delivered).toBeGreaterThan(0);
    expect(snapshot.replays).toBeGreaterThan(0);
    expect(snapshot.resyncs).toBeGreaterThan(0);
  });

  it('encodes a broadcast once: every subscriber gets the same event object and frame', async () => {
    const a = firstValueFrom(hub.stream('once').pipe(take(1), toArray()));
    const b = firstValueFrom(hub.stream('once').pipe(take(1), toArray()));
    await sleep(10);
    await hub.publish('once', { big: 'x'.repeat(1000) });
    const [[ea], [eb]] = await Promise.all([a, b]);
    expect(ea).toBe(eb);
    const FRAME = Symbol.for('nestjs-flush:frame');
    expect((ea as unknown as Record<symbol, Buffer>)[FRAME]).toBe(
      (eb as unknown as Record<symbol, Buffer>)[FRAME],
    );
  });
});

export type { ParsedSseEvent };
