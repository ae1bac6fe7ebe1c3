import { expect } from '@jest/globals';
import { Controller, Get, Inject, Module, Sse, type INestApplication } from '@nestjs/common';
import {
  DEFAULT_FLUSH_OPTIONS,
  Flush,
  FLUSH_OPTIONS,
  FlushHub,
  FlushMetrics,
  FlushModule,
  type ResolvedFlushOptions,
} from '../src/index.js';
import { FlushTestingModule, readSse } from '../src/testing/index.js';
import { rawRequest } from './utils/http.js';
import { parseJson, sseData } from './utils/json.js';
import { platforms, startApp } from './utils/platforms.js';
import { waitFor } from './utils/wait.js';

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
    expect(sseData(items)).toEqual([{ i: 0 }, { i: 1 }]);
  });

  // Issue 17 (3): a feature module's second forRoot() silently lost one module's settings.
  it('fails the bootstrap when imported twice with different options, naming both import sites', async () => {
    @Module({ imports: [FlushModule.forRoot({ heartbeatIntervalMs: 1000 })] })
    class FeatureModule {}
    @Module({ imports: [FlushModule.forRoot({ historySize: 5 }), FeatureModule, TicksModule] })
    class RootModule {}
    const failure = await startApp(platform, [RootModule]).then(
      async started => {
        await started.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toMatch(/FlushModule is imported 2 times in this application/);
    expect(message).toContain('in the imports of RootModule and FeatureModule');
    expect(message).toContain(
      'import FlushModule.forRoot() (or forRootAsync()) once, in the root module',
    );
  });

  // Each forRoot() is a module of its own (ConfigurableModuleBuilder gives each a unique id):
  // two hubs whose in-memory transports never see each other's publishes.
  it('fails the bootstrap also when both imports have the same options', async () => {
    @Module({ imports: [FlushModule.forRoot()] })
    class FeatureModule {}
    const failure = await startApp(platform, [FlushModule.forRoot(), FeatureModule]).then(
      async started => {
        await started.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect((failure as Error).message).toMatch(/FlushModule is imported 2 times/);
    expect((failure as Error).message).toContain('FeatureModule');
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

@Controller()
class NewsController {
  constructor(
    private readonly hub: FlushHub,
    @Inject(FLUSH_OPTIONS) private readonly options: ResolvedFlushOptions,
  ) {}

  @Get('options')
  effective() {
    const { heartbeatIntervalMs, historySize } = this.options;
    return { heartbeatIntervalMs, historySize };
  }

  @Sse('news')
  news() {
    return this.hub.stream('news');
  }
}

/** An application that imports FlushModule itself, as an AppModule under test does. */
@Module({
  imports: [FlushModule.forRoot({ heartbeatIntervalMs: 60000, historySize: 7 })],
  controllers: [NewsController],
})
class NewsAppModule {}

describe.each(platforms)("FlushTestingModule with the app's own FlushModule (%s)", platform => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it.each([['FlushTestingModule first'], ['AppModule first']])(
    "%s: the testing options win, the app's others stay, and publishes reach the app's streams",
    async order => {
      const testing = FlushTestingModule.forRoot({ heartbeatIntervalMs: 50 });
      app = await startApp(
        platform,
        order === 'FlushTestingModule first' ? [testing, NewsAppModule] : [NewsAppModule, testing],
      );
      const { body } = await rawRequest(app, '/options');
      expect(JSON.parse(body)).toEqual({ heartbeatIntervalMs: 50, historySize: 7 });

      // The hub the test gets and the hub of the app's controller reach the same subscribers.
      const hub = app.get(FlushHub);
      let received = false;
      const reading = readSse(app, '/news', { count: 1 }).finally(() => (received = true));
      // A new subscriber gets only later events, and with the AppModule imported first its
      // subscription is counted by the app's own FlushModule, not the one app.get() returns:
      // publish until the reader has one.
      let n = 0;
      await waitFor(
        async () => (await hub.publish('news', { n: n++ }), received),
        "a publish to reach the app's stream",
      );
      const { items } = await reading;
      expect(items).toHaveLength(1);
      expect(parseJson(items[0].data)).toEqual({ n: expect.any(Number) });

      // One FlushMetrics for the application, whichever FlushModule served the stream.
      const metrics = app.get(FlushMetrics).snapshot();
      expect(metrics.streamsOpened).toBe(1);
      expect(metrics.published).toBe(n);
      expect(metrics.delivered).toBeGreaterThanOrEqual(1);
    },
  );
});
