// The browser client's logic in Node (global fetch) against a real app on both adapters: every
// server answer of the contract and what the client does with it. The same built client runs in
// headless Chromium in client-browser.e2e-spec.ts (tab sharing, outages).
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { baseUrl } from '../src/testing/index.js';
import type { FlushClient } from '../src/client/index.js';
import { ClientController, clientApp } from './fixtures/client/client.controller.js';
import { lastState, trackClient, type ClientLog } from './utils/client-log.js';
import { subscribers } from './utils/hub.js';
import { platforms, startApp } from './utils/platforms.js';
import { waitFor } from './utils/wait.js';

const TIMEOUT = 30_000;

describe.each(platforms)('FlushClient in Node on %s', platform => {
  let app: INestApplication;
  let base: string;
  let hits: Record<string, number>;
  const clients: FlushClient[] = [];

  const track = (path: string, options: Parameters<typeof trackClient>[1] = {}) => {
    const tracked = trackClient(`${base}${path}`, { ticketUrl: undefined, ...options });
    clients.push(tracked.client);
    return tracked.log;
  };
  const publish = async (channel: string, data: unknown, event?: string) => {
    const res = await fetch(`${base}/client/publish/${channel}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data, event }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const stateOf = (log: ClientLog, state: string, what = state) =>
    waitFor(() => lastState(log)?.state === state, `the client to be ${what}`, 15_000);

  beforeAll(async () => {
    app = await startApp(platform, [clientApp()]);
    base = baseUrl(app);
    hits = app.get(ClientController).hits;
  }, TIMEOUT);

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(() => app?.close(), TIMEOUT);

  it('delivers events JSON-parsed, with names and ids; `message` for unnamed ones', async () => {
    const channel = `c-${randomUUID()}`;
    const log = track(`/client/sse/${channel}`);
    await stateOf(log, 'open');
    await subscribers(app, channel, 1);
    const a = await publish(channel, { title: 'one' });
    const b = await publish(channel, 'plain text');
    await waitFor(() => log.events.length === 2, 'two events');
    expect(log.events).toEqual([
      { name: 'message', data: { title: 'one' }, id: a },
      { name: 'message', data: 'plain text', id: b },
    ]);
    expect(log.states.map(s => s.state)).toEqual(['connecting', 'open']);
    expect(hits[channel]).toBe(1);
  });

  it(
    'expired: fetches a fresh ticket, reconnects with Last-Event-ID, no event lost or repeated',
    async () => {
      const channel = `c-${randomUUID()}`;
      const log = track(`/client/short/${channel}`, {
        ticketUrl: `${base}/client/tickets`,
        channels: [channel],
      });
      await stateOf(log, 'open');
      const published: string[] = [];
      // Publishing at a steady pace while the 1 s streams expire twice (pacing, not waiting).
      await waitFor(
        async () => {
          published.push(await publish(channel, published.length));
          return log.tickets >= 3;
        },
        'two expiries',
        20_000,
        100,
      );
      published.push(await publish(channel, published.length));
      const data = () => log.events.filter(e => e.name === 'message');
      await waitFor(() => data().length >= published.length, 'every event', 15_000);
      expect(data().map(e => e.id)).toEqual(published);
      expect(log.events.filter(e => e.name === 'expired').length).toBeGreaterThanOrEqual(2);
      expect(log.states).toContainEqual(
        expect.objectContaining({ state: 'retrying', reason: 'expired', status: 200 }),
      );
      const delays = log.states.filter(s => s.reason === 'expired').map(s => s.delayMs!);
      for (const ms of delays) expect(ms).toBeLessThanOrEqual(1000); // the server's retry: hint
    },
    TIMEOUT,
  );

  it(
    '429: waits Retry-After, then connects and delivers',
    async () => {
      const channel = `c-${randomUUID()}`;
      const holder = new AbortController();
      const held = await fetch(`${base}/client/capped/${channel}`, { signal: holder.signal });
      expect(held.status).toBe(200);
      const log = track(`/client/capped/${channel}`);
      await waitFor(() => log.states.some(s => s.state === 'retrying'), 'a retry');
      const retrying = log.states.find(s => s.state === 'retrying')!;
      expect(retrying).toMatchObject({ reason: 'status', status: 429 });
      expect(retrying.delayMs).toBeGreaterThanOrEqual(5000);
      expect(retrying.delayMs).toBeLessThanOrEqual(6000);
      holder.abort();
      await subscribers(app, channel, 0);
      await stateOf(log, 'open');
      await subscribers(app, channel, 1);
      const id = await publish(channel, 'after');
      await waitFor(() => log.events.some(e => e.id === id), 'the event');
      expect(hits[channel]).toBe(3);
    },
    TIMEOUT,
  );

  it('revoked: stops, and does not come back', async () => {
    const channel = `c-${randomUUID()}`;
    const log = track(`/client/sse/${channel}`);
    await stateOf(log, 'open');
    await subscribers(app, channel, 1);
    expect((await fetch(`${base}/client/revoke/${channel}`, { method: 'POST' })).status).toBe(204);
    await stateOf(log, 'closed');
    expect(lastState(log)).toEqual({ state: 'closed', reason: 'revoked', status: 200 });
    expect(log.events.map(e => e.name)).toEqual(['revoked']);
    await subscribers(app, channel, 0);
    expect(hits[channel]).toBe(1);
  });

  it('204 and 403 stop at once', async () => {
    const empty = track('/client/empty');
    await stateOf(empty, 'closed');
    expect(lastState(empty)).toEqual({ state: 'closed', reason: 'status', status: 204 });
    const channel = `c-${randomUUID()}`;
    const forbidden = track(`/client/auth/${channel}`, {
      headers: () => ({ authorization: 'Bearer forbidden' }),
    });
    await stateOf(forbidden, 'closed');
    expect(lastState(forbidden)).toEqual({ state: 'closed', reason: 'status', status: 403 });
    expect(hits[channel]).toBe(1);
  });

  it('401: asks headers() again at once; a second 401 stops, a good header streams', async () => {
    const stale = `c-${randomUUID()}`;
    let asked = 0;
    const refused = track(`/client/auth/${stale}`, {
      headers: () => ({ authorization: `Bearer stale-${++asked}` }),
    });
    await stateOf(refused, 'closed');
    expect(lastState(refused)).toEqual({ state: 'closed', reason: 'status', status: 401 });
    expect(asked).toBe(2);
    expect(hits[stale]).toBe(2);

    const fresh = `c-${randomUUID()}`;
    const tokens = ['Bearer expired-token', 'Bearer good'];
    const log = track(`/client/auth/${fresh}`, {
      headers: async () => ({ authorization: tokens.shift() ?? 'Bearer good' }),
    });
    await stateOf(log, 'open');
    expect(log.states).toContainEqual({
      state: 'retrying',
      reason: 'status',
      status: 401,
      delayMs: 0,
    });
    await subscribers(app, fresh, 1);
    const id = await publish(fresh, 'in');
    await waitFor(() => log.events.some(e => e.id === id), 'the event');
  });

  it(
    'an answer that is not a stream, or a stream that ends at once: retries with backoff, never a tight loop',
    async () => {
      const json = track('/client/json');
      const instant = track('/client/instant');
      const retries = (log: ClientLog) => log.states.filter(s => s.state === 'retrying');
      await waitFor(
        () => retries(json).length >= 3 && retries(instant).length >= 3,
        'three retries each',
        20_000,
      );
      expect(retries(json)[0]).toMatchObject({ reason: 'content-type', status: 200 });
      expect(retries(instant)[0]).toMatchObject({ reason: 'ended', status: 200 });
      for (const log of [json, instant]) {
        // base 1 s doubling, jittered to 50-100 %: 0.5-1 s, 1-2 s, 2-4 s.
        const [a, b, c] = retries(log).map(s => s.delayMs!);
        expect([a, b, c].map((ms, i) => ms >= 500 * 2 ** i && ms <= 1000 * 2 ** i)).toEqual([
          true,
          true,
          true,
        ]);
      }
      expect(hits.json).toBeLessThanOrEqual(4);
      expect(hits.instant).toBeLessThanOrEqual(4);
    },
    TIMEOUT,
  );
});

describe('the nestjs-flush/client entry point', () => {
  it('bundles alone, with no import left, under 4 KB minified and gzipped', async () => {
    const { build } = await import('esbuild');
    const { gzipSync } = await import('node:zlib');
    const out = await build({
      entryPoints: [new URL('../src/client/index.ts', import.meta.url).pathname],
      bundle: true,
      minify: true,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      write: false,
    });
    const code = out.outputFiles[0].text;
    expect(code).not.toMatch(/\bimport\s*[\s{*"'(]/);
    expect(gzipSync(code, { level: 9 }).length).toBeLessThan(4096);
  });
});
