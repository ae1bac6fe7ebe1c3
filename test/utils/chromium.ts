// Headless Chromium for the page tests: the system's /usr/bin/chromium (Debian's package), never
// a downloaded browser. Suites skip, with a hint, where it is not installed.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** `describe` where Chromium is installed, else `describe.skip` with a warning naming the suite. */
export const describeWithChromium = (suite: string): typeof describe => {
  if (hasChromium) return describe;
  console.warn(
    `${suite} e2e skipped: ${CHROMIUM} not found. Install it with \`apt-get install -y chromium\`, then run \`npm test\`.`,
  );
  return describe.skip;
};

/** Where the page tests put their screenshots (created on first use). */
export const screenshotsDir = (): string => {
  const dir = fileURLToPath(new URL('../../.artifacts/screenshots/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir;
};

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

/**
 * Registers the hooks of a page suite: Chromium launched before it and closed after, and the
 * sample on the in-memory transport, whatever REDIS_URL says (the page tests are about the page).
 * Returns the browser, for use inside tests and nested hooks.
 */
export const useChromium = (timeout: number): (() => Browser) => {
  let browser: Browser | undefined;
  const redisUrl = process.env.REDIS_URL;
  beforeAll(async () => {
    delete process.env.REDIS_URL;
    browser = await launchChromium();
  }, timeout);
  afterAll(async () => {
    await browser?.close();
    if (redisUrl !== undefined) process.env.REDIS_URL = redisUrl;
  }, timeout);
  return () => {
    if (!browser)
      throw new Error('Chromium is not launched yet (use the browser in tests or hooks)');
    return browser;
  };
};

/** The selector of an element by its `data-testid`. */
export const byTestId = (id: string): string => `[data-testid="${id}"]`;
