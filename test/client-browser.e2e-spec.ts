// The built client (dist/client, as the package ships it) in headless Chromium (the system's
// /usr/bin/chromium, never a downloaded one), loaded by a test page as an ES module: one
// connection shared by ten tabs, the hand-over when the connected tab closes, a Redis outage
// ridden out, the server's answers (429, expired with a fresh ticket, revoked, 204), and the
// give-up after a server that fails every attempt; on both adapters. No page may have an
// unhandled rejection or an uncaught error. The same logic runs in Node in client.e2e-spec.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FlushRetryOptions } from '../src/client/index.js';
import { RedisFlushTransport } from '../src/redis.js';
import { baseUrl } from '../src/testing/index.js';
import { ClientController, clientApp } from './fixtures/client/client.controller.js';
import type { ClientLog } from './utils/client-log.js';
import { subscribers } from './utils/hub.js';
import { recordingLogger } from './utils/logger.js';
import { describeWithChromium, launchChromium } from './utils/chromium.js';
import { platforms, startApp } from './utils/platforms.js';
import { freePort, REDIS_SERVER, startRedis, stopRedis } from './utils/redis-server.js';
import { waitFor } from './utils/wait.js';

const BUILT = new URL('../dist/client/index.js', import.meta.url);

const TIMEOUT = 60_000;

interface TrackOptions {
  ticketChannels?: string[];
  share?: boolean;
  retry?: FlushRetryOptions;
}

declare global {
  interface Window {
    ready?: boolean;
    log: ClientLog;
    rejections: string[];
    track(url: string, options?: TrackOptions): void;
    client: { close(): void };
  }
}

describeWithChromium('client-browser')('FlushClient in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(BUILT))
      throw new Error('dist/client/index.js is missing: run `npm run build` first.');
    browser = await launchChromium();
  }, TIMEOUT);

  afterAll(() => browser?.close(), TIMEOUT);

  describe.each(platforms)('on %s', platform => {
    let app: INestApplication;
    let base: string;
    let hits: Record<string, number>;
    /** Uncaught errors of every page (unhandled rejections included), asserted empty per test. */
    const pageErrors: string[] = [];

    const publish = async (target: string, channel: string, data: unknown) => {
      const res = await fetch(`${target}/client/publish/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data }),
      });
      return res.status === 201 ? ((await res.json()) as { id: string }).id : undefined;
    };

    /** A page of `context` on the test page, tracking `path` with the built client. */
    const open = async (
      context: BrowserContext,
      target: string,
      path: string,
      options: TrackOptions = {},
    ): Promise<Page> => {
      const page = await context.newPage();
      page.on('pageerror', err => pageErrors.push(`${page.url()}: ${err.message}`));
      await page.goto(`${target}/client/page`);
      await page.waitForFunction(() => window.ready === true);
      await page.evaluate(([url, opts]) => window.track(url, opts), [path, options] as const);
      return page;
    };
    const logOf = (page: Page) => page.evaluate(() => window.log);
    const messages = async (page: Page) =>
      (await logOf(page)).events.filter(e => e.name === 'message').map(e => e.id);
    const lastState = async (page: Page) => (await logOf(page)).states.at(-1);
    const until = (what: string, condition: () => Promise<boolean>, deadlineMs = 20_000) =>
      waitFor(condition, what, deadlineMs, 50);

    /** Closes `context` after checking that none of its open pages had an unhandled rejection. */
    const closeChecked = async (context: BrowserContext) => {
      const rejections = await Promise.all(
        context.pages().map(page => page.evaluate(() => window.rejections)),
      );
      await context.close();
      expect(rejections.flat()).toEqual([]);
      expect(pageErrors.splice(0)).toEqual([]);
    };

    beforeAll(async () => {
      app = await startApp(platform, [clientApp()]);
      base = baseUrl(app);
      hits = app.get(ClientController).hits;
    }, TIMEOUT);

    afterAll(() => app?.close(), TIMEOUT);

    it(
      'ten tabs share one connection; closing the connected tab hands over with nothing lost or repeated',
      async () => {
        const channel = `c-${randomUUID()}`;
        const context = await browser.newContext();
        try {
          const first = await open(context, base, `/client/sse/${channel}`);
          await until(
            'the first tab to connect',
            async () => (await lastState(first))?.state === 'open',
          );
          const pages = [first];
          for (let i = 1; i < 10; i++)
            pages.push(await open(context, base, `/client/sse/${channel}`));
          await until('every tab to know the connection is open', async () =>
            (await Promise.all(pages.map(lastState))).every(s => s?.state === 'open'),
          );
          await subscribers(app, channel, 1);
          const published: string[] = [];
          for (let i = 0; i < 5; i++) published.push((await publish(base, channel, { i }))!);
          const all = (list: Page[]) => Promise.all(list.map(messages));
          await until('every tab to get the five events', async () =>
            (await all(pages)).every(ids => ids.length >= 5),
          );
          expect(await all(pages)).toEqual(pages.map(() => published));
          expect(hits[channel]).toBe(1);

          // The connected tab goes away; one event is published before another tab took over.
          await first.close();
          const rest = pages.slice(1);
          published.push((await publish(base, channel, { i: 5 }))!);
          await subscribers(app, channel, 1, 20_000);
          published.push((await publish(base, channel, { i: 6 }))!);
          await until('every remaining tab to get seven events', async () =>
            (await all(rest)).every(ids => ids.length >= 7),
          );
          expect(await all(rest)).toEqual(rest.map(() => published));
          expect(hits[channel]).toBe(2);
          const data = (await logOf(rest[0])).events.map(e => e.data);
          expect(data).toEqual([0, 1, 2, 3, 4, 5, 6].map(i => ({ i })));
        } finally {
          await closeChecked(context);
        }
      },
      TIMEOUT,
    );

    it(
      'speaks the server: 429 then success, expired with a fresh ticket, revoked, 204',
      async () => {
        const context = await browser.newContext();
        try {
          // 429: a stream of the same key holds the only slot.
          const capped = `c-${randomUUID()}`;
          const holder = new AbortController();
          expect(
            (await fetch(`${base}/client/capped/${capped}`, { signal: holder.signal })).status,
          ).toBe(200);
          const waiting = await open(context, base, `/client/capped/${capped}`, { share: false });
          await until('a 429', async () =>
            (await logOf(waiting)).states.some(s => s.state === 'retrying' && s.status === 429),
          );
          holder.abort();
          await until(
            'the capped stream to open',
            async () => (await lastState(waiting))?.state === 'open',
          );

          // expired: a fresh ticket per connect, resumed with Last-Event-ID.
          const short = `c-${randomUUID()}`;
          const ticketed = await open(context, base, `/client/short/${short}`, {
            ticketChannels: [short],
            share: false,
          });
          await until(
            'the ticketed stream to open',
            async () => (await lastState(ticketed))?.state === 'open',
          );
          const published: string[] = [];
          await waitFor(
            async () => {
              published.push((await publish(base, short, published.length))!);
              return (await logOf(ticketed)).tickets >= 3;
            },
            'two expiries',
            20_000,
            100,
          );
          published.push((await publish(base, short, 'last'))!);
          await until(
            'every ticketed event',
            async () => (await messages(ticketed)).length >= published.length,
          );
          expect(await messages(ticketed)).toEqual(published);

          // revoked and 204 stop.
          const revoked = `c-${randomUUID()}`;
          const page = await open(context, base, `/client/sse/${revoked}`, { share: false });
          await subscribers(app, revoked, 1, 20_000);
          await fetch(`${base}/client/revoke/${revoked}`, { method: 'POST' });
          await until('revoked', async () => (await lastState(page))?.state === 'closed');
          expect(await lastState(page)).toEqual({
            state: 'closed',
            reason: 'revoked',
            status: 200,
          });
          const empty = await open(context, base, '/client/empty', { share: false });
          await until('204', async () => (await lastState(empty))?.state === 'closed');
          expect(await lastState(empty)).toEqual({
            state: 'closed',
            reason: 'status',
            status: 204,
          });
          expect(hits[revoked]).toBe(1);
        } finally {
          await closeChecked(context);
        }
      },
      TIMEOUT,
    );

    it(
      'a server that fails every attempt: bounded retries, then closed with the cause, in every tab',
      async () => {
        const context = await browser.newContext();
        try {
          const retry = { initialDelayMs: 20, maxDelayMs: 80, maxAttempts: 4 };
          const json = `json-${randomUUID()}`;
          const instant = `instant-${randomUUID()}`;
          const pages = [
            {
              key: json,
              cause: 'content-type',
              page: await open(context, base, `/client/json?key=${json}`, { retry, share: false }),
            },
            {
              key: instant,
              cause: 'ended',
              page: await open(context, base, `/client/instant?key=${instant}`, {
                retry,
                share: false,
              }),
            },
          ];
          for (const { key, cause, page } of pages) {
            await until(
              'the client to give up',
              async () => (await lastState(page))?.state === 'closed',
            );
            expect(await lastState(page)).toEqual({
              state: 'closed',
              reason: 'gave-up',
              cause,
              status: 200,
            });
            expect(hits[key]).toBe(retry.maxAttempts);
            const delays = (await logOf(page)).states
              .filter(s => s.state === 'retrying')
              .map(s => s.delayMs!);
            expect(delays).toHaveLength(retry.maxAttempts - 1);
            const times = app.get(ClientController).times[key];
            times
              .slice(1)
              .forEach((at, i) => expect(at - times[i]).toBeGreaterThanOrEqual(delays[i] - 1));
          }
          // Shared across tabs: both tabs start together, one connects, the other hears its give-up.
          const shared = `instant-${randomUUID()}`;
          const slow = { initialDelayMs: 500, maxDelayMs: 500, maxAttempts: 3 };
          const tabs = [await context.newPage(), await context.newPage()];
          for (const tab of tabs) {
            tab.on('pageerror', err => pageErrors.push(`${tab.url()}: ${err.message}`));
            await tab.goto(`${base}/client/page`);
            await tab.waitForFunction(() => window.ready === true);
          }
          await Promise.all(
            tabs.map(tab =>
              tab.evaluate(([url, retry]) => window.track(url, { retry }), [
                `/client/instant?key=${shared}`,
                slow,
              ] as const),
            ),
          );
          await until('both tabs to give up', async () =>
            (await Promise.all(tabs.map(lastState))).every(s => s?.state === 'closed'),
          );
          for (const tab of tabs)
            expect(await lastState(tab)).toMatchObject({ reason: 'gave-up', cause: 'ended' });
          // One connection for both: maxAttempts attempts, plus at most one of the other tab when it
          // gets the lock before it hears the give-up (seen in 1 of 4 runs before the client let
          // pending messages run first: 0 of 6 since; that attempt is aborted once it hears it).
          expect(hits[shared]).toBeGreaterThanOrEqual(slow.maxAttempts);
          expect(hits[shared]).toBeLessThanOrEqual(slow.maxAttempts + 1);
        } finally {
          await closeChecked(context);
        }
      },
      TIMEOUT,
    );

    const describeWithRedisServer = existsSync(REDIS_SERVER) ? describe : describe.skip;
    describeWithRedisServer('with a Redis outage', () => {
      let redis: ChildProcess | undefined;
      let redisApp: INestApplication | undefined;

      afterAll(async () => {
        await redisApp?.close();
        if (redis) await stopRedis(redis);
      }, TIMEOUT);

      it(
        'rides out a 503 outage: every event delivered, or a resync',
        async () => {
          const port = await freePort();
          redis = await startRedis(port);
          const transport = new RedisFlushTransport({
            url: `redis://127.0.0.1:${port}`,
            keyPrefix: `flush-client:${randomUUID()}:`,
            logger: recordingLogger(),
            redisOptions: { retryStrategy: () => 50 },
          });
          redisApp = await startApp(platform, [clientApp(transport)], a =>
            a.useLogger(recordingLogger()),
          );
          const target = baseUrl(redisApp);
          const channel = `c-${randomUUID()}`;
          const context = await browser.newContext();
          try {
            const before = await open(context, target, `/client/sse/${channel}`, { share: false });
            await until(
              'the stream to open',
              async () => (await lastState(before))?.state === 'open',
            );
            const first = (await publish(target, channel, 'before'))!;
            await until('the first event', async () => (await messages(before)).includes(first));

            await stopRedis(redis);
            const during = await open(context, target, `/client/sse/${channel}`, { share: false });
            await until('a 503', async () =>
              (await logOf(during)).states.some(s => s.state === 'retrying' && s.status === 503),
            );
            redis = await startRedis(port);
            let after: string | undefined;
            await waitFor(
              async () => (after = await publish(target, channel, 'after')) !== undefined,
              'a publish',
              20_000,
              100,
            );
            await until(
              'the stream open before the outage to get the event after it, or a resync',
              async () =>
                (await logOf(before)).events.some(e => e.id === after || e.name === 'resync'),
            );
            // The client that met the 503 had no position yet: it reads live once it is open.
            await until(
              'the client that met the 503 to be open',
              async () => (await lastState(during))?.state === 'open',
            );
            await subscribers(redisApp, channel, 2, 20_000);
            const live = (await publish(target, channel, 'live'))!;
            for (const page of [before, during])
              await until('the live event', async () => (await messages(page)).includes(live));
            const log = await logOf(during);
            expect(log.states.find(s => s.status === 503)!.delayMs).toBeGreaterThanOrEqual(2000);
            expect((await messages(during)).filter(id => id === live)).toHaveLength(1);
          } finally {
            await closeChecked(context);
          }
        },
        TIMEOUT,
      );
    });
  });
});
