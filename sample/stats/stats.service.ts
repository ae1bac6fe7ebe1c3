import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { FlushMetrics, type FlushMetricsSnapshot } from 'nestjs-flush';

/** What `GET /api/stats` answers (inside the envelope). */
export interface SampleStats extends FlushMetricsSnapshot {
  /** Hub events delivered to clients per second, over the last few seconds. */
  eventsPerSecond: number;
  /** Hub events published per second, over the last few seconds. */
  publishedPerSecond: number;
  uptimeSeconds: number;
  /** Server time, ms since the epoch. */
  now: number;
}

interface Sample {
  at: number;
  published: number;
  delivered: number;
}

/** Width of the window the rates are measured over. */
export const RATE_WINDOW_MS = 5000;
const SAMPLE_EVERY_MS = 500;

/** FlushMetrics plus rates, measured by sampling the counters twice a second. */
@Injectable()
export class StatsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly startedAt = Date.now();
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly metrics: FlushMetrics) {}

  onApplicationBootstrap(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  snapshot(): SampleStats {
    const now = Date.now();
    const current = this.metrics.snapshot();
    const oldest = this.samples[0];
    const seconds = oldest ? (now - oldest.at) / 1000 : 0;
    const rate = (value: number, then: number | undefined) =>
      seconds > 0.2 && then !== undefined ? Math.round(((value - then) / seconds) * 10) / 10 : 0;
    return {
      ...current,
      eventsPerSecond: rate(current.delivered, oldest?.delivered),
      publishedPerSecond: rate(current.published, oldest?.published),
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
      now,
    };
  }

  private sample(): void {
    const now = Date.now();
    this.samples.push({
      at: now,
      published: this.metrics.published,
      delivered: this.metrics.delivered,
    });
    while (this.samples.length > 1 && now - this.samples[0].at > RATE_WINDOW_MS)
      this.samples.shift();
  }
}
