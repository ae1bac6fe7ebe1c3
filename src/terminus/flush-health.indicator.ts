import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { FlushTransport } from '../broadcast/flush-transport.interface.js';
import { FlushConfigurationError } from '../flush.errors.js';

const TERMINUS_MISSING = (reason: string): string =>
  `FlushHealthIndicator needs the optional peer dependency "@nestjs/terminus" (11 or later): install it (npm install @nestjs/terminus). (${reason})`;

/**
 * The health of FlushHub's transport for `@nestjs/terminus`: `up` while the transport is
 * connected (always for the in-memory one), `down` while it is not, with the transport's
 * figures (`connected`, `connecting`, `reconnects`, `lastError`). RedisFlushTransport reports a
 * lost connection as soon as its socket closes, so the indicator turns `down` within a second or
 * two of Redis going away, and `up` again once it reconnects. List it in the providers of a module
 * that imports `TerminusModule`, like terminus' own indicators. `@nestjs/terminus` is loaded at
 * bootstrap: missing, the startup fails with what to install.
 * @example
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.flush.isHealthy('flush')]); }
 * @publicApi
 */
@Injectable()
export class FlushHealthIndicator implements OnModuleInit {
  private indicators: HealthIndicatorService | undefined;

  constructor(
    @Inject(FlushTransport) private readonly transport: FlushTransport,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onModuleInit(): Promise<void> {
    // A variable specifier: no static import, so @nestjs/terminus stays optional for the root.
    const specifier = '@nestjs/terminus';
    let terminus: { HealthIndicatorService?: new () => HealthIndicatorService };
    try {
      terminus = (await import(specifier)) as typeof terminus;
    } catch (err) {
      throw new FlushConfigurationError(TERMINUS_MISSING((err as Error).message), { cause: err });
    }
    const Service = terminus.HealthIndicatorService;
    if (typeof Service !== 'function')
      throw new FlushConfigurationError(
        TERMINUS_MISSING('no HealthIndicatorService: terminus < 11'),
      );
    try {
      this.indicators = this.moduleRef.get(Service, { strict: false });
    } catch {
      // Not in the module graph (no TerminusModule imported yet): terminus' own helper works alone.
      this.indicators = new Service();
    }
  }

  /**
   * `{ [key]: { status: 'up' | 'down', connected, … } }` for terminus' `HealthCheckService`.
   * @default key 'flush'
   */
  async isHealthy<const Key extends string = 'flush'>(
    key: Key = 'flush' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = (this.indicators ??= await this.fallback()).check(key);
    const health = this.transport.health?.();
    if (!health) return indicator.up({ transport: this.transport.constructor.name });
    const details = {
      transport: this.transport.constructor.name,
      connected: health.connected,
      ...(health.connecting !== undefined && { connecting: health.connecting }),
      reconnects: health.reconnects,
      ...(health.lastError !== undefined && { lastError: health.lastError }),
    };
    return health.connected ? indicator.up(details) : indicator.down(details);
  }

  /** Called before bootstrap finished (e.g. in a unit test without init): load it now. */
  private async fallback(): Promise<HealthIndicatorService> {
    await this.onModuleInit();
    return this.indicators as HealthIndicatorService;
  }
}
