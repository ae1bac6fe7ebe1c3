import { expect } from '@jest/globals';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { FlushHub, FlushMetrics } from '../src/index.js';
import { readSse } from '../src/testing/index.js';
import { hubFixtureModule } from './fixtures/hub/hub.controller.js';
import { subscribers } from './utils/hub.js';
import { rawRequest } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';

/** Error lines the application logs (message and stack joined). */
class ErrorLog implements LoggerService {
  readonly errors: string[] = [];
  log() {}
  warn() {}
  debug() {}
  verbose() {}
  error(message: unknown, ...rest: unknown[]) {
    this.errors.push([message, ...rest].map(String).join('\n'));
  }
}

describe.each(platforms)('FlushHub channel authorization (%s)', platform => {
  let app: INestApplication;
  const log = new ErrorLog();
  beforeAll(async () => {
    // The fixture's rules: private:* only for x-user: admin; every other channel for anyone.
    app = await startApp(platform, [hubFixtureModule()], a => a.useLogger(log));
  });
  afterAll(() => app.close());

  it.each(['unsafe-sse', 'unsafe-flush'])(
    'refuses hub.stream() while rules exist (%s): a 500 before any header, and a log line naming the fix',
    async route => {
      const before = log.errors.length;
      for (const channel of ['private:room', 'public']) {
        const res = await rawRequest(app, `/${route}/${channel}`, {
          headers: { 'x-user': 'admin' },
        });
        expect(res.status).toBe(500);
        expect(res.headers['content-type']).toMatch(/json/);
        expect(JSON.parse(res.body)).toEqual({
          statusCode: 500,
          message: 'Internal server error',
        });
      }
      const logged = log.errors.slice(before).join('\n');
      expect(logged).toContain(
        'FlushHub.stream("private:room") was called, but FlushModule has "authorize" rules',
      );
      expect(logged).toContain('hub.streamFor(request, "private:room", options)');
      expect(logged).toContain('{ skipAuthorization: true }');
      expect(app.get(FlushMetrics).snapshot().channels['private:room']).toBeUndefined();
    },
  );

  it('still authorizes with streamFor(): 403 without the right user, events with it', async () => {
    const denied = await rawRequest(app, '/sse/private:vault');
    expect(denied.status).toBe(403);
    const allowed = readSse(app, '/sse/private:vault', {
      headers: { 'x-user': 'admin' },
      count: 1,
    });
    await subscribers(app, 'private:vault', 1);
    await app.get(FlushHub).publish('private:vault', 'secret');
    expect((await allowed).items).toEqual([{ id: expect.any(String), data: 'secret' }]);
  });

  it('lets a server-internal stream opt out with { skipAuthorization: true }', async () => {
    const reading = readSse(app, '/internal/private:jobs', { count: 1 });
    await subscribers(app, 'private:jobs', 1);
    await app.get(FlushHub).publish('private:jobs', 'done');
    const { status, items } = await reading;
    expect(status).toBe(200);
    expect(items).toEqual([{ id: expect.any(String), data: 'done' }]);
  });

  it('throws from stream() itself, synchronously, so nothing is subscribed', () => {
    const hub = app.get(FlushHub);
    expect(() => hub.stream('public')).toThrow(/skipAuthorization/);
    expect(() => hub.stream('public', { skipAuthorization: true })).not.toThrow();
  });
});
