// README "NestJS ecosystem" examples: Prometheus, terminus, OpenAPI, typed channels, request
// context. Type-checked by `npm run lint`; test/readme/ecosystem.e2e-spec.ts runs the app.
import { Body, Controller, Get, Logger, Module, Post, Sse } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { ApiProperty } from '@nestjs/swagger';
import { ClsModule, ClsService } from 'nestjs-cls';
import { tap } from 'rxjs';
import { FlushHub, FlushModule, LastEventId } from 'nestjs-flush';
import { FlushPrometheusModule } from 'nestjs-flush/prometheus';
import { FlushHealthIndicator } from 'nestjs-flush/terminus';
import { ApiFlush } from 'nestjs-flush/swagger';

export class Headline {
  @ApiProperty() title!: string;
  @ApiProperty({ required: false }) url?: string;
}

/** The events of the `news` channel: names and payloads checked at compile time. */
export type NewsEvents = { headline: Headline; removed: { id: string } };

@Controller('news')
export class NewsController {
  private readonly logger = new Logger('News');
  private readonly news;

  constructor(
    hub: FlushHub,
    private readonly cls: ClsService,
  ) {
    this.news = hub.channel<NewsEvents>('news');
  }

  @Sse()
  @ApiFlush({
    events: {
      headline: Headline,
      removed: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    },
  })
  stream(@LastEventId() lastEventId?: string) {
    return this.news.stream({ lastEventId }).pipe(
      // Per-event code runs in this request's context (nestjs-cls, OpenTelemetry).
      tap(event => this.logger.debug(`${event.type} to request ${this.cls.getId()}`)),
    );
  }

  @Post()
  publish(@Body() headline: Headline): Promise<string> {
    return this.news.publish('headline', headline);
    // this.news.publish('headline', { id: '1' });  -> compile error: not a Headline
    // this.news.publish('deleted', { id: '1' });    -> compile error: no such event
  }
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly flush: FlushHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.flush.isHealthy('flush')]);
  }
}

@Module({
  imports: [
    FlushModule.forRoot(),
    // nestjs_flush_* on prom-client's global registry (what @willsoto/nestjs-prometheus serves)
    FlushPrometheusModule.register({ channelLabel: channel => channel.split('/')[0] }),
    TerminusModule,
    ClsModule.forRoot({ global: true, middleware: { mount: true, generateId: true } }),
  ],
  controllers: [NewsController, HealthController],
  providers: [FlushHealthIndicator],
})
export class AppModule {}
