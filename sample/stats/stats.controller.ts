import { Controller, Get, Header, Sse, type MessageEvent } from '@nestjs/common';
import { interval, map, startWith, type Observable } from 'rxjs';
import { ApiFlush } from 'nestjs-flush/swagger';
import { StatsService, type SampleStats } from './stats.service.js';

/** How often the stats stream sends the figures. */
export const STATS_EVERY_MS = 1000;

@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  /** Live hub figures (a JSON route, so enveloped): open streams, events published and delivered, rates. */
  @Get()
  @Header('Cache-Control', 'no-store')
  get(): SampleStats {
    return this.stats.snapshot();
  }

  /**
   * The same figures as Server-Sent Events, once a second (what the page's figures panel reads
   * through FlushClient, one connection for all tabs). Each event has an empty id on purpose: the
   * figures are not resumable, and an event without one would get a number from Nest (`id: 1`)
   * that starts again at 1 on every connection, which a client that drops repeats would drop.
   */
  @Sse('stream')
  @ApiFlush({
    events: { stats: { type: 'object', description: 'FlushMetrics.snapshot() plus rates' } },
  })
  stream(): Observable<MessageEvent> {
    return interval(STATS_EVERY_MS).pipe(
      startWith(0),
      map(() => ({ type: 'stats', id: '', data: this.stats.snapshot() })),
    );
  }
}
