import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Flush, FlushSignal } from 'nestjs-flush';
import { LlmService } from './llm.service.js';

export const MAX_PROMPT_LENGTH = 2000;

@Controller('api/llm')
export class LlmController {
  constructor(private readonly llm: LlmService) {}

  /**
   * An LLM-style POST stream: plain text, one token per chunk, flushed as produced. The signal
   * aborts when the client goes away (the page's Stop button aborts its fetch), which stops the
   * generator. Runs longer than the global timeout(5000) without being cut.
   */
  @Post()
  @HttpCode(200)
  @Flush({ format: 'text' })
  complete(@Body() body: unknown, @FlushSignal() signal: AbortSignal): AsyncIterable<string> {
    const prompt = (body as { prompt?: unknown } | undefined)?.prompt ?? '';
    if (typeof prompt !== 'string' || prompt.length > MAX_PROMPT_LENGTH) {
      throw new BadRequestException(
        `"prompt" must be a string of at most ${MAX_PROMPT_LENGTH} characters`,
      );
    }
    return this.llm.complete(prompt, signal);
  }
}
