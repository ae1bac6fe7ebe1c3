import { jest } from '@jest/globals';
import { compareEventIds } from '../flush-transport.interface.js';
import { InMemoryFlushTransport } from './in-memory.transport.js';

describe('InMemoryFlushTransport', () => {
  it('stores, delivers and replays the target key of a targeted event', async () => {
    const t = new InMemoryFlushTransport();
    const live: unknown[] = [];
    await t.subscribe('c', e => live.push(e));
    const first = await t.publish('c', { data: 'all' });
    const targeted = await t.publish('c', { event: 'e', data: 'mine', to: 'alice' });
    expect(targeted).toEqual({ id: targeted.id, event: 'e', data: 'mine', to: 'alice' });
    expect(live).toEqual([first, targeted]);
    expect(await t.replay('c', first.id)).toEqual({ status: 'ok', events: [targeted] });
  });

  it('assigns increasing <ms>-<seq> ids, also within one millisecond', async () => {
    const t = new InMemoryFlushTransport();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await t.publish('c', { data: String(i) })).id);
    for (let i = 1; i < ids.length; i++)
      expect(compareEventIds(ids[i - 1], ids[i])).toBeLessThan(0);
    expect(ids[0]).toMatch(/^\d+-\d+$/);
  });

  it('delivers to subscribers in order and stops after unsubscribe', async () => {
    const t = new InMemoryFlushTransport();
    const got: string[] = [];
    const off = await t.subscribe('c', e => got.push(e.data));
    await t.publish('c', { data: 'a' });
    await t.publish('other', { data: 'x' });
    await t.publish('c', { data: 'b' });
    await off();
    await t.publish('c', { data: 'c' });
    expect(got).toEqual(['a', 'b']);
  });

  it('replays exactly the events after an id, with no off-by-one', async () => {
    const t = new InMemoryFlushTransport({ historySize: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await t.publish('c', { data: String(i), event: 'e' })).id);
    expect(await t.replay('c', ids[1])).toEqual({
      status: 'ok',
      events: [2, 3, 4].map(i => ({ id: ids[i], event: 'e', data: String(i) })),
    });
    expect(await t.replay('c', ids[4])).toEqual({ status: 'ok', events: [] });
  });

  it('answers resync for ids older than the history, unknown, malformed or of an unknown channel', async () => {
    const t = new InMemoryFlushTransport({ historySize: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await t.publish('c', { data: String(i) })).id);
    // ids[2] is the newest evicted one: everything after it is still kept.
    expect((await t.replay('c', ids[2])).status).toBe('ok');
    expect(await t.replay('c', ids[1])).toEqual({ status: 'resync', lastId: ids[5] });
    expect((await t.replay('c', '1-999999')).status).toBe('resync');
    expect((await t.replay('c', 'garbage')).status).toBe('resync');
    expect((await t.replay('nope', ids[5])).status).toBe('resync');
  });

  it('drops events older than historyMaxAgeMs', async () => {
    const t = new InMemoryFlushTransport({ historySize: 10, historyMaxAgeMs: 20 });
    const first = (await t.publish('c', { data: 'old' })).id;
    await t.publish('c', { data: 'old2' });
    await new Promise(r => setTimeout(r, 40));
    const fresh = await t.publish('c', { data: 'new' });
    expect(await t.replay('c', first)).toEqual({ status: 'resync', lastId: fresh.id });
  });

  it("replays the whole channel for '0-0' while nothing was evicted, else resync", async () => {
    const t = new InMemoryFlushTransport({ historySize: 2 });
    expect(await t.replay('c', '0-0')).toEqual({ status: 'ok', events: [] });
    const a = await t.publish('c', { data: 'a' });
    const b = await t.publish('c', { data: 'b' });
    expect(await t.replay('c', '0-0')).toEqual({ status: 'ok', events: [a, b] });
    const c = await t.publish('c', { data: 'c' });
    expect(await t.replay('c', '0-0')).toEqual({ status: 'resync', lastId: c.id });
  });

  it('keeps a channel published with its own history size whole, and deletes it at expireMs', async () => {
    jest.useFakeTimers({ doNotFake: ['performance'] });
    try {
      const t = new InMemoryFlushTransport({ historySize: 1, historyMaxAgeMs: 10 });
      const storage = { historySize: 3, expireMs: 1000 };
      const a = await t.publish('run', { data: 'a' }, storage);
      jest.advanceTimersByTime(500);
      const b = await t.publish('run', { data: 'b' }, storage);
      expect(await t.replay('run', '0-0')).toEqual({ status: 'ok', events: [a, b] });
      jest.advanceTimersByTime(999);
      expect((await t.replay('run', '0-0')).status).toBe('ok');
      jest.advanceTimersByTime(1);
      expect(await t.replay('run', '')).toEqual({ status: 'resync', lastId: undefined });
      await t.close();
    } finally {
      jest.useRealTimers();
    }
  });
});
