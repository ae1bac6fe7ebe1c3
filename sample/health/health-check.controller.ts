import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { FlushHealthIndicator } from 'nestjs-flush/terminus';

/**
 * `GET /health`: the readiness probe, with @nestjs/terminus. `flush` is the hub transport's
 * health (nestjs-flush/terminus): always up in memory; with `REDIS_URL`, down (503) while Redis
 * is lost, up again once the transport reconnects. A 200 is a JSON route like any other, so the
 * sample's global envelope wraps it (`{ code: 0, message: '', data: { status: 'ok', … } }`);
 * a 503 is terminus' own error body.
 */
@Controller('health')
export class HealthCheckController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly flush: FlushHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.flush.isHealthy('flush')]);
  }
}
