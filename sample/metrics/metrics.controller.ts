import { Controller, Get, Res } from '@nestjs/common';
import { register } from 'prom-client';

/** The parts of express' `Response` and fastify's `FastifyReply` used here (both have them). */
interface ReplyLike {
  status(code: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(body: string): unknown;
}

/**
 * `GET /metrics`: prom-client's global registry as Prometheus text, where
 * `FlushPrometheusModule.register()` puts the `nestjs_flush_*` metrics. This is what
 * `@willsoto/nestjs-prometheus` would serve; a small controller does it without that package.
 * `@Res()` means Nest sends nothing itself: the global envelope interceptor cannot wrap the text.
 */
@Controller('metrics')
export class MetricsController {
  @Get()
  async metrics(@Res() res: ReplyLike): Promise<void> {
    const text = await register.metrics();
    res.status(200).header('Content-Type', register.contentType).send(text);
  }
}
