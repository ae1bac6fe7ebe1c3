import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { FlushHealthIndicator } from 'nestjs-flush/terminus';
import { HealthCheckController } from './health-check.controller.js';
import { HealthController } from './health.controller.js';

/** `GET /api/health` (what the page shows: adapter, transport, pid) and `GET /health` (terminus). */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController, HealthCheckController],
  providers: [FlushHealthIndicator],
})
export class HealthModule {}
