import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { FlushControlPlane } from '../../src/broadcast/flush-control-plane.interface.js';
import { delay, waitFor } from './wait.js';

/**
 * Two control planes of the same deployment: two instances on one Redis, or (in memory, where
 * nothing crosses processes) the same one twice.
 */
export interface ControlPlanePair {
  readonly a: FlushControlPlane;
  readonly b: FlushControlPlane;
}

/**
 * Waits until what `control` stored before this call with `ttlMs` has expired, without taking
 * it and without a fixed sleep: it stores a probe with the same lifetime and waits until the
 * probe's id can be stored again (the probe expires last).
 */
export const waitForExpiryOf = async (control: FlushControlPlane, ttlMs: number): Promise<void> => {
  const probe = `probe:${randomUUID()}`;
  await control.put(probe, 'probe', ttlMs);
  await waitFor(
    () =>
      control.put(probe, 'again', 60_000).then(
        () => true,
        () => false,
      ),
    `the expiry of a value stored for ${ttlMs} ms`,
  );
};

/** Short lease/value lifetimes, long enough for a round trip on a busy 2-core machine. */
const SHORT_TTL_MS = 300;

/**
 * The FlushControlPlane contract, run against every implementation (the in-memory one in the
 * unit project, the Redis one in the e2e project). `pair()` is called once per test; every
 * test uses fresh random keys, so implementations may share their backend between tests.
 */
export const describeControlPlaneContract = (name: string, pair: () => ControlPlanePair): void => {
  const fresh = (what: string) => `${what}-${randomUUID()}`;

  describe(`${name}: the FlushControlPlane contract`, () => {
    it('delivers every broadcast to the listeners of every instance, in the order one instance sent them', async () => {
      const { a, b } = pair();
      const tag = fresh('m');
      const gotA: string[] = [];
      const gotB: string[] = [];
      const offA = await a.listen(m => m.startsWith(tag) && gotA.push(m));
      const offB = await b.listen(m => m.startsWith(tag) && gotB.push(m));
      const sent = Array.from({ length: 20 }, (_, i) => `${tag}:${i}`);
      for (const message of sent) void a.broadcast(message);
      await b.broadcast(`${tag}:from-b`);
      await waitFor(() => gotA.length === 21 && gotB.length === 21, 'every broadcast on both');
      for (const got of [gotA, gotB]) {
        expect(got.filter(m => m !== `${tag}:from-b`)).toEqual(sent);
        expect(got).toContain(`${tag}:from-b`);
      }
      await offA();
      await b.broadcast(`${tag}:after`);
      await waitFor(() => gotB.length === 22, 'the broadcast after removing a listener');
      expect(gotA).toHaveLength(21);
      await offB();
    });

    it('calls listeners after broadcast() returned control to its caller, never inside it', async () => {
      const { a } = pair();
      const tag = fresh('m');
      const got: string[] = [];
      const off = await a.listen(m => m === tag && got.push(m));
      const sending = a.broadcast(tag);
      expect(got).toEqual([]);
      await sending;
      await waitFor(() => got.length === 1, 'the broadcast');
      await off();
    });

    it('grants exactly `limit` slots to concurrent acquires from both instances', async () => {
      const { a, b } = pair();
      const key = fresh('key');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).acquire(key, `holder-${i}`, 3, 30_000),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(3);
      expect(await a.count(key)).toBe(3);
      expect(await b.count(key)).toBe(3);
    });

    it('answers true again to a holder that already has a slot, without counting it twice', async () => {
      const { a, b } = pair();
      const key = fresh('key');
      expect(await a.acquire(key, 'h1', 2, 30_000)).toBe(true);
      expect(await b.acquire(key, 'h1', 2, 30_000)).toBe(true);
      expect(await a.count(key)).toBe(1);
      expect(await a.acquire(key, 'h2', 2, 30_000)).toBe(true);
      expect(await b.acquire(key, 'h1', 2, 30_000)).toBe(true);
      expect(await b.acquire(key, 'h3', 2, 30_000)).toBe(false);
    });

    it('frees the slots of leases that lapse', async () => {
      const { a, b } = pair();
      const key = fresh('key');
      for (const holder of ['h1', 'h2', 'h3'])
        expect(await a.acquire(key, holder, 3, SHORT_TTL_MS)).toBe(true);
      expect(await b.acquire(key, 'h4', 3, 30_000)).toBe(false);
      await waitFor(() => b.acquire(key, 'h4', 3, 30_000), 'a slot after the leases lapsed');
      // The three short leases lapse one by one (each from its own acquire): the first free slot
      // can come while the others still count. In the end only h4's lease is live.
      await waitFor(async () => (await a.count(key)) === 1, 'every short lease to lapse');
      expect(await b.count(key)).toBe(1);
    });

    it('keeps renewed leases beyond their first lifetime', async () => {
      const { a, b } = pair();
      const key = fresh('key');
      const leases = ['h1', 'h2', 'h3'].map(holder => ({ key, holder }));
      for (const { holder } of leases) await a.acquire(key, holder, 3, SHORT_TTL_MS);
      const until = Date.now() + 3 * SHORT_TTL_MS;
      while (Date.now() < until) {
        await a.renew(leases, SHORT_TTL_MS);
        expect(await b.acquire(key, 'h4', 3, 30_000)).toBe(false);
        await delay(SHORT_TTL_MS / 4); // pacing: renewals well inside the lifetime
      }
      expect(await b.count(key)).toBe(3);
    });

    it('takes leases again on renew after they were released', async () => {
      const { a, b } = pair();
      const key = fresh('key');
      await a.acquire(key, 'h1', 1, 30_000);
      await a.release(key, 'h1');
      expect(await b.count(key)).toBe(0);
      await a.renew([{ key, holder: 'h1' }], 30_000);
      expect(await b.count(key)).toBe(1);
      await a.renew([], 30_000);
    });

    it('frees a slot on release (on any instance); releasing what is not held does nothing', async () => {
      const { a, b } = pair();
      const key = fresh('key');
      expect(await a.acquire(key, 'h1', 1, 30_000)).toBe(true);
      expect(await b.acquire(key, 'h2', 1, 30_000)).toBe(false);
      await b.release(key, 'h1');
      await b.release(key, 'h1');
      await a.release(fresh('key'), 'nobody');
      expect(await b.acquire(key, 'h2', 1, 30_000)).toBe(true);
      expect(await a.count(key)).toBe(1);
    });

    it('gives a single-use value to exactly one of many concurrent takers on both instances', async () => {
      const { a, b } = pair();
      const id = fresh('id');
      await a.put(id, 'the value', 30_000);
      const taken = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).take(id)),
      );
      expect(taken.filter(v => v !== undefined)).toEqual(['the value']);
      expect(await a.take(id)).toBeUndefined();
      expect(await b.take(fresh('unknown'))).toBeUndefined();
    });

    it('refuses to store an id twice', async () => {
      const { a, b } = pair();
      const id = fresh('id');
      await a.put(id, 'one', 30_000);
      await expect(b.put(id, 'two', 30_000)).rejects.toThrow(/already stored/);
      expect(await b.take(id)).toBe('one');
    });

    it('answers undefined for a value taken after its time to live', async () => {
      const { a, b } = pair();
      const id = fresh('id');
      await a.put(id, 'value', SHORT_TTL_MS);
      await waitForExpiryOf(a, SHORT_TTL_MS);
      expect(await b.take(id)).toBeUndefined();
    });

    it('rejects misuse with a TypeError that names the argument', async () => {
      const { a } = pair();
      await expect(a.acquire('', 'h', 1, 1000)).rejects.toThrow(/"key" must be a non-empty string/);
      await expect(a.acquire('k', 'h', 0, 1000)).rejects.toThrow(/"limit" must be a whole number/);
      await expect(a.acquire('k', 'h', 1, 1.5)).rejects.toThrow(
        /"ttlMs" must be whole milliseconds/,
      );
      await expect(a.put('id', 'v', 0)).rejects.toThrow(TypeError);
      await expect(a.renew([{ key: 'k', holder: '' }], 1000)).rejects.toThrow(/lease.holder/);
      await expect(a.broadcast('x'.repeat(64 * 1024 + 1))).rejects.toThrow(/at most 64 KiB/);
    });
  });
};
