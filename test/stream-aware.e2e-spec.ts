import {
  Inject,
  Injectable,
  Module,
  type CallHandler,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { map } from 'rxjs';
import { StreamAware } from '../src/index.js';
import { readNdjson, readSse } from '../src/testing/index.js';
import { EnvelopeInterceptor, rulesModule } from './fixtures/rules/rules.controller.js';
import { rawRequest } from './utils/http.js';
import { sseData } from './utils/json.js';
import { platforms, startApp } from './utils/platforms.js';

const TAG = Symbol('TAG');

/** An envelope with an injected dependency: StreamAware's mixin must keep Nest's DI working. */
@Injectable()
class TaggedEnvelopeInterceptor implements NestInterceptor {
  constructor(@Inject(TAG) private readonly tag: string) {}
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(map((data: unknown) => ({ tag: this.tag, data })));
  }
}

@Module({
  providers: [
    { provide: TAG, useValue: 'wrapped' },
    { provide: APP_INTERCEPTOR, useClass: StreamAware(TaggedEnvelopeInterceptor) },
  ],
})
class TaggedEnvelopeModule {}

describe('StreamAware()', () => {
  it('is memoised: the same class gives the same mixin, another class another one', () => {
    const first = StreamAware(EnvelopeInterceptor);
    expect(StreamAware(EnvelopeInterceptor)).toBe(first);
    expect(StreamAware(TaggedEnvelopeInterceptor)).not.toBe(first);
    expect(StreamAware(TaggedEnvelopeInterceptor)).toBe(StreamAware(TaggedEnvelopeInterceptor));
    expect(new first()).toBeInstanceOf(EnvelopeInterceptor);
  });
});

describe.each(platforms)('StreamAware() on a real app (%s)', platform => {
  // `skipInterceptors: 'none'` turns FlushModule's automatic exclusion off: only the wrapper
  // keeps the envelope away from streams.
  describe("with useGlobalInterceptors() and skipInterceptors: 'none'", () => {
    let app: INestApplication;
    let plain: INestApplication;
    beforeAll(async () => {
      app = await startApp(platform, [rulesModule({ skipInterceptors: 'none' })], a => {
        a.useGlobalInterceptors(new (StreamAware(EnvelopeInterceptor))());
      });
      // Control: the same interceptor unwrapped does envelope the streams under 'none'.
      plain = await startApp(platform, [rulesModule({ skipInterceptors: 'none' })], a => {
        a.useGlobalInterceptors(new EnvelopeInterceptor());
      });
    });
    afterAll(async () => {
      await app?.close();
      await plain?.close();
    });

    it('still runs on a non-streaming route', async () => {
      const res = await rawRequest(app, '/rules/json');
      expect(JSON.parse(res.body)).toEqual({ code: 0, message: '', data: { hello: 'world' } });
    });

    it("skips Nest's @Sse() route: the events are the handler's own", async () => {
      const wrapped = await readSse(app, '/rules/events', { count: 2 });
      expect(sseData(wrapped.items)).toEqual([{ n: 1 }, { n: 2 }]);
      const control = await readSse(plain, '/rules/events', { count: 1 });
      // By Nest's MessageEvent contract the envelope { code, message, data: event } reaches the client
      // as the event's data: the defect the wrapper is there to avoid.
      expect(JSON.parse(control.items[0].data)).toEqual({ data: { n: 1 } });
    });

    it("skips a @Flush() route: every NDJSON line is the handler's own", async () => {
      const wrapped = await readNdjson(app, '/rules/ndjson');
      expect(wrapped.items).toEqual([{ n: 1 }, { n: 2 }]);
    });
  });

  describe('as an APP_INTERCEPTOR provider with an injected dependency', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await startApp(platform, [
        rulesModule({ skipInterceptors: 'none' }),
        TaggedEnvelopeModule,
      ]);
    });
    afterAll(() => app?.close());

    it('gets its dependency and runs on the JSON route, not on the streams', async () => {
      const json = await rawRequest(app, '/rules/json');
      expect(JSON.parse(json.body)).toEqual({ tag: 'wrapped', data: { hello: 'world' } });
      const sse = await readSse(app, '/rules/events', { count: 2 });
      expect(sseData(sse.items)).toEqual([{ n: 1 }, { n: 2 }]);
      const ndjson = await readNdjson(app, '/rules/ndjson');
      expect(ndjson.items).toEqual([{ n: 1 }, { n: 2 }]);
    });
  });
});
