import { setTimeout } from 'node:timers/promises';
import { Body, Controller, Get, Post, Sse } from '@nestjs/common';
import { Flush, FlushHub, FlushSignal, LastEventId } from 'nestjs-flush';

@Controller()
export class NewsController {
  constructor(private readonly hub: FlushHub) {}

  @Post('news') // resolves to the event id
  publish(@Body() body: { title: string }) {
    return this.hub.publish('news', body, { event: 'headline' });
  }

  @Sse('news/stream') // Nest's own @Sse(); a reconnecting EventSource resumes where it left off
  stream(@LastEventId() lastEventId?: string) {
    return this.hub.stream('news', { lastEventId });
  }

  @Get('export') // one JSON line per row, flushed as produced
  @Flush({ format: 'ndjson' })
  async *export() {
    for (let i = 0; i < 1_000; i++) yield { i };
  }

  @Post('complete') // LLM-style token stream: 200, stops when the client leaves
  @Flush({ format: 'text' })
  async *complete(@Body() body: { prompt: string }, @FlushSignal() signal: AbortSignal) {
    for (const token of body.prompt.split(' ')) {
      await setTimeout(50, undefined, { signal }); // your LLM client here: give it the signal
      yield `${token} `;
    }
  }
}
