import { Controller, Get, Header } from '@nestjs/common';
import { StatsService, type SampleStats } from './stats.service.js';

@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  /** Live hub figures (a JSON route, so enveloped): open streams, events published and delivered, rates. */
  @Get()
  @Header('Cache-Control', 'no-store')
  get(): SampleStats {
    return this.stats.snapshot();
  }
}
