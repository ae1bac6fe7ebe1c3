// The sample's order board in a real browser: headless Chromium (the system's /usr/bin/chromium)
// drives the page's FlushClient against the sample's AppModule. One stream reads two channels
// (`orders`, `alerts`) with a snapshot first; a browser (its cookie) may hold 3 board streams.
import { expect } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { BrowserContext, Page } from 'playwright-core';
import { BOARD_STREAMS_PER_BROWSER } from '../sample/board/board.controller.js';
import {
  ALERTS_CHANNEL,
  BOARD_CHANNELS,
  ORDERS_CHANNEL,
  type BoardSnapshot,
} from '../sample/board/board.service.js';
import { compareEventIds, parseFlushCursor } from '../src/index.js';
import { byTestId, describeWithChromium, screenshotsDir, useChromium } from './utils/chromium.js';
import { subscriberCount, subscribers } from './utils/hub.js';
import { platforms } from './utils/platforms.js';
import { openSamplePage, type SamplePage } from './utils/sample-page.js';
import { waitFor } from './utils/wait.js';

/** Per test and hook (the e2e project's `testTimeout` is not applied per project by Jest). */
const TIMEOUT = 30000;

interface LogRow {
  rev: number;
  channelId: string;
  cursor: string;
}

/** Waits until the board panel of `page` is in `state` (`live`, `capped`, `offline`…). */
const boardState = (page: Page, state: string, timeout = 10000) =>
  page.waitForFunction(
    s => document.querySelector('[data-testid="board-status"]')?.getAttribute('data-state') === s,
    state,
    { timeout },
  );

/** The orders the page shows: id → status. */
const pageOrders = (page: Page): Promise<Record<string, string>> =>
  page.$$eval('[data-testid="board-order"]', rows =>
    Object.fromEntries(
      rows.map((r): [string, string] => [
        r.getAttribute('data-order-id') ?? '',
        r.getAttribute('data-status') ?? '',
      ]),
    ),
  );

/** The live events of `channel` in the page's log, oldest first. */
const liveRows = (page: Page, channel: string): Promise<LogRow[]> =>
  page.$$eval(`[data-testid="board-event"][data-kind="live"][data-channel="${channel}"]`, rows =>
    rows
      .map(r => ({
        rev: Number(r.getAttribute('data-rev')),
        channelId: r.getAttribute('data-channel-id') ?? '',
        cursor: r.getAttribute('data-cursor') ?? '',
      }))
      .reverse(),
  );

/** Each change once, in order: revisions 1, 2, 3… right after `from`, channel ids increasing. */
const expectOnceInOrder = (rows: LogRow[], from: number) => {
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.map(r => r.rev)).toEqual(rows.map((_, i) => from + 1 + i));
  for (let i = 1; i < rows.length; i++)
    expect(compareEventIds(rows[i - 1].channelId, rows[i].channelId)).toBeLessThan(0);
};

describeWithChromium('sample-controls')('sample order board in headless Chromium', () => {
  const browser = useChromium(TIMEOUT);

  describe.each(platforms)('on %s', platform => {
    let app: INestApplication;
    let base: string;
    /** One browser: its pages share the cookie that keys the board streams. */
    let context: BrowserContext;
    let page: Page;
    let pageErrors: string[] = [];

    const text = (id: string, on = page) => on.locator(byTestId(id)).innerText();
    const logRow = (channel: string, channelId: string, on = page) =>
      on.locator(
        `${byTestId('board-event')}[data-channel="${channel}"][data-channel-id="${channelId}"]`,
      );
    const snapshotRows = (on = page) =>
      on.locator(`${byTestId('board-event')}[data-kind="snapshot"]`);
    const shot = (name: string, on = page) =>
      on
        .locator(byTestId('board-panel'))
        .screenshot({ path: `${screenshotsDir()}sample-board-${platform}-${name}.png` });

    const state = async (): Promise<BoardSnapshot> => {
      const body = (await (await fetch(`${base}/api/board/state`)).json()) as {
        data: BoardSnapshot;
      };
      return body.data;
    };
    /** A change made by someone else (plain HTTP, not the page); resolves to its event id. */
    const post = async (path: string, body: unknown = {}): Promise<string> => {
      const res = await fetch(`${base}/api/board/${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { data: { id: string } }).data.id;
    };
    /** Waits until the page shows the server's orders and has applied its last orders change. */
    const inSync = (on = page) =>
      waitFor(
        async () => {
          const server = await state();
          const shown = await pageOrders(on);
          const orders = Object.fromEntries(server.orders.map(o => [String(o.id), o.status]));
          const last = (await liveRows(on, ORDERS_CHANNEL)).at(-1)?.rev;
          return (
            JSON.stringify(shown) === JSON.stringify(orders) &&
            (last ?? server.rev.orders) === server.rev.orders
          );
        },
        "the page's board to match the server's",
        10000,
        50,
      );
    const expectNoGapNoDuplicate = async (on = page) => {
      expect(await text('board-gaps', on)).toBe('0');
      expect(await text('board-duplicates', on)).toBe('0');
    };

    let sample: SamplePage | undefined;

    beforeAll(async () => {
      sample = await openSamplePage(browser(), platform);
      ({ app, base, context, page, errors: pageErrors } = sample);
    }, TIMEOUT);

    afterAll(() => sample?.close(), TIMEOUT);

    it(
      'renders the snapshot first, then applies every live change once, in order',
      async () => {
        await boardState(page, 'live');
        await snapshotRows().waitFor();
        const snapshotRev = Number(await snapshotRows().getAttribute('data-rev-orders'));
        expect(snapshotRev).toBeGreaterThanOrEqual(4); // the orders published at bootstrap
        await inSync();

        // Changes from the page's own buttons (each a POST, answered enveloped).
        const before = (await state()).rev.orders;
        await page.click(byTestId('board-new-order'));
        await page.click(byTestId('board-new-order'));
        await page.click(byTestId('board-advance'));
        await waitFor(
          async () => (await state()).rev.orders >= before + 3,
          'the three changes to be published',
        );
        await inSync();

        expect(await snapshotRows().count()).toBe(1);
        expectOnceInOrder(await liveRows(page, ORDERS_CHANNEL), snapshotRev);
        await expectNoGapNoDuplicate();
        await shot('live');
      },
      TIMEOUT,
    );

    it(
      'reads orders and alerts on one connection: each event names its channel, its id is one c1 cursor',
      async () => {
        // One board stream on the server, subscribed to both channels.
        expect(subscriberCount(app, ORDERS_CHANNEL)).toBe(1);
        expect(subscriberCount(app, ALERTS_CHANNEL)).toBe(1);

        const alertId = await post('alerts', { text: 'Posted by the test' });
        const row = logRow(ALERTS_CHANNEL, alertId);
        await row.waitFor({ timeout: 5000 });
        expect(await row.count()).toBe(1);
        expect(await row.getAttribute('data-event')).toBe('alert');
        await page
          .locator(byTestId('board-alert-item'), { hasText: 'Posted by the test' })
          .waitFor({ timeout: 5000 });
        // The event's id, as the page's FlushClient got it (meta.id): a cursor
        // naming both channels, this alert's id for `alerts`.
        const cursor = (await row.getAttribute('data-cursor')) ?? '';
        expect(cursor).toMatch(/^c1\./);
        const positions = parseFlushCursor(cursor, BOARD_CHANNELS);
        expect(positions?.[ALERTS_CHANNEL]).toBe(alertId);
        expect(positions?.[ORDERS_CHANNEL]).toMatch(/^\d+-\d+$/);

        // And from the page's button, then an orders event on the same connection.
        await page.click(byTestId('board-alert'));
        await page
          .locator(byTestId('board-alert-item'), { hasText: 'Raised from this page' })
          .waitFor({ timeout: 5000 });
        const orderId = await post('orders');
        await logRow(ORDERS_CHANNEL, orderId).waitFor({ timeout: 5000 });
        const latest = await text('board-cursor');
        expect(latest).toMatch(/^c1\./);
        expect(parseFlushCursor(latest, BOARD_CHANNELS)?.[ORDERS_CHANNEL]).toBe(orderId);
        expect(await liveRows(page, ALERTS_CHANNEL)).toHaveLength(
          (await state()).rev.alerts - Number(await snapshotRows().getAttribute('data-rev-alerts')),
        );
        await expectNoGapNoDuplicate();
      },
      TIMEOUT,
    );

    it(
      'resumes both channels from the cursor after a dropped connection: what was missed once, no new snapshot',
      async () => {
        await boardState(page, 'live');
        const snapshotRev = Number(await snapshotRows().getAttribute('data-rev-orders'));
        await page.click(byTestId('board-drop'));
        expect(await page.locator(byTestId('board-status')).getAttribute('data-state')).toBe(
          'offline',
        );
        // The server has let go of the page's board stream: nothing reaches the page now.
        await subscribers(app, ORDERS_CHANNEL, 0);
        const cursor = await text('board-cursor');

        const missedOrder = await post('orders');
        const missedAlert = await post('alerts', { text: 'Posted while the board was away' });
        expect(await logRow(ORDERS_CHANNEL, missedOrder).count()).toBe(0);

        await page.click(byTestId('board-drop'));
        await logRow(ORDERS_CHANNEL, missedOrder).waitFor({ timeout: 5000 });
        await logRow(ALERTS_CHANNEL, missedAlert).waitFor({ timeout: 5000 });
        await boardState(page, 'live');
        const resumed = page.locator(`${byTestId('board-event')}[data-kind="resume"]`);
        expect(await resumed.count()).toBe(1);
        expect(await resumed.getAttribute('data-cursor')).toBe(cursor);

        // Live again; in order, so a duplicate of a replayed event would be shown by now.
        const after = await post('orders');
        await logRow(ORDERS_CHANNEL, after).waitFor({ timeout: 5000 });
        expect(await logRow(ORDERS_CHANNEL, missedOrder).count()).toBe(1);
        expect(await logRow(ALERTS_CHANNEL, missedAlert).count()).toBe(1);
        expect(await snapshotRows().count()).toBe(1);
        await inSync();
        expectOnceInOrder(await liveRows(page, ORDERS_CHANNEL), snapshotRev);
        await expectNoGapNoDuplicate();
        await shot('resumed');
      },
      TIMEOUT,
    );

    it('explains the 429 to a board tab over the cap, then connects it once another tab closes', async () => {
      // Board tabs with a connection of their own (`?share=off`): shared ones would follow the
      // board connection the full page already holds, and never reach the cap.
      const boardTab = async () => {
        const tab = await context.newPage();
        await tab.goto(`${base}/?only=board&share=off`, { waitUntil: 'load' });
        return tab;
      };
      // A browser opens at most 6 connections per server, all tabs together: the full page holds
      // 4 (ticker, chat, board, figures), so this tab shows the board alone (it holds 1).
      await page.goto(`${base}/?only=board`, { waitUntil: 'load' });
      await boardState(page, 'live');
      // This browser: the page plus two board tabs hold the 3 board streams it may have.
      const first = await boardTab();
      await boardState(first, 'live');
      const second = await boardTab();
      await boardState(second, 'live');
      expect(BOARD_STREAMS_PER_BROWSER).toBe(3);

      const extra = await boardTab();
      await boardState(extra, 'capped');
      expect(await extra.locator(byTestId('board-cap')).isVisible()).toBe(true);
      // FlushClient's state: 429, and the wait Retry-After: 5 asked for (plus up to a fifth).
      expect(await text('board-cap-status', extra)).toBe('429');
      expect(await text('board-cap-retry-after', extra)).toBe('5');
      expect(Number(await text('board-cap-seconds', extra))).toBeLessThanOrEqual(6);
      expect(await text('board-role', extra)).toBe('own');
      expect(await snapshotRows(extra).count()).toBe(0);
      await shot('capped', extra);

      // Another browser has its own cookie, so its own streams.
      const other = await browser().newPage();
      await other.goto(`${base}/?only=board&share=off`, { waitUntil: 'load' });
      await boardState(other, 'live');
      expect(await text('board-key', other)).not.toBe(await text('board-key'));
      await other.close();

      // A tab of this browser closes: after Retry-After the extra tab gets its stream.
      await first.close();
      await boardState(extra, 'live', 20000);
      expect(await extra.locator(byTestId('board-cap')).isVisible()).toBe(false);
      await snapshotRows(extra).waitFor({ timeout: 5000 });
      await inSync(extra);
      await second.close();
      await extra.close();
      expect(pageErrors).toEqual([]);
    }, 45000);
  });
});
