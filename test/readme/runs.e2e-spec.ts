import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { parseSseStream } from 'nestjs-flush/testing';
import { rawRequest } from '../utils/http.js';
import { AnswersModule } from './runs.js';

describe('README: runs', () => {
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AnswersModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(() => app.close());

  it('runs an answer, replays it on attach, and answers 204 at its end', async () => {
    const started = parseSseStream((await rawRequest(app, '/answers/a1/start?prompt=hi')).body);
    expect(started.events.map(e => e.data).join('')).toBe('You asked: hi {"status":"completed"}');
    const attached = parseSseStream((await rawRequest(app, '/answers/a1')).body).events;
    expect(attached.at(-1)).toMatchObject({ event: 'end', data: '{"status":"completed"}' });
    const end = await rawRequest(app, '/answers/a1', {
      headers: { 'last-event-id': attached.at(-1)!.id! },
    });
    expect(end.status).toBe(204);
    expect((await rawRequest(app, '/answers/none')).status).toBe(404);
    expect((await rawRequest(app, '/answers/a1', { method: 'DELETE' })).status).toBe(200);
  });
});
