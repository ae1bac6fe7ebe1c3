import type { INestApplication } from '@nestjs/common';
import { FlushMetrics } from '../../src/index.js';
import { waitFor } from './wait.js';

/** Local subscribers of `channel` on `app` right now (0 when the channel has none). */
export const subscriberCount = (app: INestApplication, channel: string): number =>
  app.get(FlushMetrics).snapshot().channels[channel] ?? 0;

/**
 * Waits until `channel` has exactly `count` local subscribers on `app` (FlushMetrics), so that a
 * test publishes only once its clients are really listening.
 */
export const subscribers = (
  app: INestApplication,
  channel: string,
  count: number,
  deadlineMs = 5000,
): Promise<void> =>
  waitFor(
    () => subscriberCount(app, channel) === count,
    `${count} subscriber(s) on channel ${channel} (now ${subscriberCount(app, channel)})`,
    deadlineMs,
  );
