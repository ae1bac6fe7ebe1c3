// Boots the README "Configuration" modules (config.ts) with options read from the environment,
// where every value is a string.
import { Controller, Get, Module, type INestApplication, type Type } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import {
  DEFAULT_FLUSH_OPTIONS,
  Flush,
  FLUSH_OPTIONS,
  FlushConfigurationError,
  type ResolvedFlushOptions,
} from 'nestjs-flush';
import { readSse } from 'nestjs-flush/testing';
import { platforms, startApp } from '../utils/platforms.js';
import { ClassOptionsModule, AppModule, StaticOptionsModule } from './config.js';

@Controller()
class IdleController {
  @Get('idle')
  @Flush()
  async *idle() {
    await new Promise(resolve => setTimeout(resolve, 300)); // quiet: heartbeats only
    yield 'done';
  }
}

@Module({ controllers: [IdleController] })
class IdleModule {}

const ENV = ['FLUSH_HEARTBEAT_MS', 'FLUSH_HISTORY_SIZE'];

describe.each(platforms)('README configuration (%s)', platform => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const name of ENV) delete process.env[name];
  });

  it('forRoot(options)', async () => {
    app = await startApp(platform, [StaticOptionsModule]);
    expect(app.get<ResolvedFlushOptions>(FLUSH_OPTIONS)).toEqual(DEFAULT_FLUSH_OPTIONS);
  });

  it.each<[string, Type]>([
    ['forRootAsync({ useFactory })', AppModule],
    ['forRootAsync({ useClass })', ClassOptionsModule],
  ])('%s reads environment strings as numbers', async (_, module) => {
    process.env.FLUSH_HEARTBEAT_MS = '50';
    process.env.FLUSH_HISTORY_SIZE = '3';
    app = await startApp(platform, [module, IdleModule]);
    expect(app.get<ResolvedFlushOptions>(FLUSH_OPTIONS)).toMatchObject({
      heartbeatIntervalMs: 50,
      historySize: 3,
    });
    const { items, comments } = await readSse(app, '/idle');
    expect(items.map(e => e.data)).toEqual(['done']);
    expect(comments.length).toBeGreaterThanOrEqual(1);
  });

  it.each<[string, Type]>([
    ['forRootAsync({ useFactory })', AppModule],
    ['forRootAsync({ useClass })', ClassOptionsModule],
  ])("%s reads 'false', and uses the defaults when the variables are unset", async (_, module) => {
    process.env.FLUSH_HEARTBEAT_MS = 'false';
    app = await startApp(platform, [module]);
    expect(app.get<ResolvedFlushOptions>(FLUSH_OPTIONS)).toMatchObject({
      heartbeatIntervalMs: false,
      historySize: 1000,
    });
  });

  it('fails the bootstrap on a value that is not a number, naming the option and the value', async () => {
    process.env.FLUSH_HEARTBEAT_MS = '15s';
    const booting = startApp(platform, [AppModule]);
    await expect(booting).rejects.toThrow(FlushConfigurationError);
    await expect(booting).rejects.toThrow(/"heartbeatIntervalMs".*received "15s"/);
  });

  it('ConfigModule.forRoot({ load }) values work the same way', async () => {
    app = await startApp(platform, [
      ConfigModule.forRoot({
        ignoreEnvFile: true,
        isGlobal: true,
        load: [() => ({ FLUSH_HEARTBEAT_MS: '20000', FLUSH_HISTORY_SIZE: '10' })],
      }),
      AppModule,
    ]);
    expect(app.get<ResolvedFlushOptions>(FLUSH_OPTIONS)).toMatchObject({
      heartbeatIntervalMs: 20000,
      historySize: 10,
    });
  });
});
