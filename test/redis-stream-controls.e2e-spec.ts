// Issue 18 (1, 3) across instances: two applications on one real Redis share the caps, a
// revocation sent on one ends the streams on the other within a second, and the slots of an
// instance killed with SIGKILL stop counting within 30 s (leases lapse unless renewed).
import { expect } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { FlushHub } from '../src/index.js';
import { RedisFlushTransport } from '../src/redis.js';
import { parseSseStream } from '../src/testing/index.js';
import { controlsApp, userKey } from './fixtures/controls/controls.controller.js';
import { openStream, rawRequest, type OpenStream } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';
import { describeWithRedis, REDIS_URL } from './utils/redis-server.js';
import { waitFor } from './utils/wait.js';

const describeRedis = describeWithRedis('The cross-instance stream controls suite');
const as = (user: string) => ({ 'x-user': user });

const instanceOn = (platform: (typeof platforms)[number][0], prefix: string) =>
  startApp(platform, [
    controlsApp({
      streamKey: userKey,
      maxStreamsPerKey: 2,
      transport: new RedisFlushTransport({ url: REDIS_URL, keyPrefix: prefix, logger: false }),
    }),
  ]);

describeRedis.each(platforms)('stream controls across instances (%s)', platform => {
  let a: INestApplication;
  let b: INestApplication;
  let streams: OpenStream[] = [];
  const open = async (app: INestApplication, path: string, user: string) => {
    const stream = openStream(app, path, as(user));
    streams.push(stream);
    await stream.responded();
    return stream;
  };

  beforeAll(async () => {
    const prefix = `flush-controls:${randomUUID()}:`;
    a = await instanceOn(platform, prefix);
    b = await instanceOn(platform, prefix);
  });
  afterEach(() => {
    for (const stream of streams) stream.close();
    streams = [];
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('counts a key on every instance together; a slot freed on one is free on the other', async () => {
    const first = await open(a, '/controls/sse/news', 'u1');
    expect(first.status).toBe(200);
    expect((await open(b, '/controls/idle', 'u1')).status).toBe(200);
    for (const app of [a, b]) {
      const answer = await rawRequest(app, '/controls/sse/news', { headers: as('u1') });
      expect(answer.status).toBe(429);
      expect(answer.headers['retry-after']).toBe('5');
    }
    first.close();
    await waitFor(async () => (await open(b, '/controls/idle', 'u1')).status === 200, 'the slot');
  });

  it('ends the streams of a key on the other instance within a second', async () => {
    const onB = await open(b, '/controls/sse/news', 'u2');
    const alsoOnB = await open(b, '/controls/ndjson/news', 'u2');
    const otherKey = await open(b, '/controls/sse/news', 'u3');
    const sent = Date.now();
    await a.get(FlushHub).disconnect({ key: 'u2' });
    await waitFor(() => onB.ended && alsoOnB.ended, 'the revocation on the other instance', 1000);
    const tookMs = Date.now() - sent;
    expect(parseSseStream(onB.body).events.at(-1)).toMatchObject({ event: 'revoked' });
    expect(alsoOnB.body).toContain('{"revoked":{"reason":"disconnect"}}');
    expect(tookMs).toBeLessThan(1000);
    // Revocation by channel reaches the other instance too; other keys stayed until then.
    expect(otherKey.ended).toBe(false);
    await a.get(FlushHub).disconnect({ channel: 'news' });
    await waitFor(() => otherKey.ended, 'the channel revocation on the other instance', 1000);
  });
});

describeRedis('stream controls: an instance killed with SIGKILL', () => {
  const script = fileURLToPath(new URL('./fixtures/instance/instance.mjs', import.meta.url));
  const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  let child: ChildProcess | undefined;
  let app: INestApplication | undefined;

  afterAll(async () => {
    child?.kill('SIGKILL');
    await app?.close();
  });

  it('stops counting its streams within 30 s', async () => {
    if (!existsSync(built))
      throw new Error('Build the package first (npm run build): dist/ is missing.');
    const prefix = `flush-killed:${randomUUID()}:`;
    child = spawn(process.execPath, [script], {
      env: { ...process.env, REDIS_URL, FLUSH_KEY_PREFIX: prefix, FLUSH_MAX_STREAMS: '2' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child!.once('exit', code => reject(new Error(`instance exited (${code}) before listening`)));
    });
    const childUrl = `http://127.0.0.1:${port}`;
    const held = [
      openStream(childUrl, '/streams/news', as('k')),
      openStream(childUrl, '/streams/news', as('k')),
    ];
    for (const stream of held) {
      await stream.responded();
      expect(stream.status).toBe(200);
    }
    app = await instanceOn('express', prefix);
    expect((await rawRequest(app, '/controls/idle', { headers: as('k') })).status).toBe(429);

    child.kill('SIGKILL');
    await Promise.all(held.map(stream => stream.done));
    const killed = Date.now();
    const reopened: OpenStream[] = [];
    await waitFor(
      async () => {
        const stream = openStream(app!, '/controls/idle', as('k'));
        reopened.push(stream);
        await stream.responded();
        return stream.status === 200;
      },
      "the killed instance's slots to lapse",
      30_000,
      500,
    );
    for (const stream of reopened) stream.close();
    expect(Date.now() - killed).toBeLessThan(30_000);
  }, 45_000);
});
