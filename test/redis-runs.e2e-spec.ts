// Runs across instances (issue 19): two applications on one real Redis. A run started on one is
// followed on the other (the whole run, or the rest after a Last-Event-ID, exactly), cancelled
// from the other, expires there, is a 409 there while live; 30 concurrent runs with random
// disconnects and re-attaches lose and duplicate nothing; an instance running a producer that
// gets SIGTERM ends its run for the clients attached elsewhere.
import { expect } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { EventSource } from 'eventsource';
import { RedisFlushTransport } from '../src/redis.js';
import { baseUrl } from '../src/testing/index.js';
import { runProbe, runsApp, tokenText } from './fixtures/runs/runs.controller.js';
import { rawRequest } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';
import { describeWithRedis, REDIS_URL } from './utils/redis-server.js';
import { endOf, readRun, runText } from './utils/runs.js';
import { subscriberCount } from './utils/hub.js';
import { waitFor } from './utils/wait.js';

const describeRedis = describeWithRedis('The cross-instance runs suite');
const key = () => `k-${randomUUID()}`;

const instanceOn = (platform: (typeof platforms)[number][0], prefix: string) =>
  startApp(platform, [
    runsApp({
      maxRuns: 100,
      transport: new RedisFlushTransport({ url: REDIS_URL, keyPrefix: prefix, logger: false }),
    }),
  ]);

describeRedis.each(platforms)('runs across instances (%s)', platform => {
  let a: INestApplication;
  let b: INestApplication;

  beforeAll(async () => {
    const prefix = `flush-runs:${randomUUID()}:`;
    a = await instanceOn(platform, prefix);
    b = await instanceOn(platform, prefix);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('drop after N tokens on one instance, re-attach on the other: the text equals an uninterrupted run exactly', async () => {
    const k = key();
    const first = await readRun(a, `/runs/${k}/start?n=60&ms=5`, { stopAfterEvents: 7 });
    expect(runText(first.events)).toBe(tokenText(7));
    const rest = await readRun(b, `/runs/${k}`, { lastEventId: first.events.at(-1)!.id });
    expect(runText(first.events) + runText(rest.events)).toBe(tokenText(60));
    expect(endOf(rest.events)).toEqual({ status: 'completed' });
    // Without Last-Event-ID: the whole run, on either instance.
    for (const app of [a, b])
      expect(runText((await readRun(app, `/runs/${k}`)).events)).toBe(tokenText(60));
  });

  it('an EventSource on the other instance reads the whole run, then stops on the 204 at the end', async () => {
    const k = key();
    const starting = readRun(a, `/runs/${k}/start?n=30&ms=5`, { stopAfterEvents: 1 });
    await starting;
    const es = new EventSource(`${baseUrl(b)}/runs/${k}`);
    let text = '';
    let ends = 0;
    es.onmessage = (e: MessageEvent<string>) => (text += e.data);
    es.addEventListener('end', () => ends++);
    // The server ends the stream after `end`; the EventSource reconnects with the end's id,
    // gets 204 and closes for good.
    await waitFor(() => es.readyState === es.CLOSED, 'the EventSource to stop', 10_000);
    expect(text).toBe(tokenText(30));
    expect(ends).toBe(1);
  });

  it('cancel() from the other instance aborts the producer; every client sees end cancelled', async () => {
    const k = key();
    const starter = readRun(a, `/runs/${k}/forever`);
    await waitFor(() => runProbe.started.has(k), 'the producer');
    const follower = readRun(b, `/runs/${k}`);
    expect((await rawRequest(b, `/runs/${k}/cancel`, { method: 'POST' })).status).toBe(204);
    const [onA, onB] = await Promise.all([starter, follower]);
    expect(runProbe.aborted.has(k)).toBe(true);
    expect(endOf(onA.events)).toEqual({ status: 'cancelled' });
    expect(endOf(onB.events)).toEqual({ status: 'cancelled' });
    expect(runText(onB.events)).toBe(runText(onA.events));
  });

  it('a second run() of a live key on the other instance is a 409; the producer started once', async () => {
    const k = key();
    await readRun(a, `/runs/${k}/forever`, { stopAfterEvents: 1 });
    const second = await rawRequest(b, `/runs/${k}/start`);
    expect(second.status).toBe(409);
    expect(runProbe.started.get(k)).toBe(1);
    await rawRequest(b, `/runs/${k}/cancel`, { method: 'POST' });
    await waitFor(() => runProbe.aborted.has(k), 'the cancel');
  });

  it('expires ttlMs after the end on every instance: then 404, and the key is free', async () => {
    const k = key();
    const res = await readRun(a, `/runs/${k}/start?n=3&ms=0&ttl=300`);
    expect(endOf(res.events)).toEqual({ status: 'completed' });
    expect(runText((await readRun(b, `/runs/${k}`)).events)).toBe(tokenText(3));
    await waitFor(
      async () => (await rawRequest(b, `/runs/${k}`)).status === 404,
      'the expiry',
      5000,
    );
    expect((await rawRequest(a, `/runs/${k}`)).status).toBe(404);
    expect(endOf((await readRun(b, `/runs/${k}/start?n=1&ms=0`)).events)).toEqual({
      status: 'completed',
    });
  });

  it('30 concurrent runs with random disconnects and re-attaches on either instance lose and duplicate nothing', async () => {
    const total = 40;
    const keys = Array.from({ length: 30 }, key);
    const texts = await Promise.all(
      keys.map(async (k, i) => {
        const ids = new Set<string>();
        let text = '';
        const take = (events: { id?: string; data: string; event?: string }[]) => {
          for (const e of events) {
            if (e.id !== undefined) {
              if (ids.has(e.id)) throw new Error(`duplicate ${e.id} in ${k}`);
              ids.add(e.id);
            }
            if (e.event !== 'end') text += e.data;
          }
        };
        const apps = [a, b];
        let last: string | undefined;
        let ended = false;
        let res = await readRun(apps[i % 2], `/runs/${k}/start?n=${total}&ms=3`, {
          stopAfterEvents: 1 + Math.floor(Math.random() * 10),
        });
        for (let hop = 0; !ended; hop++) {
          take(res.events);
          last = res.events.at(-1)?.id ?? last;
          ended = res.events.some(e => e.event === 'end');
          if (ended) break;
          const app = apps[Math.floor(Math.random() * 2)];
          const drop = Math.random() < 0.5 && hop < 6;
          res = await readRun(app, `/runs/${k}`, {
            ...(last !== undefined && { lastEventId: last }),
            ...(drop && { stopAfterEvents: 1 + Math.floor(Math.random() * 10) }),
          });
          expect(res.status).toBe(200);
        }
        return text;
      }),
    );
    for (const text of texts) expect(text).toBe(tokenText(total));
  }, 60_000);
});

describeRedis('runs: SIGTERM of the instance running a producer', () => {
  const script = fileURLToPath(new URL('./fixtures/instance/runs-instance.mjs', import.meta.url));
  const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  let child: ChildProcess | undefined;
  let app: INestApplication | undefined;

  afterAll(async () => {
    child?.kill('SIGKILL');
    await app?.close();
  });

  it('aborts the producer, ends the run with failed for clients on other instances, and exits', async () => {
    if (!existsSync(built))
      throw new Error('Build the package first (npm run build): dist/ is missing.');
    const prefix = `flush-runs-term:${randomUUID()}:`;
    child = spawn(process.execPath, [script], {
      env: { ...process.env, REDIS_URL, FLUSH_KEY_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child!.once('exit', code => reject(new Error(`instance exited (${code}) before listening`)));
    });
    const exited = new Promise<string>(resolve =>
      child!.once('exit', (code, signal) => resolve(signal ?? String(code))),
    );
    const k = key();
    const childUrl = `http://127.0.0.1:${port}`;
    const starter = readRun(childUrl, `/runs/${k}/forever`);
    app = await instanceOn('express', prefix);
    // The run is live on the child before anything else asks for it here: an attach before its
    // start answers 404 (and is retried), and a run() probe before it would start the key here.
    let follower: Awaited<ReturnType<typeof readRun>> | undefined;
    await waitFor(async () => {
      follower = await readRun(app!, `/runs/${k}`, { stopAfterEvents: 3 });
      return follower.status === 200 && follower.events.length === 3;
    }, 'the run on the child');
    expect((await rawRequest(app, `/runs/${k}/start`)).status).toBe(409);
    const attached = readRun(app, `/runs/${k}`);
    await waitFor(() => subscriberCount(app!, `run:${k}`) > 0, 'the attached stream');
    child.kill('SIGTERM');
    const res = await attached;
    expect(endOf(res.events)).toEqual({
      status: 'failed',
      message: 'The instance running it shut down.',
    });
    // Nest's shutdown hooks close the app, then re-raise the signal: the process ends by it.
    expect(await exited).toBe('SIGTERM');
    expect(out).toContain('closed');
    await starter;
    // The run is over everywhere: its replay stays, ending the same way.
    const replay = await readRun(app, `/runs/${k}`);
    expect(runText(replay.events)).toBe(runText(res.events));
  });
});
