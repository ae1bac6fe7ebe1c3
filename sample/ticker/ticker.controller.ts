import { Controller, Sse, type MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { FlushHub, LastEventId } from 'nestjs-flush';
import { ApiFlush } from 'nestjs-flush/swagger';
import { RESYNC_SCHEMA, TICK_SCHEMA } from '../docs/stream-schemas.js';
import { TICKER_CHANNEL } from './ticker.service.js';

@Controller('api/ticker')
export class TickerController {
  constructor(private readonly hub: FlushHub) {}

  /**
   * Live prices, one event a second, each with an id: an EventSource that reconnects sends
   * `Last-Event-ID` and gets the ticks it missed first. The global envelope interceptor does not
   * touch these events.
   */
  @Sse()
  @ApiFlush({ events: { message: TICK_SCHEMA, resync: RESYNC_SCHEMA } })
  stream(@LastEventId() lastEventId?: string): Observable<MessageEvent> {
    return this.hub.stream(TICKER_CHANNEL, { lastEventId });
  }
}
