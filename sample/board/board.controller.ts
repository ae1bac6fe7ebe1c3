import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Post,
  ServiceUnavailableException,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { FlushHub, FlushLimits, LastEventId } from 'nestjs-flush';
import { ApiFlush } from 'nestjs-flush/swagger';
import { BOARD_EVENTS } from '../docs/stream-schemas.js';
import { BOARD_CHANNELS, BoardService, type BoardSnapshot } from './board.service.js';

/** Live board streams one browser may hold at once (all its tabs together). */
export const BOARD_STREAMS_PER_BROWSER = 3;

@Controller('api/board')
export class BoardController {
  constructor(
    private readonly hub: FlushHub,
    private readonly board: BoardService,
  ) {}

  /**
   * The order board: the `orders` and `alerts` channels on one connection. First
   * `event: snapshot` (the board as loaded), then every change after it, once, in order; each
   * event's id is the composite cursor (`c1.…`) that resumes both channels, as the browser's
   * Last-Event-ID or as `?lastEventId=`. A cursor the history still covers resumes without a
   * snapshot. A browser (its cookie, see `browserStreamKey`) gets at most 3 of these streams;
   * the 4th is answered 429 with `Retry-After: 5` before any byte.
   */
  @Sse()
  @ApiFlush({ events: BOARD_EVENTS })
  @FlushLimits({ maxStreamsPerKey: BOARD_STREAMS_PER_BROWSER })
  stream(@LastEventId() lastEventId?: string): Observable<MessageEvent> {
    return this.hub.stream(BOARD_CHANNELS, {
      lastEventId,
      snapshot: () => Promise.resolve(this.board.snapshot()),
    });
  }

  /** The board as JSON (enveloped): what the stream's snapshot would carry now. */
  @Get('state')
  @Header('Cache-Control', 'no-store')
  state(): BoardSnapshot {
    return this.board.snapshot();
  }

  /** A new order, published on `orders`; answers its event id (enveloped). */
  @Post('orders')
  @HttpCode(201)
  createOrder(): Promise<{ id: string }> {
    return published(this.board.createOrder());
  }

  /** Moves the oldest open order one status on; answers the event id. */
  @Post('orders/advance')
  @HttpCode(201)
  advanceOrder(): Promise<{ id: string }> {
    return published(this.board.advanceOrder());
  }

  /** `{ text }`: an alert on `alerts`; answers its event id. */
  @Post('alerts')
  @HttpCode(201)
  raiseAlert(@Body() body: unknown): Promise<{ id: string }> {
    const text = (body as { text?: unknown } | undefined)?.text;
    if (typeof text !== 'string' || text.trim() === '' || text.length > 200)
      throw new BadRequestException('"text" must be a non-empty string of at most 200 characters');
    return published(this.board.raiseAlert(text.trim()));
  }
}

/** The event id of a board change, or 503 when the hub could not take it. */
const published = async (id: Promise<string | undefined>): Promise<{ id: string }> => {
  const published = await id;
  if (published === undefined)
    throw new ServiceUnavailableException('The change could not be published; try again.');
  return { id: published };
};
