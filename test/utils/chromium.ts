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

/** The selector of an element by its `data-testid`. */
export const byTestId = (id: string): string => `[data-testid="${id}"]`;
