import { Body, Controller, HttpCode, Post, Sse, type MessageEvent } from '@nestjs/common';
import { defer, of, concat, type Observable } from 'rxjs';
import { FlushHub, LastEventId } from 'nestjs-flush';
import { ApiFlush } from 'nestjs-flush/swagger';
import { CHAT_MESSAGE_SCHEMA, RESYNC_SCHEMA, WELCOME_SCHEMA } from '../docs/stream-schemas.js';
import { parseChatMessage, type ChatMessage } from './chat.dto.js';

export const CHAT_CHANNEL = 'chat';

@Controller('api/chat')
export class ChatController {
  constructor(private readonly hub: FlushHub) {}

  /**
   * Publishes a message to everyone on the `chat` channel (on every instance, with Redis).
   * A JSON route: the answer is enveloped, `{ code: 0, message: '', data: { id } }`.
   */
  @Post()
  @HttpCode(201)
  async post(@Body() body: unknown): Promise<{ id: string }> {
    const message: ChatMessage = { ...parseChatMessage(body), at: Date.now() };
    const id = await this.hub.publish(CHAT_CHANNEL, message);
    return { id };
  }

  /**
   * The chat as Server-Sent Events. A client that comes back with `Last-Event-ID` (the header
   * EventSource sends when it reconnects, or `?lastEventId=` when it opens a new EventSource)
   * first gets every message it missed, then live ones, without gap or duplicate.
   * The first event, `welcome`, carries the server time of the subscription: messages published
   * before it are replays. Its id is the client's own position (or empty): an event without id
   * would get a number from Nest (`id: 1`), and the client would resume from that.
   * Quiet for minutes? The global timeout(5000) interceptor no longer applies, and heartbeat
   * comments keep proxies from closing the connection.
   */
  @Sse('stream')
  @ApiFlush({
    events: { welcome: WELCOME_SCHEMA, message: CHAT_MESSAGE_SCHEMA, resync: RESYNC_SCHEMA },
  })
  stream(@LastEventId() lastEventId?: string): Observable<MessageEvent> {
    return defer(() =>
      concat(
        of<MessageEvent>({
          type: 'welcome',
          id: lastEventId ?? '',
          data: { now: Date.now(), resumedFrom: lastEventId ?? null },
        }),
        this.hub.stream(CHAT_CHANNEL, { lastEventId }),
      ),
    );
  }
}
