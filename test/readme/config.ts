// README "Configuration", compiled by `npm run lint` (tsc) and booted by config.e2e-spec.ts.
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { FlushModule, type FlushModuleOptions, type FlushOptionsFactory } from 'nestjs-flush';

@Module({
  imports: [
    FlushModule.forRoot({
      heartbeatIntervalMs: 15000, // comment on idle SSE streams; false disables
      historySize: 1000, // events kept per channel for Last-Event-ID resume
    }),
  ],
})
export class StaticOptionsModule {}

@Module({
  imports: [
    ConfigModule.forRoot(),
    FlushModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        // '20000' from the environment is read as 20000, 'false' as false
        heartbeatIntervalMs: config.get<number>('FLUSH_HEARTBEAT_MS', 15000),
        historySize: config.get<number>('FLUSH_HISTORY_SIZE', 1000),
      }),
    }),
  ],
})
export class AppModule {}

@Injectable()
export class FlushConfig implements FlushOptionsFactory {
  constructor(private readonly config: ConfigService) {}

  createFlushOptions(): FlushModuleOptions {
    return {
      heartbeatIntervalMs: this.config.get<number>('FLUSH_HEARTBEAT_MS', 15000),
      historySize: this.config.get<number>('FLUSH_HISTORY_SIZE', 1000),
    };
  }
}

@Module({
  imports: [
    ConfigModule.forRoot(),
    FlushModule.forRootAsync({ imports: [ConfigModule], useClass: FlushConfig }),
  ],
})
export class ClassOptionsModule {}
