import { Controller, Get, Inject } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FlushTransport } from 'nestjs-flush';
import type { FlushTransport as Transport } from 'nestjs-flush';

export interface Health {
  status: 'ok';
  /** `express` or `fastify`. */
  adapter: string;
  /** Class name of the hub's transport: `InMemoryFlushTransport` or `RedisFlushTransport`. */
  transport: string;
  /** Node process id: tells instances apart behind a load balancer. */
  pid: number;
}

@Controller('api/health')
export class HealthController {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(FlushTransport) private readonly transport: Transport,
  ) {}

  /** A plain JSON route: the global envelope interceptor still wraps it, `{ code: 0, message: '', data }`. */
  @Get()
  get(): Health {
    return {
      status: 'ok',
      adapter: this.adapterHost.httpAdapter?.getType() ?? 'unknown',
      transport: this.transport.constructor.name,
      pid: process.pid,
    };
  }
}
