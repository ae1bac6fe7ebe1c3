// README "Runs that outlive their connection" example: an LLM answer runs once per id, whether
// or not its client stays; any instance re-attaches; cancel from anywhere. Run by
// runs.e2e-spec.ts next to it.
import { Controller, Delete, Module, Param, Query, Sse } from '@nestjs/common';
import { FlushHub, FlushModule, LastEventId } from 'nestjs-flush';

/** Stands for your model client: yields text as it comes, stops when `signal` aborts. */
export async function* generate(prompt: string, signal: AbortSignal): AsyncIterable<string> {
  for (const word of `You asked: ${prompt}`.split(' ')) {
    if (signal.aborted) return;
    yield `${word} `;
  }
}

@Controller('answers')
export class AnswersController {
  constructor(private readonly hub: FlushHub) {}

  @Sse(':id/start') // POST-less for EventSource; a POST @Flush() route works the same
  start(@Param('id') id: string, @Query('prompt') prompt: string) {
    return this.hub.run(id, signal => generate(prompt, signal), { ttlMs: 600_000 });
  }

  @Sse(':id') // reconnects land here, on any instance: the rest of the answer, then `end`
  attach(@Param('id') id: string, @LastEventId() lastEventId?: string) {
    return this.hub.attach(id, { lastEventId });
  }

  @Delete(':id')
  cancel(@Param('id') id: string) {
    return this.hub.cancel(id); // the producer's signal aborts; `end` says "cancelled"
  }
}

@Module({
  imports: [
    FlushModule.forRoot({
      maxRuns: 100, // runs at a time, on every instance together: 429 over it
      maxRunEvents: 10_000, // events per run (its history holds them all)
      runTtlMs: 600_000, // the replay kept after the end; then 404
      maxRunDurationMs: 3_600_000, // then `end {"status":"expired"}`
      runUnattendedStopMs: false, // e.g. 60_000: stop runs nobody follows
    }),
  ],
  controllers: [AnswersController],
})
export class AnswersModule {}
