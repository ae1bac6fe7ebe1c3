import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Flush, FlushSignal } from 'nestjs-flush';
import { MAX_PROMPT_LENGTH } from './llm.controller.js';
import { ApiFlush } from 'nestjs-flush/swagger';
import { CHAT_COMPLETION_CHUNK_SCHEMA } from '../docs/stream-schemas.js';
import { LlmService } from './llm.service.js';

/** The text of the last user message of a Chat Completions request body. */
export const lastUserText = (body: unknown): string => {
  const messages = (body as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages))
    throw new BadRequestException('"messages" must be an array of chat messages');
  const last = (messages as unknown[])
    .filter(
      (m): m is { role: 'user'; content?: unknown } => (m as { role?: unknown })?.role === 'user',
    )
    .at(-1);
  const content = last?.content ?? '';
  // A string, or content parts ({ type: 'text', text }) as the client may send them.
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content
            .map(part =>
              (part as { type?: unknown })?.type === 'text'
                ? (part as { text?: unknown }).text
                : '',
            )
            .filter((t): t is string => typeof t === 'string')
            .join('')
        : undefined;
  if (text === undefined || text.length > MAX_PROMPT_LENGTH)
    throw new BadRequestException(
      `the last user message must be text of at most ${MAX_PROMPT_LENGTH} characters`,
    );
  return text;
};

/**
 * An OpenAI-compatible Chat Completions route: `new OpenAI({ baseURL: 'http://localhost:3000/v1',
 * apiKey: 'x' })` streams the sample's pretend model with `stream: true`. The tokens become
 * `chat.completion.chunk` deltas, then `finish_reason: 'stop'` and `data: [DONE]`; `model` is
 * ignored. The signal stops the generator when the client leaves.
 */
@Controller('v1')
export class OpenAiController {
  constructor(private readonly llm: LlmService) {}

  @Post('chat/completions')
  @HttpCode(200)
  @Flush({ format: 'openai', model: 'nestjs-flush-sample' })
  @ApiFlush({ events: { message: CHAT_COMPLETION_CHUNK_SCHEMA } })
  completions(@Body() body: unknown, @FlushSignal() signal: AbortSignal): AsyncIterable<string> {
    return this.llm.complete(lastUserText(body), signal);
  }
}
