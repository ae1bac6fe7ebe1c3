// The browser client's logic in Node (global fetch) against a real app on both adapters: every
// server answer of the contract and what the client does with it. The same built client runs in
// headless Chromium in client-browser.e2e-spec.ts (tab sharing, outages). An unhandled rejection
// fails the running test (Jest 30 tracks them itself, in place of a process listener).
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { baseUrl } from '../src/testing/index.js';
import { FlushClient } from '../src/client/index.js';
import { ClientController, clientApp } from './fixtures/client/client.controller.js';
import { lastState, trackClient, type ClientLog } from './utils/client-log.js';
import { subscribers } from './utils/hub.js';
import { platforms, startApp } from './utils/platforms.js';
import { freePort } from './utils/redis-server.js';
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

  it('gives each event its data as sent (meta.raw): a text token that parses as JSON keeps it', async () => {
    const channel = `c-${randomUUID()}`;
    const client = new FlushClient(`${base}/client/sse/${channel}`);
    clients.push(client);
    const seen: { data: unknown; raw?: string }[] = [];
    client.on('message', (data, meta) => seen.push({ data, raw: meta.raw }));
    expect(client.role).toBe('own'); // Node: never shared across tabs
    await subscribers(app, channel, 1);
    await publish(channel, ' 42');
    await publish(channel, { n: 1 });
    await waitFor(() => seen.length === 2, 'two events');
    expect(seen).toEqual([
      { data: 42, raw: ' 42' },
      { data: { n: 1 }, raw: '{"n":1}' },
    ]);
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
      // The server's own words, for the page to show.
      expect(retrying.message).toMatch(/^Too many open streams: at most 1 per client\./);
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

  it(
    'gives up after maxAttempts failed attempts in a row: closed with the cause, each attempt after its delay',
    async () => {
      const retry = { initialDelayMs: 20, maxDelayMs: 80, maxAttempts: 5 };
      const json = `json-${randomUUID()}`;
      const instant = `instant-${randomUUID()}`;
      const logs = [
        { key: json, cause: 'content-type', log: track(`/client/json?key=${json}`, { retry }) },
        { key: instant, cause: 'ended', log: track(`/client/instant?key=${instant}`, { retry }) },
      ];
      for (const { key, cause, log } of logs) {
        await stateOf(log, 'closed');
        expect(lastState(log)).toEqual({ state: 'closed', reason: 'gave-up', cause, status: 200 });
        // Exactly maxAttempts connections: the loop is over once the state says closed.
        expect(hits[key]).toBe(retry.maxAttempts);
        const delays = log.states.filter(s => s.state === 'retrying').map(s => s.delayMs!);
        expect(delays).toHaveLength(retry.maxAttempts - 1);
        delays.forEach((ms, i) => {
          const ceiling = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** i);
          expect(ms).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(ms).toBeLessThanOrEqual(ceiling);
        });
        // No tight loop: the server saw each connection at least its delay after the one before
        // (1 ms of timer rounding allowed).
        const times = app.get(ClientController).times[key];
        times
          .slice(1)
          .forEach((at, i) => expect(at - times[i]).toBeGreaterThanOrEqual(delays[i] - 1));
      }
    },
    TIMEOUT,
  );

  it(
    'caps the backoff at maxDelayMs, each capped delay jittered to 50-100 % of it',
    async () => {
      const retry = { initialDelayMs: 10, maxDelayMs: 40, maxAttempts: 12 };
      const key = `json-${randomUUID()}`;
      const log = track(`/client/json?key=${key}`, { retry });
      await stateOf(log, 'closed', 'closed after 12 attempts');
      expect(lastState(log)).toMatchObject({ reason: 'gave-up', cause: 'content-type' });
      const delays = log.states.filter(s => s.state === 'retrying').map(s => s.delayMs!);
      expect(delays).toHaveLength(11);
      // 10 ms, 20 ms, then the 40 ms cap, nine times.
      expect(delays[0]).toBeGreaterThanOrEqual(5);
      expect(delays[0]).toBeLessThanOrEqual(10);
      expect(delays[1]).toBeGreaterThanOrEqual(10);
      expect(delays[1]).toBeLessThanOrEqual(20);
      const capped = delays.slice(2);
      for (const ms of capped) {
        expect(ms).toBeGreaterThanOrEqual(20);
        expect(ms).toBeLessThanOrEqual(40);
      }
      // Jittered: nine draws from 20-40 ms are not all the same.
      expect(new Set(capped).size).toBeGreaterThan(1);
      expect(hits[key]).toBe(12);
    },
    TIMEOUT,
  );

  it('network errors back off without giving up, until close()', async () => {
    const port = await freePort(); // nothing listens there
    const log = trackClient(`http://127.0.0.1:${port}/nothing`, {
      retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 2 },
    });
    clients.push(log.client);
    const retries = () => log.log.states.filter(s => s.state === 'retrying');
    await waitFor(() => retries().length >= 6, 'six retries');
    expect(retries().every(s => s.reason === 'network' && typeof s.error === 'string')).toBe(true);
    expect(log.log.states.some(s => s.state === 'closed')).toBe(false);
    log.client.close();
    expect(lastState(log.log)).toEqual({ state: 'closed', reason: 'close' });
  });

  it('refuses a bad retry option at construction, naming it', () => {
    expect(() => new FlushClient(`${base}/client/json`, { retry: { maxDelayMs: -5 } })).toThrow(
      'FlushClient retry.maxDelayMs must be a number >= 0; received -5.',
    );
  });
});

describe('the nestjs-flush/client entry point', () => {
  it('type-checks alone: no @nestjs, rxjs or Node types, no file outside src/client', async () => {
    const { default: ts } = await import('typescript');
    const entry = new URL('../src/client/index.ts', import.meta.url).pathname;
    const program = ts.createProgram([entry], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      strict: true,
      noEmit: true,
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
    const files = program
      .getSourceFiles()
      .map(f => f.fileName)
      .filter(name => !program.isSourceFileDefaultLibrary(program.getSourceFile(name)!));
    const folder = entry.slice(0, entry.lastIndexOf('/') + 1);
    expect(files.filter(name => !name.startsWith(folder))).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

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
