// README "Hub channels" examples: targeted events, several channels on one stream with one resume
// cursor, and snapshot-then-live (the type-check is the test; test/hub-channels.e2e-spec.ts runs
// the same calls on both adapters, in memory and on Redis).
import { Body, Controller, Post, Query, Req, Sse, type MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { FlushHub, LastEventId, parseFlushCursor } from 'nestjs-flush';

interface Order {
  id: string;
  status: string;
}
declare const orders: { forUser(user: string): Promise<Order[]> };

@Controller()
export class DashboardController {
  constructor(private readonly hub: FlushHub) {}

  // Only the streams whose key is `userId` get it (any instance, and their resume).
  @Post('notify')
  notify(@Body() body: { userId: string; text: string }): Promise<string> {
    return this.hub.publish('notifications', { text: body.text }, { to: body.userId });
  }

  // One response, several channels (each authorized); every event's id is one cursor.
  @Sse('live')
  live(
    @Req() req: unknown,
    @Query('channels') channels: string, // e.g. news,orders/42
    @LastEventId() lastEventId?: string,
  ): Promise<Observable<MessageEvent>> {
    return this.hub.streamFor(req, channels.split(','), { lastEventId });
  }

  // First `event: snapshot` (the orders as loaded), then every change after it, exactly once.
  @Sse('orders')
  orders(
    @Req() req: { user: string },
    @LastEventId() lastEventId?: string,
  ): Promise<Observable<MessageEvent>> {
    return this.hub.streamFor(req, `orders/${req.user}`, {
      lastEventId,
      snapshot: () => orders.forUser(req.user),
    });
  }
}

// Tooling: where a cursor stands in each channel (undefined: written for other channels).
export const positions = (cursor: string) => parseFlushCursor(cursor, ['news', 'orders/42']);
