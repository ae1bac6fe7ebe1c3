import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FlushHub } from 'nestjs-flush';
import { readSse } from 'nestjs-flush/testing';
import { subscribers } from '../utils/hub.js';
import { LiveModule } from './tickets.js';

describe('README: stream tickets', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [LiveModule] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
    await app.listen(0);
  });

  afterAll(() => app.close());

  it('mints a ticket on the guarded route and opens the stream with it, once', async () => {
    const minted = await fetch(`${await app.getUrl()}/live/ticket`, {
      method: 'POST',
      headers: { 'x-user-id': '42' },
    });
    const { ticket } = (await minted.json()) as { ticket: string };

    const reading = readSse(app, `/live/42?ticket=${ticket}`, { count: 1 });
    await subscribers(app, 'users/42', 1);
    await app.get(FlushHub).publish('users/42', { unread: 3 });
    const { status, items } = await reading;
    expect(status).toBe(200);
    expect(items[0].data).toBe('{"unread":3}');

    const again = await readSse(app, `/live/42?ticket=${ticket}`, { count: 1 });
    expect(again.status).toBe(401);
    expect((await readSse(app, '/live/42', { count: 1 })).status).toBe(403);
  });
});
