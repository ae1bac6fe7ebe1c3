// The demo page in a real browser: headless Chromium (the system's /usr/bin/chromium, never a
// downloaded one) drives sample/public/index.html against the sample's AppModule, so the page's own
// FlushClient and fetch() readers are what is tested, under the sample's global envelope and
// timeout interceptors.
import type { INestApplication } from '@nestjs/common';
import type { Page } from 'playwright-core';
import { CHAT_CHANNEL } from '../sample/chat/chat.controller.js';
import { compareEventIds, isEventId } from '../src/index.js';
import { byTestId, describeWithChromium, screenshotsDir, useChromium } from './utils/chromium.js';
import { subscribers } from './utils/hub.js';
import { platforms } from './utils/platforms.js';
import { openSamplePage, type SamplePage } from './utils/sample-page.js';
import { waitFor } from './utils/wait.js';

/** Per test and hook (the e2e project's `testTimeout` is not applied per project by Jest). */
const TIMEOUT = 30000;

/** Asserts that event ids have the hub's `<ms>-<seq>` shape and strictly increase. */
const expectIncreasing = (ids: string[]) => {
  for (const id of ids) expect(isEventId(id)).toBe(true);
  for (let i = 1; i < ids.length; i++) expect(compareEventIds(ids[i - 1], ids[i])).toBeLessThan(0);
};

describeWithChromium('sample-page')('sample page in headless Chromium', () => {
  const browser = useChromium(TIMEOUT);

  describe.each(platforms)('on %s', platform => {
    let app: INestApplication;
    let base: string;
    let page: Page;
    let pageErrors: string[] = [];

    const text = (id: string) => page.locator(byTestId(id)).innerText();
    const shot = (name: string) =>
      page.screenshot({
        path: `${screenshotsDir()}sample-page-${platform}-${name}.png`,
        fullPage: true,
      });

    let sample: SamplePage | undefined;

    beforeAll(async () => {
      sample = await openSamplePage(browser(), platform);
      ({ app, base, page, errors: pageErrors } = sample);
    }, TIMEOUT);

    afterAll(() => sample?.close(), TIMEOUT);

    it(
      'serves the page and its assets, and JSON routes stay enveloped',
      async () => {
        expect(await page.title()).toContain('nestjs-flush');
        const health = (await (await fetch(`${base}/api/health`)).json()) as {
          code: number;
          data: { adapter: string };
        };
        expect(health).toMatchObject({
          code: 0,
          message: '',
          data: { status: 'ok', adapter: platform },
        });
        await page.waitForFunction(
          () => document.getElementById('meta-adapter')?.textContent !== '…',
        );
        expect(await text('meta-adapter')).toBe(platform);
        expect(JSON.parse(await text('proof-json'))).toMatchObject({
          code: 0,
          message: '',
          data: { status: 'ok' },
        });
        const css = await fetch(`${base}/app.css`);
        expect(css.headers.get('content-type')).toMatch(/^text\/css/);
        expect((await fetch(`${base}/does-not-exist.js`)).status).toBe(404);
      },
      TIMEOUT,
    );

    it(
      'shows live ticker events through FlushClient, with ids, not enveloped',
      async () => {
        await page.waitForFunction(
          () => document.querySelectorAll('[data-testid="ticker-event"]').length >= 3,
          null,
          {
            timeout: 10000,
          },
        );
        expect(await page.locator(byTestId('ticker-status')).getAttribute('data-state')).toBe(
          'live',
        );
        // Newest first in the list; read with the last id at once (a tick comes every second).
        const { listed, lastId } = await page.evaluate(() => ({
          listed: Array.from(
            document.querySelectorAll('[data-testid="ticker-event"]'),
            el => el.getAttribute('data-event-id') ?? '',
          ),
          lastId: document.querySelector('[data-testid="ticker-last-id"]')?.textContent ?? '',
        }));
        const ids = listed.reverse();
        expectIncreasing(ids);
        expect(lastId).toBe(ids[ids.length - 1]);
        expect(await text('ticker-price-FLSH')).toMatch(/^\d[\d,]*\.\d\d$/);
        // The raw SSE frame, as the page received it: the envelope interceptor left it alone.
        const frame = await text('proof-sse');
        expect(frame).toMatch(/^id: \d+-\d+\ndata: \{"seq":\d+/);
        expect(frame).not.toContain('"code"');
        await shot('ticker');
      },
      TIMEOUT,
    );

    it(
      'resumes the chat after a dropped connection: the missed message arrives once, replayed',
      async () => {
        await page.waitForFunction(
          () =>
            document.querySelector('[data-testid="chat-status"]')?.getAttribute('data-state') ===
            'live',
        );
        const send = async (message: string) => {
          await page.fill(byTestId('chat-text'), message);
          await page.click(byTestId('chat-send'));
          await page
            .locator(byTestId('chat-message-text'), { hasText: message })
            .waitFor({ timeout: 5000 });
        };
        await send('Hello from the browser');
        await send('Second message, still live');
        expect(
          await page.locator(`${byTestId('chat-message')}[data-replayed="true"]`).count(),
        ).toBe(0);
        expect(await text('chat-post-response')).toMatch(
          /^\{"code":0,"message":"","data":\{"id":"\d+-\d+"\}\}$/,
        );

        await page.click(byTestId('chat-drop'));
        expect(await page.locator(byTestId('chat-status')).getAttribute('data-state')).toBe(
          'offline',
        );
        expect(await page.locator(byTestId('chat-drop')).getAttribute('data-action')).toBe(
          'resume',
        );

        // The server has let go of the page's chat stream: nothing can reach the page now.
        await subscribers(app, CHAT_CHANNEL, 0);
        // Someone else posts while this page is offline (plain HTTP, not the page).
        const res = await fetch(`${base}/api/chat`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ user: 'Grace', text: 'Posted while you were away' }),
        });
        expect(res.status).toBe(201);
        const posted = (await res.json()) as { code: number; data: { id: string } };
        expect(posted.code).toBe(0);
        const missedId = posted.data.id;
        expect(
          await page.locator(`${byTestId('chat-message')}[data-id="${missedId}"]`).count(),
        ).toBe(0);
        await shot('chat-offline');

        await page.click(byTestId('chat-drop'));
        const missed = page.locator(`${byTestId('chat-message')}[data-id="${missedId}"]`);
        await missed.waitFor({ timeout: 5000 });
        await page.waitForFunction(
          () =>
            document.querySelector('[data-testid="chat-status"]')?.getAttribute('data-state') ===
            'live',
        );
        // And live again after the resume. Events arrive in order: once this live one is shown,
        // a duplicate of the replayed one would be shown too.
        await send('Back online');
        expect(await missed.count()).toBe(1);
        expect(await missed.getAttribute('data-replayed')).toBe('true');
        expect(await missed.locator(byTestId('chat-message-text')).innerText()).toBe(
          'Posted while you were away',
        );
        const messages = await page.$$eval('[data-testid="chat-message"]', els =>
          els.map(el => ({
            id: el.getAttribute('data-id') ?? '',
            replayed: el.getAttribute('data-replayed'),
          })),
        );
        expect(messages).toHaveLength(4);
        expectIncreasing(messages.map(m => m.id));
        expect(messages.map(m => m.replayed)).toEqual(['false', 'false', 'true', 'false']);
        expect(messages[2].id).toBe(missedId);
        expect(await text('chat-last-id')).toBe(messages[3].id);
        await shot('chat-resumed');
      },
      TIMEOUT,
    );

    it(
      'renders the LLM answer as it streams, then finishes',
      async () => {
        await page.click(byTestId('llm-ask'));
        const lengths: number[] = [];
        let state = '';
        // Sampled every 50 ms while it streams, to see it grow.
        await waitFor(
          async () => {
            const snapshot = await page.evaluate(() => ({
              length: document.getElementById('llm-text')?.textContent?.length ?? 0,
              state:
                document.querySelector('[data-testid="llm-status"]')?.getAttribute('data-state') ??
                '',
            }));
            lengths.push(snapshot.length);
            state = snapshot.state;
            if (lengths.length === 40 && state === 'streaming') await shot('llm-streaming');
            return state !== 'streaming';
          },
          'the LLM answer to finish',
          25_000,
          50,
        );
        expect(state).toBe('done');
        const final = (await text('llm-text')).length;
        expect(final).toBeGreaterThan(200);
        const intermediate = new Set(lengths.filter(n => n > 0 && n < final));
        expect(intermediate.size).toBeGreaterThanOrEqual(2);
        // Seen growing, never shrinking.
        for (let i = 1; i < lengths.length; i++)
          expect(lengths[i]).toBeGreaterThanOrEqual(lengths[i - 1]);
        expect(Number((await text('llm-tokens')).replace(/,/g, ''))).toBeGreaterThan(10);
      },
      TIMEOUT,
    );

    it(
      'exports 2,000 NDJSON rows with a progress bar reaching 100%',
      async () => {
        expect(await page.locator(byTestId('export-rows')).inputValue()).toBe('2000');
        await page.click(byTestId('export-start'));
        const seen = new Set<number>();
        // Sampled every 25 ms while it runs, to see the bar move.
        await waitFor(
          async () => {
            const now = Number(
              await page.locator(byTestId('export-progress')).getAttribute('aria-valuenow'),
            );
            seen.add(now);
            return (
              now === 100 &&
              (await page.locator(byTestId('export-status')).getAttribute('data-state')) !==
                'streaming'
            );
          },
          'the export to reach 100%',
          20_000,
          25,
        );
        expect(await text('export-percent')).toBe('100%');
        expect(await page.locator(byTestId('export-progress')).getAttribute('aria-valuenow')).toBe(
          '100',
        );
        expect(await text('export-count')).toBe('2,000');
        expect(await page.locator(byTestId('export-status')).getAttribute('data-state')).toBe(
          'done',
        );
        // The bar moved through intermediate values: rows arrived while the export ran.
        expect([...seen].some(v => v > 0 && v < 100)).toBe(true);
        expect(await page.locator(`${byTestId('export-preview')} tr`).count()).toBe(5);
      },
      TIMEOUT,
    );

    it(
      'shows live hub figures from /api/stats',
      async () => {
        await page.waitForFunction(
          () =>
            Number(document.querySelector('[data-testid="stats-open-streams"]')?.textContent) >= 3,
          null,
          { timeout: 5000 },
        );
        const published = Number((await text('stats-published')).replace(/,/g, ''));
        const delivered = Number((await text('stats-delivered')).replace(/,/g, ''));
        expect(published).toBeGreaterThan(3);
        expect(delivered).toBeGreaterThan(3);
        expect(Number(await text('stats-eps'))).toBeGreaterThan(0);
        expect(
          await page.locator(`${byTestId('stats-channels')} [data-channel="ticker"]`).count(),
        ).toBe(1);
        await page.evaluate(() => window.scrollTo(0, 0));
        await shot('full');
        expect(pageErrors).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      'stops the LLM answer with Stop: the run is cancelled, the stream closes',
      async () => {
        await page.fill(byTestId('llm-prompt'), 'How does resume with Last-Event-ID work?');
        await page.click(byTestId('llm-ask'));
        await page.waitForFunction(
          () => (document.getElementById('llm-text')?.textContent?.length ?? 0) > 20,
        );
        await page.click(byTestId('llm-stop'));
        await page.waitForFunction(
          () =>
            document.querySelector('[data-testid="llm-status"]')?.getAttribute('data-state') ===
            'stopped',
        );
        const stoppedAt = (await text('llm-text')).length;
        // The server saw the client leave: only the ticker, chat, board and figures streams remain open.
        const openStreams = async () => {
          const stats = (await (await fetch(`${base}/api/stats`)).json()) as {
            data: { openStreams: number };
          };
          return stats.data.openStreams;
        };
        await waitFor(
          async () => (await openStreams()) === 4,
          'the LLM stream to close (ticker, chat, board and figures remain)',
          3000,
          100,
        );
        // Its stream is gone on the server: the text can no longer grow.
        expect((await text('llm-text')).length).toBe(stoppedAt);
        expect(pageErrors).toEqual([]);
      },
      TIMEOUT,
    );
  });
});
