import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { compareEventIds, FlushHub, formatFlushCursor, parseFlushCursor } from '../src/index.js';
import { RedisFlushTransport } from '../src/redis.js';
import { baseUrl, readSse, type ParsedSseEvent } from '../src/testing/index.js';
import { hubChannelsInstance, type ChannelStore } from './fixtures/hub/hub-channels.controller.js';
import { subscribers } from './utils/hub.js';
import { rawRequest } from './utils/http.js';
import { parseJson, sseData } from './utils/json.js';
import { platforms, startApp, type PlatformName } from './utils/platforms.js';
import { REDIS_URL } from './utils/redis-server.js';
import { delay, waitFor } from './utils/wait.js';

type Kind = 'memory' | 'redis';

/**
 * Every scenario runs on both adapters, in memory (one instance) and, with REDIS_URL, on two
 * instances sharing one Redis: events are published on `pub`, clients read from `sub`.
 */
const setups: [PlatformName, Kind][] = platforms.flatMap(([p]): [PlatformName, Kind][] =>
  REDIS_URL
    ? [
        [p, 'memory'],
        [p, 'redis'],
      ]
    : [[p, 'memory']],
);
if (!REDIS_URL) {
  console.warn(
    'The Redis part of the hub channels e2e suite skipped: run it with REDIS_URL=redis://127.0.0.1:6379 npm test',
  );
}

describe.each(setups)('Hub channels (%s, %s)', (platform, kind) => {
  const keyPrefix = `flush-e2e:${randomUUID()}:`;
  const store: ChannelStore = new Map();
  let pub: INestApplication;
  let sub: INestApplication;
  let hub: FlushHub;
  const sources: EventSource[] = [];
  const unique = (name: string) => `${name}-${platform}-${kind}-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const transport = () =>
      kind === 'redis'
        ? new RedisFlushTransport({ url: REDIS_URL, keyPrefix, logger: false })
        : undefined;
    pub = await startApp(platform, [hubChannelsInstance(store, transport())]);
    sub =
      kind === 'redis' ? await startApp(platform, [hubChannelsInstance(store, transport())]) : pub;
    hub = pub.get(FlushHub);
  });

  afterEach(() => {
    for (const source of sources.splice(0)) source.close();
  });

  afterAll(async () => {
    await pub?.close();
    if (sub !== pub) await sub?.close();
    if (kind === 'redis') {
      const admin = new Redis(REDIS_URL!);
      const keys = await admin.keys(`${keyPrefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  });

  const datas = (items: readonly ParsedSseEvent[]) => items.map(e => e.data);

  it('delivers a targeted event only to the streams of its key, live and on resume', async () => {
    const channel = unique('targeted');
    const seed = await hub.publish(channel, 'seed');
    const read = (key?: string, lastEventId = seed) =>
      readSse(sub, `/keyed/${channel}`, {
        headers: { 'last-event-id': lastEventId, ...(key !== undefined && { 'x-key': key }) },
        until: e => e.data === 'end',
      });
    const readers = [read('alice'), read('bob'), read()];
    await subscribers(sub, channel, 3);
    await hub.publish(channel, 'all-1');
    await hub.publish(channel, 'a-1', { to: 'alice' });
    await hub.publish(channel, 'b-1', { to: 'bob' });
    await hub.publish(channel, 'all-2');
    await hub.publish(channel, 'a-2', { to: 'alice', event: 'private' });
    await hub.publish(channel, 'end');
    const [alice, bob, nobody] = await Promise.all(readers);
    expect(datas(alice.items)).toEqual(['all-1', 'a-1', 'all-2', 'a-2', 'end']);
    expect(alice.items[3]).toMatchObject({ event: 'private' });
    expect(datas(bob.items)).toEqual(['all-1', 'b-1', 'all-2', 'end']);
    expect(datas(nobody.items)).toEqual(['all-1', 'all-2', 'end']);

    // The history keeps each targeted event for its key alone.
    const [aliceAgain, bobAgain, eveAgain] = await Promise.all([
      read('alice'),
      read('bob'),
      read('eve'),
    ]);
    expect(aliceAgain.items).toEqual(alice.items);
    expect(bobAgain.items).toEqual(bob.items);
    expect(datas(eveAgain.items)).toEqual(['all-1', 'all-2', 'end']);
    // A resume from a position between other keys' events: still only its own.
    const fromB1 = await read('bob', bob.items[1].id);
    expect(datas(fromB1.items)).toEqual(['all-2', 'end']);
  });

  it('rejects an invalid "to" with 400', async () => {
    for (const to of ['', 'a\nb', 'x'.repeat(257)]) {
      const res = await rawRequest(pub, `/publish/${unique('bad-to')}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: 1, to }),
      });
      expect(res.status).toBe(400);
      expect(parseJson<{ message: string }>(res.body).message).toMatch(/^Invalid "to"/);
    }
  });

  it('resumes every channel of a multi-channel stream across real EventSource reconnects while all of them publish', async () => {
    const channels = [unique('news'), `orders/${unique('42')}`, unique('a:b@c'), unique('z.y')];
    const seeds: Record<string, string> = {};
    for (const c of channels) seeds[c] = await hub.publish(c, { c, i: -1 });
    const got: { id: string; c: string; i: number }[] = [];
    // The @Flush() route sends `retry: 50`: reconnects happen while the publishing goes on.
    const url = `${baseUrl(sub)}/multi-flush?channels=${channels.map(encodeURIComponent).join(',')}`;
    const es = new EventSource(`${url}&lastEventId=${formatFlushCursor(seeds)}`);
    sources.push(es);
    let opens = 0;
    es.onmessage = (e: MessageEvent<string>) =>
      got.push({ id: e.lastEventId, ...parseJson<{ c: string; i: number }>(e.data) });
    await new Promise<void>(resolve => (es.onopen = () => (opens++, resolve())));
    es.onopen = () => opens++;
    const perChannel = 40;
    const total = perChannel * channels.length;
    const publishing = (async () => {
      for (let i = 0; i < perChannel; i++) {
        await Promise.all(channels.map(c => hub.publish(c, { c, i })));
        await delay(10); // the producers' pace
      }
    })();
    const server = sub.getHttpServer() as Server;
    for (const [connection, cut] of [
      [1, total / 4],
      [2, total / 2],
    ]) {
      await waitFor(
        () => opens >= connection && got.length >= cut,
        `${cut} events on connection ${connection} before the cut`,
        15_000,
        2,
      );
      server.closeAllConnections(); // the server drops the stream mid-flight
    }
    await publishing;
    await waitFor(() => got.length >= total, `all ${total} events (got ${got.length})`, 15_000);
    await delay(50); // a duplicate would arrive right behind the last event
    expect(opens).toBeGreaterThanOrEqual(3);
    for (const c of channels) {
      expect(got.filter(e => e.c === c).map(e => e.i)).toEqual([...Array(perChannel).keys()]);
    }
    expect(got).toHaveLength(total);
    // Every id is one cursor naming every channel; the last names each channel's last event.
    const last = parseFlushCursor(got[got.length - 1].id, channels)!;
    expect(Object.keys(last).sort()).toEqual([...channels].sort());
    expect(new Set(got.map(e => e.id)).size).toBe(total);
  }, 30_000);

  it('keeps event names and data on a multi-channel @Flush() stream, and its cursor resumes exactly', async () => {
    const channels = [unique('m1'), unique('m2')];
    const seeds = Object.fromEntries(
      await Promise.all(channels.map(async c => [c, await hub.publish(c, 'seed')])),
    ) as Record<string, string>;
    const path = `/multi-flush?channels=${channels.join(',')}`;
    const reading = readSse(sub, path, {
      headers: { 'last-event-id': formatFlushCursor(seeds) },
      count: 4,
    });
    await subscribers(sub, channels[1], 1);
    await hub.publish(channels[0], { n: 1 }, { event: 'tick' });
    await hub.publish(channels[1], 'two');
    await hub.publish(channels[0], 'three');
    await hub.publish(channels[1], { n: 4 }, { event: 'tock' });
    const { items } = await reading;
    // Names and data as published; each channel in its own order. (Events of different channels
    // interleave as they reach the stream: the publishes above may land before the stream's
    // subscriptions are active, and then come from each channel's history, channel by channel.)
    const shown = items.map(({ event, data }) => ({ event, data }));
    const first = [
      { event: 'tick', data: '{"n":1}' },
      { event: undefined, data: 'three' },
    ];
    const second = [
      { event: undefined, data: 'two' },
      { event: 'tock', data: '{"n":4}' },
    ];
    expect(shown.filter(e => first.some(f => f.data === e.data))).toEqual(first);
    expect(shown.filter(e => second.some(f => f.data === e.data))).toEqual(second);
    // From the second event's cursor: exactly the two after it (each channel after its position).
    const resumed = await readSse(sub, path, {
      headers: { 'last-event-id': items[1].id! },
      count: 2,
    });
    const byData = (a: { data: string }, b: { data: string }) => a.data.localeCompare(b.data);
    expect(resumed.items.map(({ event, data }) => ({ event, data })).sort(byData)).toEqual(
      shown.slice(2).sort(byData),
    );
  });

  it('accepts the cursor of 8 channels of 200-character names in Last-Event-ID', async () => {
    const channels = Array.from({ length: 8 }, (_, n) =>
      `${n}${unique('c')}`.padEnd(200, 'x').slice(0, 200),
    );
    const seeds: Record<string, string> = {};
    for (const c of channels) seeds[c] = await hub.publish(c, 'seed');
    const cursor = formatFlushCursor(seeds);
    expect(cursor.length).toBeLessThan(256);
    const after = await hub.publish(channels[5], 'after');
    const { status, items } = await readSse(sub, `/multi?channels=${channels.join(',')}`, {
      headers: { 'last-event-id': cursor },
      count: 1,
    });
    expect(status).toBe(200);
    expect(items[0].data).toBe('after');
    expect(parseFlushCursor(items[0].id!, channels)).toEqual({ ...seeds, [channels[5]]: after });
  });

  it('answers bad channel lists and malformed cursors with 4xx, and a cursor of other channels with a resync per channel', async () => {
    const status = async (path: string, headers: Record<string, string> = {}) =>
      (await rawRequest(sub, path, { headers, stopAfterMs: 1000 })).status;
    expect(await status('/multi')).toBe(400);
    expect(await status('/multi?channels=')).toBe(400);
    expect(await status('/multi?channels=a,b%20c')).toBe(400);
    expect(
      await status(`/multi?channels=${Array.from({ length: 33 }, (_, i) => `c${i}`).join(',')}`),
    ).toBe(400);
    for (const bad of ['garbage', 'c1.', 'c1.abc', 'c1.abc.!', '1-0', `c1.a.${'z'.repeat(12)}`]) {
      expect(await status('/multi?channels=a,b', { 'last-event-id': bad })).toBe(400);
    }
    expect(await status('/multi?channels=a,private:x')).toBe(403);
    expect(await status('/multi?channels=a,private:x', { 'x-user': 'admin' })).toBe(200);

    const channels = [unique('r1'), unique('r2')];
    const newest = await Promise.all(channels.map(c => hub.publish(c, 'x')));
    const other = formatFlushCursor({ elsewhere: '1-0', another: undefined });
    const { items } = await readSse(sub, `/multi?channels=${channels.join(',')}`, {
      headers: { 'last-event-id': other },
      count: 2,
    });
    expect(items.map(e => e.event)).toEqual(['resync', 'resync']);
    const named = sseData<{ channel: string; reason: string }>(items);
    expect(named.map(d => d.channel).sort()).toEqual([...channels].sort());
    expect(named.every(d => d.reason === 'cursor')).toBe(true);
    // The second resync's cursor has every channel at its newest event.
    expect(parseFlushCursor(items[1].id!, channels)).toEqual({
      [channels[0]]: newest[0],
      [channels[1]]: newest[1],
    });
  });

  it('sends the snapshot, then exactly the events after its id, while a slow loader races publishing', async () => {
    const channel = unique('orders');
    const publish = async (i: number) => {
      store.set(channel, [...(store.get(channel) ?? []), i]); // the application's write, then its event
      await hub.publish(channel, i);
    };
    for (let i = 0; i < 10; i++) await publish(i);
    const total = 60;
    const reading = readSse(sub, `/snapshot?channels=${channel}&delayMs=300`, {
      until: e => e.data === String(total - 1),
      timeoutMs: 10_000,
    });
    const publishing = (async () => {
      await subscribers(sub, channel, 1);
      for (let i = 10; i < total; i++) {
        await publish(i);
        await delay(10); // before, during and after the 300 ms load
      }
    })();
    const [{ items }] = await Promise.all([reading, publishing]);
    const [snapshot, ...events] = items;
    expect(snapshot.event).toBe('snapshot');
    const state = parseJson<Record<string, number[]>>(snapshot.data)[channel];
    expect(state.slice(0, 10)).toEqual([...Array(10).keys()]);
    // Every event after the snapshot's id, once, in order; together they hold every item.
    const ids = events.map(e => e.id!);
    expect(ids.every(id => compareEventIds(id, snapshot.id!) > 0)).toBe(true);
    expect(ids.every((id, n) => n === 0 || compareEventIds(id, ids[n - 1]) > 0)).toBe(true);
    const live = events.map(e => Number(e.data));
    expect(live).toEqual([...Array(total - live[0]).keys()].map(i => i + live[0]));
    expect(live[0]).toBeLessThanOrEqual(state.length); // no gap between snapshot and events
    expect(live.length).toBeGreaterThan(5); // the load really raced publishing

    // Resuming from the snapshot's id replays the same events (no second snapshot).
    const resumed = await readSse(sub, `/snapshot?channels=${channel}`, {
      headers: { 'last-event-id': snapshot.id! },
      count: events.length,
    });
    expect(resumed.items).toEqual(events);
  }, 20_000);

  it('snapshots several channels under one cursor, and replaces a resync with a snapshot', async () => {
    const channels = [unique('s1'), unique('s2')];
    const ids = [await hub.publish(channels[0], 'a'), await hub.publish(channels[1], 'b')];
    store.set(channels[0], ['a']);
    const path = `/snapshot?channels=${channels.join(',')}`;
    // Published once the snapshot is out: an event before it would be part of it.
    let publishing: Promise<string> | undefined;
    const { items } = await readSse(sub, path, {
      until: (_e, all) => {
        if (all.length === 1) publishing = hub.publish(channels[1], 'c');
        return all.length === 2;
      },
    });
    const next = await publishing!;
    expect(items[0]).toMatchObject({ event: 'snapshot' });
    expect(parseJson(items[0].data)).toEqual({ [channels[0]]: ['a'], [channels[1]]: [] });
    expect(parseFlushCursor(items[0].id!, channels)).toEqual({
      [channels[0]]: ids[0],
      [channels[1]]: ids[1],
    });
    expect(items[1]).toMatchObject({ data: 'c' });
    expect(parseFlushCursor(items[1].id!, channels)).toEqual({
      [channels[0]]: ids[0],
      [channels[1]]: next,
    });
    // A cursor the history does not cover: a snapshot instead of a resync.
    const stale = formatFlushCursor({ [channels[0]]: '1-0', [channels[1]]: ids[1] });
    const again = await readSse(sub, path, { headers: { 'last-event-id': stale }, count: 1 });
    expect(again.items[0]).toMatchObject({ event: 'snapshot' });
    expect(parseFlushCursor(again.items[0].id!, channels)).toEqual({
      [channels[0]]: ids[0],
      [channels[1]]: next,
    });
  });

  it('sends the snapshot of an empty channel without any id field', async () => {
    const channel = unique('empty');
    const res = await rawRequest(sub, `/snapshot?channels=${channel}`, {
      onData: body => body.includes('\n\n'),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/(?:^|\n)event: snapshot\ndata: \{".+":\[\]\}\n\n$/);
    expect(res.body).not.toMatch(/^id:/m);
  });

  if (kind === 'memory') {
    it("answers a loader's rejection with its status when nothing was sent yet", async () => {
      const res = await rawRequest(sub, `/snapshot-failing/${unique('gone')}`);
      expect(res.status).toBe(404);
      expect(res.body).toMatch(/No such order/);
    });
  }
});
