import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AppModule } from '../../sample/app.module.js';
import { setupDocs } from '../../sample/docs/docs.setup.js';
import { baseUrl } from '../../src/testing/index.js';
import { startApp, type PlatformName } from './platforms.js';

/** The sample app on a real port and its page, open in a fresh browser context (its own cookies). */
export interface SamplePage {
  app: INestApplication;
  base: string;
  /** One browser for the sample: its pages share the cookie that keys their streams. */
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors of `page`. */
  errors: string[];
  close(): Promise<void>;
}

/** Starts the sample's AppModule (with /docs, as main.ts) on `platform` and loads its page (`/`) in a new context. */
export const openSamplePage = async (
  browser: Browser,
  platform: PlatformName,
): Promise<SamplePage> => {
  const app = await startApp(platform, [AppModule], setupDocs);
  const base = baseUrl(app);
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', err => errors.push(err.message));
  page.on('console', msg => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto(`${base}/`, { waitUntil: 'load' });
  return {
    app,
    base,
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      await app.close();
    },
  };
};
