import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  type MessageEvent,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { Flush, FlushHub, FlushSignal, LastEventId } from 'nestjs-flush';
import { ApiFlush } from 'nestjs-flush/swagger';
import { RUN_END_SCHEMA, TOKEN_SCHEMA } from '../docs/stream-schemas.js';
import { LlmService } from './llm.service.js';

export const MAX_PROMPT_LENGTH = 2000;

/** How long a finished answer can still be re-attached (a reload, another tab): 10 minutes. */
export const LLM_RUN_TTL_MS = 600_000;

/** The `prompt` of a `{ prompt }` body, checked. */
export const parsePrompt = (body: unknown): string => {
  const prompt = (body as { prompt?: unknown } | undefined)?.prompt ?? '';
  if (typeof prompt !== 'string' || prompt.length > MAX_PROMPT_LENGTH) {
    throw new BadRequestException(
      `"prompt" must be a string of at most ${MAX_PROMPT_LENGTH} characters`,
    );
  }
  return prompt;
};

@Controller('api/llm')
export class LlmController {
  constructor(
    private readonly llm: LlmService,
    private readonly hub: FlushHub,
  ) {}

  /**
   * An LLM-style POST stream: plain text, one token per chunk, flushed as produced. The signal
   * aborts when the client goes away, which stops the generator. Runs longer than the global
   * timeout(5000) without being cut. (The page uses the resumable runs below.)
   */
  @Post()
  @HttpCode(200)
  @Flush({ format: 'text' })
  @ApiFlush({ format: 'text', events: { token: TOKEN_SCHEMA } })
  complete(@Body() body: unknown, @FlushSignal() signal: AbortSignal): AsyncIterable<string> {
    return this.llm.complete(parsePrompt(body), signal);
  }

  /**
   * Starts the answer to `{ prompt }` as the run `key` (a key the page made, kept in its
   * sessionStorage) and streams it as Server-Sent Events. The answer is the server's: it goes on
   * when this client leaves (the page reads it through `GET runs/:key` instead), until its end or
   * `POST runs/:key/cancel`. 409 when the key was used already.
   */
  @Post('runs/:key')
  @HttpCode(200)
  @Flush()
  @ApiFlush({ events: { message: TOKEN_SCHEMA, end: RUN_END_SCHEMA } })
  start(@Param('key') key: string, @Body() body: unknown): Observable<MessageEvent> {
    const prompt = parsePrompt(body);
    return this.hub.run(key, signal => this.llm.complete(prompt, signal), {
      ttlMs: LLM_RUN_TTL_MS,
    });
  }

  /**
   * The answer `key`: the whole run without Last-Event-ID (a reloaded page renders it from
   * scratch), the rest after one (the header of an EventSource reconnect, or `?lastEventId=`),
   * then live tokens, then `event: end` with `{"status": …}`. 404 for an unknown or expired key;
   * 204 once the client has the end.
   */
  @Get('runs/:key')
  @Flush()
  @ApiFlush({ events: { message: TOKEN_SCHEMA, end: RUN_END_SCHEMA } })
  attach(@Param('key') key: string, @LastEventId() lastEventId?: string): Observable<MessageEvent> {
    return this.hub.attach(key, { lastEventId });
  }

  /** Stops the answer `key` on whichever instance runs it: its `end` says `"cancelled"`. */
  @Post('runs/:key/cancel')
  @HttpCode(204)
  async cancel(@Param('key') key: string): Promise<void> {
    await this.hub.cancel(key);
  }
}
