// README "Quickstart", compiled by `npm run lint` (tsc) and run by quickstart.e2e-spec.ts.
// test/readme/check-readme.mjs fails when README.md and this file drift apart.
import { setTimeout } from 'node:timers/promises';
import { Body, Controller, Get, Module, Post, Sse } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Flush, FlushHub, FlushModule, FlushSignal, LastEventId } from 'nestjs-flush';

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
    for (let i = 0; i < 100_000; i++) yield { i };
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

@Module({ controllers: [NewsController] })
export class NewsModule {}

@Module({ imports: [FlushModule.forRoot(), NewsModule] })
export class AppModule {}

export async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks(); // on SIGTERM every stream ends at once, with a jittered retry: hint
  await app.listen(3000);
}
