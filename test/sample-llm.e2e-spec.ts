// The sample's LLM panel in headless Chromium: the answer is a run (hub.run) the page follows with
// a FlushClient on hub.attach(). Dropping the connection mid-answer resumes after the last token's
// id; reloading the page re-attaches and renders the whole run from scratch. Either way the page
// ends with exactly the answer: the sample's generator is deterministic in its tokens (only their
// pace is random), and the test also reads the whole run back from the server.
import type { Page } from 'playwright-core';
import { parseSseStream } from '../src/testing/index.js';
import { answerFor, tokenize } from '../sample/llm/llm.service.js';
import { byTestId, describeWithChromium, screenshotsDir, useChromium } from './utils/chromium.js';
import { platforms } from './utils/platforms.js';
import { openSamplePage, type SamplePage } from './utils/sample-page.js';

/** Per test and hook (the e2e project's `testTimeout` is not applied per project by Jest). */
const TIMEOUT = 30000;
const STORAGE_KEY = 'flush-demo-llm-run';
const PROMPT = 'How does resume with Last-Event-ID work?';

describeWithChromium('sample-llm')('sample LLM panel: a resumable run in headless Chromium', () => {
  const browser = useChromium(TIMEOUT);

  describe.each(platforms)('on %s', platform => {
    let sample: SamplePage | undefined;
    let page: Page;
    let base: string;

    beforeAll(async () => {
      sample = await openSamplePage(browser(), platform);
      ({ page, base } = sample);
    }, TIMEOUT);
    afterAll(() => sample?.close(), TIMEOUT);

    const expected = answerFor(PROMPT);
    const text = (id: string) => page.locator(byTestId(id)).innerText();
    const llmState = () => page.locator(byTestId('llm-status')).getAttribute('data-state');
    const shot = (name: string) =>
      page.screenshot({ path: `${screenshotsDir()}sample-llm-${platform}-${name}.png` });
    /** The run key the page keeps in sessionStorage while the answer runs. */
    const storedRun = () =>
      page.evaluate(
        key => JSON.parse(sessionStorage.getItem(key) ?? 'null') as { key: string } | null,
        STORAGE_KEY,
      );
    const answerText = () =>
      page.evaluate(() => document.getElementById('llm-text')?.textContent ?? '');

    /** Asks PROMPT and waits for the first tokens on the page; answers the run's key. */
    const askAndWaitForTokens = async (): Promise<string> => {
      await page.fill(byTestId('llm-prompt'), PROMPT);
      await page.click(byTestId('llm-ask'));
      await page.waitForFunction(
        () => (document.getElementById('llm-text')?.textContent?.length ?? 0) > 40,
        null,
        { timeout: 10000 },
      );
      const run = await storedRun();
      expect(run?.key).toMatch(/^[0-9a-f-]{32,36}$/);
      return run!.key;
    };
    const waitForState = (state: string) =>
      page.waitForFunction(
        s => document.querySelector('[data-testid="llm-status"]')?.getAttribute('data-state') === s,
        state,
        { timeout: 20000 },
      );
    /** The whole run as the server keeps it, read back with a fresh attach. */
    const wholeRun = async (key: string) => {
      const res = await fetch(`${base}/api/llm/runs/${key}`);
      expect(res.status).toBe(200);
      const { events } = parseSseStream(await res.text());
      const end = events.at(-1);
      expect(end?.event).toBe('end');
      return {
        tokens: events.filter(e => e.event !== 'end').map(e => e.data),
        end: JSON.parse(end?.data ?? '{}') as { status: string },
      };
    };
    const expectWholeAnswerOnPage = async (key: string) => {
      expect(await answerText()).toBe(expected);
      // One chunk per token: none repeated, none lost.
      expect(Number((await text('llm-tokens')).replace(/,/g, ''))).toBe(tokenize(expected).length);
      const run = await wholeRun(key);
      expect(run.end).toEqual({ status: 'completed' });
      expect(run.tokens.join('')).toBe(expected);
      // The answer ended: the page let go of its key.
      expect(await storedRun()).toBeNull();
    };

    it(
      'resumes after "Drop connection" mid-answer: the same text, no token lost or repeated',
      async () => {
        const key = await askAndWaitForTokens();
        expect(await llmState()).toBe('streaming');
        await page.click(byTestId('llm-drop'));
        expect(await llmState()).toBe('offline');
        const atDrop = await answerText();
        expect(atDrop.length).toBeLessThan(expected.length);
        expect(expected.startsWith(atDrop)).toBe(true);
        await shot('offline');
        // The page resumes by itself after its offline moment, with ?lastEventId=.
        await waitForState('done');
        expect(await text('llm-resumes')).toBe('1');
        await expectWholeAnswerOnPage(key);
        expect(sample?.errors).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      'renders the whole answer again after a reload mid-answer, then follows it to its end',
      async () => {
        const key = await askAndWaitForTokens();
        const beforeReload = await answerText();
        expect(beforeReload.length).toBeLessThan(expected.length);
        await page.reload({ waitUntil: 'load' });
        // The reloaded page found the key in sessionStorage and re-attached to the same run.
        await page.waitForFunction(
          k => document.getElementById('llm-key')?.textContent === k,
          key.slice(0, 8),
          { timeout: 5000 },
        );
        expect(await page.locator(byTestId('llm-prompt')).inputValue()).toBe(PROMPT);
        await waitForState('done');
        await expectWholeAnswerOnPage(key);
        await shot('reloaded');
        // Reloaded again after the end: nothing to re-attach, the panel is idle.
        await page.reload({ waitUntil: 'load' });
        expect(await llmState()).toBe('idle');
        expect(await answerText()).toBe('');
        expect(sample?.errors).toEqual([]);
      },
      TIMEOUT,
    );

    it(
      'stops a dropped answer with Stop: the run ends "cancelled"',
      async () => {
        const key = await askAndWaitForTokens();
        await page.click(byTestId('llm-drop'));
        await page.click(byTestId('llm-stop'));
        await waitForState('stopped');
        const stoppedAt = await answerText();
        expect(stoppedAt.length).toBeLessThan(expected.length);
        const run = await wholeRun(key);
        expect(run.end).toEqual({ status: 'cancelled' });
        // The page shows every token the run produced before it was cancelled, once.
        expect(stoppedAt).toBe(run.tokens.join(''));
        expect(await storedRun()).toBeNull();
        expect(sample?.errors).toEqual([]);
      },
      TIMEOUT,
    );
  });
});
