import { expect } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Get, Module, Param, Post, Sse, type INestApplication } from '@nestjs/common';
import { ClsModule, ClsService } from 'nestjs-cls';
import { interval, map, take } from 'rxjs';
import { Flush, FlushHub, FlushModule } from '../src/index.js';
import { baseUrl, readNdjson, readSse } from '../src/testing/index.js';
import { platforms, startApp } from './utils/platforms.js';
import { subscriberCount } from './utils/hub.js';
import { waitFor } from './utils/wait.js';

/** A random pause, so that concurrent requests interleave their events. */
const jitter = () => sleep(1 + Math.floor(Math.random() * 15));

@Controller('ctx')
class ContextController {
  constructor(
    private readonly cls: ClsService,
    private readonly hub: FlushHub,
  ) {}

  /** An async generator producer, reading the context across awaits. */
  @Get('generator/:rid')
  @Flush({ format: 'ndjson' })
  async *generator() {
    for (let i = 0; i < 5; i++) {
      await jitter();
      yield { i, rid: this.cls.get<string>('rid') };
    }
  }

  /** An Observable producer: timers started in the request's context. */
  @Sse('observable/:rid')
  observable() {
    return interval(5).pipe(
      take(5),
      map(i => ({ data: { i, rid: this.cls.get<string>('rid') } })),
    );
  }

  /** A hub stream whose per-event code reads the context: it sees its own request's. */
  @Sse('hub/:rid')
  hubStream() {
    return this.hub
      .stream('ctx')
      .pipe(
        map(event => ({ ...event, data: { event: event.data, rid: this.cls.get<string>('rid') } })),
      );
  }

  /** A hub.run() producer: it runs on detached from the response, in the request's context. */
  @Sse('run/:rid')
  run(@Param('rid') rid: string) {
    const cls = this.cls;
    return this.hub.run(`ctx-${rid}-${Date.now()}`, async function* () {
      for (let i = 0; i < 3; i++) {
        await jitter();
        yield { i, rid: cls.get<string>('rid') };
      }
    });
  }

  /** A publish made in a request: the context is there after the await. */
  @Post('publish/:rid')
  async publish(@Param('rid') rid: string) {
    const before = this.cls.get<string>('rid');
    await this.hub.publish('ctx', { from: rid });
    return { before, after: this.cls.get<string>('rid') };
  }
}

@Module({
  imports: [
    FlushModule.forRoot({ heartbeatIntervalMs: false }),
    ClsModule.forRoot({
      global: true,
      middleware: {
        mount: true,
        setup: (cls, req: { url?: string; originalUrl?: string }) =>
          cls.set('rid', (req.originalUrl ?? req.url ?? '').split('/').pop()),
      },
    }),
  ],
  controllers: [ContextController],
})
class ContextModule {}

const RIDS = Array.from({ length: 10 }, (_, i) => `r${i}`);

describe.each(platforms)('request context (nestjs-cls) in streams (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [ContextModule]);
  });
  afterAll(() => app?.close());

  it('an async generator producer sees its own request’s context in every event (10 concurrent)', async () => {
    const results = await Promise.all(
      RIDS.map(rid =>
        readNdjson<{ i: number; rid: string }>(app, `/ctx/generator/${rid}`, { timeoutMs: 15_000 }),
      ),
    );
    results.forEach((result, k) => {
      expect(result.items).toEqual([0, 1, 2, 3, 4].map(i => ({ i, rid: RIDS[k] })));
    });
  });

  it('an Observable producer sees its own request’s context in every event (10 concurrent)', async () => {
    const results = await Promise.all(
      RIDS.map(rid => readSse(app, `/ctx/observable/${rid}`, { timeoutMs: 15_000 })),
    );
    results.forEach((result, k) => {
      expect(result.items.map(e => JSON.parse(e.data) as unknown)).toEqual(
        [0, 1, 2, 3, 4].map(i => ({ i, rid: RIDS[k] })),
      );
    });
  });

  it('a hub.run() producer sees its own request’s context in every event (10 concurrent)', async () => {
    const results = await Promise.all(
      RIDS.map(rid => readSse(app, `/ctx/run/${rid}`, { timeoutMs: 15_000 })),
    );
    results.forEach((result, k) => {
      expect(
        result.items.filter(e => e.event !== 'end').map(e => JSON.parse(e.data) as unknown),
      ).toEqual([0, 1, 2].map(i => ({ i, rid: RIDS[k] })));
      expect(result.items.at(-1)).toMatchObject({ event: 'end' });
    });
  });

  it('per-event code of a hub stream sees its subscriber’s context, not the publisher’s (10 concurrent)', async () => {
    const readers = RIDS.map(rid =>
      readSse(app, `/ctx/hub/${rid}`, { count: 3, timeoutMs: 15_000 }),
    );
    await waitFor(() => subscriberCount(app, 'ctx') === RIDS.length, 'ten subscribers', 10_000);
    const answers = [];
    for (const from of ['p1', 'p2', 'p3']) {
      const res = await fetch(`${baseUrl(app)}/ctx/publish/${from}`, { method: 'POST' });
      answers.push(await res.json());
    }
    // A publish made in a request keeps the request's context after its await.
    expect(answers).toEqual(['p1', 'p2', 'p3'].map(rid => ({ before: rid, after: rid })));
    const results = await Promise.all(readers);
    results.forEach((result, k) => {
      expect(result.items.map(e => JSON.parse(e.data) as unknown)).toEqual(
        ['p1', 'p2', 'p3'].map(from => ({ event: JSON.stringify({ from }), rid: RIDS[k] })),
      );
    });
  });
});
