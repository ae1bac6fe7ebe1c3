import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import {
  DEFAULT_FLUSH_OPTIONS,
  Flush,
  FLUSH_OPTIONS,
  FlushModule,
  type ResolvedFlushOptions,
} from '../src/index.js';
import { readSse } from '../src/testing/index.js';
import { platforms, startApp } from './utils/platforms.js';

@Controller()
class TicksController {
  @Get('ticks')
  @Flush()
  async *ticks() {
    yield { i: 0 };
    yield { i: 1 };
  }
}

@Module({ controllers: [TicksController] })
class TicksModule {}

describe.each(platforms)('FlushModule.forRoot() (%s)', platform => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('boots without an argument: every default, global, streaming', async () => {
    // Type-checked by `npm run lint` (tsc): forRoot() takes no required argument.
    app = await startApp(platform, [FlushModule.forRoot(), TicksModule]);
    expect(app.get<ResolvedFlushOptions>(FLUSH_OPTIONS)).toEqual(DEFAULT_FLUSH_OPTIONS);
    const { status, items, ended } = await readSse(app, '/ticks');
    expect(status).toBe(200);
    expect(ended).toBe(true);
    expect(items.map(e => JSON.parse(e.data))).toEqual([{ i: 0 }, { i: 1 }]);
  });

  it('still takes options', async () => {
    app = await startApp(platform, [
      FlushModule.forRoot({ heartbeatIntervalMs: false, historySize: 5 }),
      TicksModule,
    ]);
    expect(app.get<ResolvedFlushOptions>(FLUSH_OPTIONS)).toMatchObject({
      heartbeatIntervalMs: false,
      historySize: 5,
    });
  });
});
