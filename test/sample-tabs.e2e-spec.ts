// The sample page in several tabs of one browser (headless Chromium, one browser context): every
// stream panel reads through FlushClient (nestjs-flush/client, served as /client/index.js), which
// shares one connection per stream URL between the tabs. The server counts the connections
// (FlushMetrics and the Prometheus gauge); closing the leading tab hands every connection over to
// another tab, which resumes from its last event id: no event lost, none repeated.
import { expect } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { Page } from 'playwright-core';
import { FlushMetrics, compareEventIds } from '../src/index.js';
import { byTestId, describeWithChromium, screenshotsDir, useChromium } from './utils/chromium.js';
import { platforms } from './utils/platforms.js';
import { parsePrometheusText, sampleValue } from './utils/prometheus-text.js';
import { openSamplePage, type SamplePage } from './utils/sample-page.js';
import { delay, waitFor } from './utils/wait.js';

/** Per test and hook (the e2e project's `testTimeout` is not applied per project by Jest). */
const TIMEOUT = 45000;
/** The tabs of the browser. */
const TABS = 3;
/** The stream panels of the full page, each on its own stream URL. */
const PANELS = ['ticker', 'chat', 'board', 'stats'] as const;
/** Messages posted while the leading tab closes. */
const HANDOVER_MESSAGES = 30;

type Role = 'leads' | 'follows' | 'own' | null;

describeWithChromium('sample-tabs')(
  'sample page in several tabs: FlushClient shares one connection per URL',
  () => {
    const browser = useChromium(TIMEOUT);

    describe.each(platforms)('on %s', platform => {
      let sample: SamplePage | undefined;
      let app: INestApplication;
      let base: string;
      let tabs: Page[] = [];
      const errors: string[] = [];

      beforeAll(async () => {
        sample = await openSamplePage(browser(), platform);
        ({ app, base } = sample);
        tabs = [sample.page];
        errors.push(...sample.errors);
        sample.page.on('pageerror', err => errors.push(err.message));
        for (let i = 1; i < TABS; i++) {
          const tab = await sample.context.newPage();
          tab.on('pageerror', err => errors.push(err.message));
          tab.on('console', msg => {
            if (msg.type() === 'error') errors.push(msg.text());
          });
          await tab.goto(`${base}/`, { waitUntil: 'load' });
          tabs.push(tab);
        }
      }, TIMEOUT);
      afterAll(() => sample?.close(), TIMEOUT);

      const text = (tab: Page, id: string) => tab.locator(byTestId(id)).innerText();
      const count = async (tab: Page, id: string) =>
        Number((await text(tab, id)).replace(/,/g, ''));
      const roles = (tab: Page): Promise<Record<string, Role>> =>
        tab.evaluate(
          panels =>
            Object.fromEntries(
              panels.map(p => [
                p,
                document
                  .querySelector(`[data-testid="${p}-role"]`)
                  ?.getAttribute('data-role') as Role,
              ]),
            ),
          [...PANELS],
        );
      /** Waits until each panel's connection is held by exactly one of `open` tabs, followed by the others. */
      const oneLeaderPerPanel = (open: Page[]) =>
        waitFor(
          async () => {
            const all = await Promise.all(open.map(roles));
            return PANELS.every(
              p =>
                all.filter(r => r[p] === 'leads').length === 1 &&
                all.filter(r => r[p] === 'follows').length === open.length - 1,
            );
          },
          'one leading tab per panel, the others following',
          15000,
          50,
        );
      /** The server's view: open streams and local subscribers per channel. */
      const serverStreams = () => {
        const { openStreams, channels } = app.get(FlushMetrics).snapshot();
        return { openStreams, channels };
      };
      const oneConnectionPerUrl = {
        openStreams: PANELS.length,
        channels: { ticker: 1, chat: 1, orders: 1, alerts: 1 },
      };
      const isOneConnectionPerUrl = (now: ReturnType<typeof serverStreams>) =>
        now.openStreams === oneConnectionPerUrl.openStreams &&
        Object.keys(now.channels).length === Object.keys(oneConnectionPerUrl.channels).length &&
        Object.entries(oneConnectionPerUrl.channels).every(([c, n]) => now.channels[c] === n);
      const postChat = async (text: string): Promise<string> => {
        const res = await fetch(`${base}/api/chat`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ user: 'Radia', text }),
        });
        expect(res.status).toBe(201);
        return ((await res.json()) as { data: { id: string } }).data.id;
      };
      /** The chat messages `tab` shows whose text starts with `prefix`, in order. */
      const chatMessages = (tab: Page, prefix: string) =>
        tab.$$eval(
          '[data-testid="chat-message"]',
          (els, p) =>
            els
              .map(el => ({
                id: el.getAttribute('data-id') ?? '',
                text: el.querySelector('[data-testid="chat-message-text"]')?.textContent ?? '',
              }))
              .filter(m => m.text.startsWith(p)),
          prefix,
        );

      it(
        `${TABS} tabs: every panel of every tab gets its events, over 1 server connection per stream URL`,
        async () => {
          await oneLeaderPerPanel(tabs);
          await waitFor(
            () => isOneConnectionPerUrl(serverStreams()),
            `1 server stream per URL (now ${JSON.stringify(serverStreams())})`,
            10000,
            50,
          );
          // The Prometheus gauge says the same.
          const metrics = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
          expect(sampleValue(metrics.samples, 'nestjs_flush_streams_open', { format: 'sse' })).toBe(
            PANELS.length,
          );

          // Every panel of every tab receives: ticks, the figures (which count 4 streams), the
          // board's snapshot, then a chat message and a board alert posted by someone else.
          const chatId = await postChat('One message for every tab');
          const alert = await fetch(`${base}/api/board/alerts`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ text: 'One alert for every tab' }),
          });
          expect(alert.status).toBe(201);
          for (const tab of tabs) {
            await tab.waitForFunction(
              () => document.querySelectorAll('[data-testid="ticker-event"]').length >= 2,
              null,
              { timeout: 10000 },
            );
            await tab.waitForFunction(
              n => document.querySelector('[data-testid="stats-open-streams"]')?.textContent === n,
              String(PANELS.length),
              { timeout: 10000 },
            );
            await tab
              .locator(`${byTestId('board-event')}[data-kind="snapshot"]`)
              .first()
              .waitFor();
            await tab
              .locator(`${byTestId('chat-message')}[data-id="${chatId}"]`)
              .waitFor({ timeout: 5000 });
            await tab
              .locator(byTestId('board-alert-item'), { hasText: 'One alert for every tab' })
              .waitFor({ timeout: 5000 });
            for (const panel of PANELS)
              expect(
                await tab.locator(byTestId(`${panel}-status`)).getAttribute('data-state'),
              ).toBe('live');
            expect(await text(tab, 'board-gaps')).toBe('0');
            expect(await text(tab, 'board-duplicates')).toBe('0');
            // The page links the operations routes.
            for (const [id, href] of [
              ['link-metrics', '/metrics'],
              ['link-health', '/health'],
              ['link-docs', '/docs'],
            ])
              expect(await tab.locator(byTestId(id)).getAttribute('href')).toBe(href);
          }
          // The header tells which connections this tab leads: 4 in all.
          const led = await Promise.all(
            tabs.map(tab => tab.locator(byTestId('tab-role')).getAttribute('data-leads')),
          );
          expect(led.reduce((sum, n) => sum + Number(n), 0)).toBe(PANELS.length);
          await tabs[1].screenshot({
            path: `${screenshotsDir()}sample-tabs-${platform}-follower.png`,
            fullPage: true,
          });
          // Still one stream per URL after all that.
          expect(serverStreams()).toEqual(oneConnectionPerUrl);
        },
        TIMEOUT,
      );

      it(
        'closing the leading tab hands its connections over: no chat message lost or repeated',
        async () => {
          await oneLeaderPerPanel(tabs);
          const chatRoles = await Promise.all(tabs.map(roles));
          const leader = tabs[chatRoles.findIndex(r => r.chat === 'leads')];
          const others = tabs.filter(tab => tab !== leader);
          const ticks = await count(others[0], 'ticker-count');

          // Someone posts a message every 50 ms; the leading tab closes after the 10th.
          const posted: string[] = [];
          let closing: Promise<void> | undefined;
          for (let i = 0; i < HANDOVER_MESSAGES; i++) {
            posted.push(await postChat(`handover ${i}`));
            if (i === 9) closing = leader.close();
            await delay(50); // pacing of the publisher, not synchronisation
          }
          await closing;
          tabs = others;

          for (const tab of others) {
            await waitFor(
              async () => (await chatMessages(tab, 'handover ')).length >= HANDOVER_MESSAGES,
              `all ${HANDOVER_MESSAGES} messages in a remaining tab`,
              15000,
              50,
            );
            // Once, in order: the ids the server gave, no more, no less.
            const shown = await chatMessages(tab, 'handover ');
            expect(shown.map(m => m.id)).toEqual(posted);
            expect(shown.map(m => m.text)).toEqual(posted.map((_, i) => `handover ${i}`));
            for (let i = 1; i < shown.length; i++)
              expect(compareEventIds(shown[i - 1].id, shown[i].id)).toBeLessThan(0);
          }

          // Another tab took over every connection: still 1 stream per URL on the server.
          await oneLeaderPerPanel(others);
          await waitFor(
            () => isOneConnectionPerUrl(serverStreams()),
            `1 server stream per URL after the hand-over (now ${JSON.stringify(serverStreams())})`,
            10000,
            50,
          );
          // And the other panels go on: new ticks in both remaining tabs, the board intact.
          for (const tab of others) {
            await waitFor(
              async () => (await count(tab, 'ticker-count')) >= ticks + 2,
              'ticks after the hand-over',
              10000,
              100,
            );
            expect(await text(tab, 'board-gaps')).toBe('0');
            expect(await text(tab, 'board-duplicates')).toBe('0');
          }
          expect(errors).toEqual([]);
        },
        TIMEOUT,
      );
    });
  },
);
